"""Run a ``Program`` on structured evidence (boxes, labels, scores, masks, OCR lines), never on text.

Each operation returns a ``Result`` that names the evidence ids supporting it,
so the answer can cite them. Conventions: boxes are ``xyxyn`` with y growing
downward; when a class has several instances, the most confident one stands for
"the X" (ties: the leftmost); ``count`` and ``exists`` only trust detections
scored at least ``SURE`` (``PRESENT`` for exists), because recall passes run the detector at a low
threshold that also finds ghosts. Relations and sizes are judged by ``agentvlm.evidence.spatial``,
the engine the facts are worded from, so a program never denies what a fact states.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentvlm.evidence.colors import color_name, dominant_color, ink_color, region_color
from agentvlm.evidence.facts import PRESENT_SCORE, SURE_SCORE, position_words
from agentvlm.evidence.spatial import TOUCH, gap, iou, larger, relation_holds
from agentvlm.programs.language import Program
from agentvlm.question.analysis import TEXT_BEARING
from agentvlm.question.vocabulary import canonical, label_of, labels_in
from agentvlm.types import Box, Evidence, ImageRef

__all__ = [
    "INK", "PICTURE", "PRESENT", "SURE", "TEXT_TARGETS", "Result", "execute", "find", "iou", "relation_holds", "resolve", "text_regions",
]

SURE = SURE_SCORE  # least score a detection needs to be counted
PRESENT = PRESENT_SCORE  # least score for "exists" (the detector's default threshold)
SAME = 0.6  # IoU above which two same-class boxes from different passes are one object
TEXT_TARGETS = frozenset({"text", "sign", "signs", "label", "words", "writing", "title", "number", "caption", "it", ""})
PICTURE = ("picture", "background")  # colour targets that name the picture itself, not a thing in it
INK = frozenset({"text", "letter", "letters", "word", "words", "writing", "lettering", "character", "characters", "font"})
_REGIONS: dict[str, Box] = {
    "left": Box(x1=0.0, y1=0.0, x2=0.5, y2=1.0),
    "right": Box(x1=0.5, y1=0.0, x2=1.0, y2=1.0),
    "top": Box(x1=0.0, y1=0.0, x2=1.0, y2=0.5),
    "bottom": Box(x1=0.0, y1=0.5, x2=1.0, y2=1.0),
}


@dataclass(frozen=True)
class Result:
    """What a program computed.

    Attributes:
        value: ``bool`` for yes/no operations, ``int`` for counts, ``str`` otherwise;
            ``None`` when the evidence cannot decide.
        evidence: Ids of the evidence the value rests on.
        detail: One sentence saying how, for the trace ("car det2 is below cat det0").
        missing: Classes the program needed and the evidence lacks.
    """

    value: bool | int | str | None
    evidence: list[str] = field(default_factory=list)
    detail: str = ""
    missing: list[str] = field(default_factory=list)


def resolve(phrase: str) -> str | None:
    """The detector class a phrase names ("men" -> "person"), ``"text"`` for text, else ``None``.

    Example:
        >>> resolve("Sofas"), resolve("the red car"), resolve("sign"), resolve("unicorn")
        ('couch', 'car', 'text', None)
    """
    p = phrase.strip().lower()
    if p in TEXT_TARGETS:
        return "text"
    return canonical(p) or next(iter(labels_in(p)), None)


def find(evidence: Sequence[Evidence], label: str, *, region: str = "image", min_score: float = 0.0) -> list[Evidence]:
    """Objects of class ``label``, most confident first (ties leftmost), duplicates across passes merged.

    Example:
        >>> dog = Evidence(id="det0", tool="t", kind="object", label="dog", score=0.9,
        ...                box=Box(x1=0.1, y1=0.1, x2=0.3, y2=0.3))
        >>> [e.id for e in find([dog], "dog")], find([dog], "dog", region="right")
        (['det0'], [])
    """
    area = _REGIONS.get(region)
    hits = [
        e for e in evidence
        if e.kind == "object" and e.label and label_of(e) == label
        and (e.score is None or e.score >= min_score) and e.box is not None
        and (area is None or area.x1 <= e.box.center[0] <= area.x2 and area.y1 <= e.box.center[1] <= area.y2)
    ]  # fmt: skip
    hits.sort(key=lambda e: (-(e.score if e.score is not None else 1.0), e.box.center[0] if e.box else 0.0, e.id))
    kept: list[Evidence] = []
    for e in hits:
        if all(e.box is None or k.box is None or iou(e.box, k.box) < SAME for k in kept):
            kept.append(e)
    return kept


def _ids(objs: Sequence[Evidence]) -> list[str]:
    return [e.id for e in objs]


def _number(value: str) -> int | None:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    v = value.strip().lower()
    return int(v) if v.isdigit() else words.index(v) if v in words else None


def execute(program: Program, evidence: Sequence[Evidence], *, images: Sequence[ImageRef] = ()) -> Result:
    """Run ``program`` on ``evidence``; ``images`` give ``color`` its pixels and ``relation`` its aspect ratio.

    Example:
        >>> ev = [Evidence(id="det0", tool="t", kind="object", label="dog", score=0.9,
        ...                box=Box(x1=0.1, y1=0.1, x2=0.3, y2=0.3))]
        >>> p = Program(op="count", target="dogs", other="", relation="none", attribute="none", value="", answer="number")
        >>> execute(p, ev).value
        1
    """
    a = resolve(program.target)
    if program.op == "read":
        return _read(program, evidence, a)
    if program.op == "color" and (program.target in PICTURE or a == "text" or program.target in TEXT_BEARING | INK):
        return _measured_colour(program, evidence, list(images))
    if "text" in (a, resolve(program.other)):  # a sign, a menu: the text blocks read on it stand for it
        evidence = [*evidence, *text_regions(evidence)]
    if program.op == "count" and a == "text" and program.value in _UNITS:
        return _count_text(program, evidence)
    if a is None or a == "text" and program.op in ("count", "color"):
        return Result(None, detail=f"'{program.target}' is not something the detector can find", missing=[program.target])
    if program.op == "exists":
        present = find(evidence, a, min_score=PRESENT)
        return Result(bool(present), _ids(present), f"{len(present)} {a} detected")
    if program.op == "count":
        sure = find(evidence, a, min_score=SURE)
        n = len(sure)
        want = _number(program.value)
        if program.answer == "yes_no" and want is not None:
            return Result(n == want, _ids(sure), f"{n} {a} detected, asked about {want}")
        return Result(n, _ids(sure), f"{n} {a} detected")
    objs = find(evidence, a)
    if not objs:
        return Result(None, detail=f"no {a} detected", missing=[a])
    first = objs[0]
    if program.op in ("find", "position"):
        where = [position_words(e.box) for e in objs if e.box]
        if "|" in program.value and first.box is not None:  # "on the left or the right?": the nearer side
            sides = program.value.split("|")
            x, y = first.box.center
            vertical = any(s in ("top", "bottom") for s in sides)
            side = ("top" if y < 0.5 else "bottom") if vertical else ("left" if x < 0.5 else "right")
            return Result(side if side in sides else None, [first.id], f"{a} {first.id} centre at ({x:.2f}, {y:.2f})")
        if program.value:
            hit = [e for e in objs if e.box and program.value.lower() in position_words(e.box)]
            return Result(bool(hit), _ids(hit or objs[:1]), f"{a} at {', '.join(where)}")
        text = where[0] if program.op == "position" else f"{len(objs)} {a} at {', '.join(where)}"
        return Result(text, _ids(objs), f"{a} at {', '.join(where)}")
    if program.op == "color":
        mask = next((e for e in evidence if e.kind == "mask" and e.attributes.get("prompt") == first.id), None)
        colour = dominant_color(first, list(images), mask=mask)
        if colour is None:
            return Result(None, [first.id], "no pixels to name a colour from")
        return _colour(program, colour, [first.id], f"{a} {first.id}")
    b = resolve(program.other)
    if b is None:
        return Result(None, [first.id], f"'{program.other}' is not something the detector can find", missing=[program.other or "?"])
    others = [e for e in find(evidence, b) if e.id != first.id]
    if not others:
        return Result(None, [first.id], f"no {b} detected", missing=[b])
    second = others[0]
    assert first.box is not None and second.box is not None  # find keeps boxed objects only
    if program.op == "relation":
        image = images[first.image] if first.image < len(images) else None
        aspect = image.width / image.height if image is not None else 1.0
        holds = relation_holds(first.box, second.box, program.relation, aspect=aspect)
        verb = "is" if holds else "is not"
        return Result(holds, [first.id, second.id], f"{a} {first.id} {verb} {program.relation} {b} {second.id}")
    return _compare(program, evidence, a, b, first, second)


def _colour(program: Program, colour: str, ids: list[str], what: str) -> Result:
    """A colour measured on ``what``, as the answer or checked against the colour a yes/no question names."""
    want = color_name(program.value) if program.value else None
    if program.answer == "yes_no" and want:
        return Result(colour == want, ids, f"{what} looks {colour}")
    return Result(colour, ids, f"{what} looks {colour}")


def _measured_colour(program: Program, evidence: Sequence[Evidence], images: list[ImageRef]) -> Result:
    """The colour of the picture itself, of its background, of the ink text is written in, or of the
    thing that carries the text (a sign: its text blocks' colour); ``None`` when nothing was measured."""
    if program.target in PICTURE:
        colour = region_color(images[0], program.target) if images else None
        if colour is None:
            return Result(None, detail=f"no one colour covers the {program.target}", missing=[program.target])
        return _colour(program, colour, [], f"the {program.target}")
    lines = [e for e in evidence if e.kind == "text" and e.text and e.box is not None]
    if not lines:
        return Result(None, detail="no text was read", missing=["text"])
    if program.target.strip().lower() in INK:
        colour = ink_color(lines, images)
        what = "the text"
    else:
        blocks = text_regions(lines)
        best = max(blocks, key=lambda b: (len(b.text or ""), b.score or 0.0)) if blocks else None
        colour = dominant_color(best, images) if best is not None else None
        what = f"the {program.target} (its text block)"
    if colour is None:
        return Result(None, detail=f"no colour measured on {what}", missing=[program.target])
    return _colour(program, colour, _ids(lines), what)


def _compare(program: Program, evidence: Sequence[Evidence], a: str, b: str, first: Evidence, second: Evidence) -> Result:
    assert first.box is not None and second.box is not None
    if program.attribute == "count":
        na, nb = len(find(evidence, a, min_score=SURE)), len(find(evidence, b, min_score=SURE))
        winner = a if na > nb else b if nb > na else None
        detail = f"{na} {a} vs {nb} {b}"
    elif program.attribute == "position":
        winner = a if first.box.center[0] < second.box.center[0] else b
        detail = f"{winner} is further left"
    elif program.attribute == "depth":  # on a ground plane the lower bottom edge is nearer the camera
        winner = a if first.box.y2 > second.box.y2 else b if second.box.y2 > first.box.y2 else None
        detail = f"{a} bottom edge {first.box.y2:.2f} vs {b} {second.box.y2:.2f}"
    else:
        winner = a if larger(first.box, second.box) else b if larger(second.box, first.box) else None
        detail = f"{a} area {first.box.area:.3f} vs {b} area {second.box.area:.3f}"
    ids = [first.id, second.id]
    flip = program.value.lower() in ("smaller", "smallest", "fewer", "fewest", "less", "least", "right", "lower",
                                         "shorter", "shortest", "further", "farther", "tinier")
    if program.answer == "yes_no":
        return Result(None if winner is None else (winner == a) != flip, ids, detail)
    if flip and winner is not None:  # "Which is smaller?": the one that is not larger
        winner = b if winner == a else a
    return Result(winner, ids, detail)


def text_regions(evidence: Sequence[Evidence]) -> list[Evidence]:
    """One ``text`` object per block of OCR lines (a sign, a label), boxed by the union of its lines.

    Things that carry writing have no detector class; the text read on them marks
    where they are, so "Is the sign above the cup?" has two boxes to compare.
    """
    from agentvlm.evidence.verbalize import text_blocks

    out = []
    for _, rows in text_blocks([e for e in evidence if e.kind == "text" and e.text and e.box is not None]):
        lines = [e for row in rows for e in row if e.box is not None]
        if not lines:
            continue
        boxes = [e.box for e in lines if e.box is not None]
        box = Box.enclosing(boxes)
        score = sum(e.score if e.score is not None else 1.0 for e in lines) / len(lines)
        out.append(Evidence(id=lines[0].id, tool=lines[0].tool, kind="object", label="text", box=box, score=min(score, 1.0),
                            image=lines[0].image, text=" ".join((e.text or "").strip() for e in lines)))
    return out


_TIME_RE = re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*h\b", re.IGNORECASE)


_RANGE_RE = re.compile(rf"(?P<start>{_TIME_RE.pattern})\s*(?:-|–|—|to|until|till)\s*(?P<end>{_TIME_RE.pattern})", re.IGNORECASE)
_CLOSES_RE = re.compile(rf"\b(?:clos(?:e|es|ed|ing)|shuts?|until|till)\b\W*(?:at\s+)?(?P<end>{_TIME_RE.pattern})", re.IGNORECASE)


def _time(end: bool, lines: Sequence[Evidence]) -> Result:
    """A time read: the start of the first range ("7AM-3PM") or its ``end`` when the question asks a closing time.

    Without a range, the first time read answers an opening question; a closing one takes a
    time the text says it closes at, else nothing decides it (a lone time may be the opening).
    """
    read = [(m, e) for e in lines for m in _RANGE_RE.finditer(e.text or "")]
    if read:
        m, e = read[0]
        return Result(m.group("end" if end else "start").strip(), [e.id], f"range read: {m.group(0)!r}")
    if end:
        closes = [(m, e) for e in lines for m in _CLOSES_RE.finditer(e.text or "")]
        if closes:
            return Result(closes[0][0].group("end").strip(), [closes[0][1].id], f"closing time read: {closes[0][0].group(0)!r}")
        return Result(None, detail="no range or closing time was read", missing=["closing time"])
    times = [(m.group(0), e) for e in lines for m in _TIME_RE.finditer(e.text or "")]
    if times:
        return Result(times[0][0].strip(), [times[0][1].id], f"times read: {', '.join(t for t, _ in times)}")
    return Result(None, detail="no time was read", missing=["time"])


_UNITS = {"letter": r"[^\W\d_]", "word": r"[^\W_]+(?:['-][^\W_]+)*", "digit": r"\d", "line": r"^"}


def _count_text(program: Program, evidence: Sequence[Evidence]) -> Result:
    """Letters, words, digits or lines in the largest block of text read (the sign's, not a stray word's)."""
    blocks = text_regions(evidence)
    if not blocks:
        return Result(None, detail="no text was read", missing=["text"])
    best = max(blocks, key=lambda b: (len(b.text or ""), b.score or 0.0))
    text = best.text or ""
    lines = [e for e in evidence if e.kind == "text" and e.box is not None and best.box is not None and best.box.intersection(e.box) > 0]
    n = len(lines) if program.value == "line" else len(re.findall(_UNITS[program.value], text))
    return Result(n, [e.id for e in lines], f"{n} {program.value}s in {text[:60]!r}")


def _read(program: Program, evidence: Sequence[Evidence], target: str | None) -> Result:
    lines = [e for e in evidence if e.kind == "text" and e.text]
    if program.value in ("time", "end time") and program.answer == "text":  # "What time does it open?": the times read, not the sign
        return _time(program.value == "end time", lines)
    if program.value == "number" and program.answer == "text":  # "What's the number on the label?": the line of digits
        digits = [(len(re.findall(r"\d", e.text or "")), e) for e in lines]
        best = max(digits, key=lambda d: d[0], default=(0, None))
        if best[1] is not None and best[0] >= 2:
            return Result((best[1].text or "").strip(), [best[1].id], f"the line with most digits: {best[1].text!r}")
    if target not in (None, "text"):  # read near an object: lines whose centre falls in or near its box
        objs = find(evidence, target)
        if objs and objs[0].box is not None:
            box = objs[0].box
            lines = [e for e in lines if e.box is not None and gap(e.box, box) <= TOUCH]
    if not lines:
        return Result(None, detail="no text was read", missing=["text"])
    if target in (None, "text") and program.answer != "yes_no":  # the largest block: the sign, not a stray word
        blocks = text_regions(lines)
        if blocks:
            best = max(blocks, key=lambda b: (len(b.text or ""), b.score or 0.0))
            ids = [e.id for e in lines if e.box is not None and best.box is not None and best.box.intersection(e.box) > 0]
            if program.answer == "text" and best.text:  # the block's rows in reading order
                return Result(best.text.strip(), ids, f"read: {best.text[:80]}")
            lines = [e for e in lines if e.id in ids] or lines
    lines.sort(key=lambda e: (round(e.box.center[1], 2) if e.box else 0.0, e.box.center[0] if e.box else 0.0))
    text = " ".join((e.text or "").strip() for e in lines).strip()
    if program.answer == "yes_no" and program.value:
        return Result(program.value.lower() in text.lower(), _ids(lines), f"read: {text[:80]}")
    return Result(text, _ids(lines), f"read: {text[:80]}")
