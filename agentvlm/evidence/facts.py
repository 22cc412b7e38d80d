"""Facts computed in code from evidence, worded so a small LLM can copy them.

Sub-billion-parameter LLMs cannot compare coordinates or count boxes reliably,
but they copy a sentence that already holds the answer. So counts, positions
and pairwise relations are computed here, deterministically, and phrased as
short sentences that cite evidence ids. Relations come from ``spatial``, the
engine evidence programs answer with, so facts and programs agree.

Conventions:
    * Boxes are ``xyxyn`` of the full image; y grows downward, so "above" means
      a smaller centre y.
    * Labels are shown as COCO class names (``canonical``), so a Darknet
      "sofa" and a "couch" count together.
    * Counts pluralize with ``vocabulary.plural``: "person" becomes "people",
      "scissors" and "skis" are counted in pairs.
    * Evidence without an ``id`` is named by its position in the list given:
      ``det{i}``, ``ocr{i}``, ``mask{i}``, ``stmt{i}`` (see ``evidence_ids``).
    * Pass one image's evidence at a time; ``verbalize`` does this per image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from agentvlm.evidence.spatial import larger, relations_between
from agentvlm.question.vocabulary import normal_label, plural
from agentvlm.types import Box, Evidence

__all__ = [
    "Fact",
    "compute_facts",
    "counts",
    "evidence_ids",
    "mask_position",
    "percent",
    "position_words",
    "relations",
]

MAX_POSITIONS_PER_CLASS = 5
MAX_RELATIONS = 12
SURE_SCORE = 0.5  # detections below this are counted apart, as uncertain
PRESENT_SCORE = 0.3  # the detector's default threshold: below it a detection is a recall pass's ghost
READ_SURE = 0.95  # least OCR score of a line an answer may rest on as read

_PREFIX = {"object": "det", "text": "ocr", "mask": "mask", "statement": "stmt"}
_WORDS = {"overlaps": "overlapping"}  # spatial relation -> the word relations() gives
_PHRASE = {"contains": "containing"}  # relations() word -> phrase after "A is ..."
_PAIRS = {"scissors", "skis"}
_Obj = tuple[str, Evidence]  # (id, object evidence)


class Fact(BaseModel):
    """A sentence computed from evidence, with the ids that support it.

    Attributes:
        text: The sentence, e.g. ``There are 2 people.``
        evidence: Ids of the evidence it was computed from (empty for "not detected").
        labels: The class names it is about, so callers can rank facts about the question first.
    """

    text: str
    evidence: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


def evidence_ids(evidence: Sequence[Evidence]) -> list[str]:
    """Each item's ``id``, or ``det3``-style from its kind and index in ``evidence`` when empty."""
    return [ev.id or f"{_PREFIX[ev.kind]}{i}" for i, ev in enumerate(evidence)]


def position_words(box: Box) -> str:
    """Where a box's centre falls in a 3x3 grid of thirds, e.g. ``top-left`` or ``center``.

    A centre exactly on a third line belongs to the middle cell.

    Example:
        >>> position_words(Box(x1=0.0, y1=0.0, x2=0.2, y2=0.2))
        'top-left'
    """
    cx, cy = box.center
    col = "left" if cx < 1 / 3 - 1e-9 else "right" if cx > 2 / 3 + 1e-9 else ""
    row = "top" if cy < 1 / 3 - 1e-9 else "bottom" if cy > 2 / 3 + 1e-9 else ""
    return "-".join(w for w in (row, col) if w) or "center"


def counts(evidence: Sequence[Evidence]) -> dict[str, int]:
    """Detections per class (objects only), most frequent first, ties by name.

    Example:
        >>> counts([Evidence(tool="t", kind="object", label="dog")])
        {'dog': 1}
    """
    tally: dict[str, int] = {}
    for ev in evidence:
        if ev.kind == "object" and ev.label:
            name = normal_label(ev.label)
            tally[name] = tally.get(name, 0) + 1
    return dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))


def relations(a: Evidence, b: Evidence, *, aspect: float = 1.0) -> list[str]:
    """Spatial words true of ``a`` relative to ``b`` ("a is left of b"), as facts phrase them.

    The relations ``spatial.relations_between`` reports (so each is one that
    ``spatial.relation_holds`` grants), worded ("left of", "on", "contains",
    "overlapping", "near"), then "larger than"/"smaller than" when the areas
    differ by ``spatial.LARGER``. ``aspect`` is the image's width over height;
    empty when either box is missing.

    Example:
        >>> left = Evidence(tool="t", kind="object", box=Box(x1=0.0, y1=0.4, x2=0.2, y2=0.6))
        >>> right = Evidence(tool="t", kind="object", box=Box(x1=0.6, y1=0.4, x2=0.8, y2=0.6))
        >>> relations(left, right)
        ['left of']
    """
    if a.box is None or b.box is None:
        return []
    words = [
        _WORDS.get(r, r.replace("_", " ")) for r in relations_between(a.box, b.box, aspect=aspect)
    ]
    if larger(a.box, b.box):
        words.append("larger than")
    elif larger(b.box, a.box):
        words.append("smaller than")
    return words


def compute_facts(
    evidence: Sequence[Evidence],
    *,
    targets: Sequence[str] = (),
    with_relations: bool = True,
    sure_score: float = SURE_SCORE,
    aspect: float = 1.0,
) -> list[Fact]:
    """Counts, positions, relations among targets, and mask areas, facts about ``targets`` first.

    Order: for each target class, its count (or "No dog was detected.") and up
    to ``MAX_POSITIONS_PER_CLASS`` positions; then up to ``MAX_RELATIONS``
    relations between target objects (different classes before same class,
    higher-scored then nearer pairs first, in the question's order of
    classes); then target masks; then the same for the other classes, most
    frequent first. Instances are numbered left to right: ``person #1`` is the
    leftmost person.

    Counts name only detections scored at least ``sure_score``; weaker ones are
    mentioned apart ("plus 1 uncertain"), because a detector run at a low
    threshold for recall double-counts, and a small LLM copies the first number.
    ``with_relations=False`` leaves out pairwise relations, which only help
    spatial questions and cost many tokens. ``aspect`` (the image's width over
    height) is the one evidence programs judge directions with; pass it so the
    facts agree with them on non-square images.

    Example:
        >>> bus = Evidence(id="det0", tool="t", kind="object", label="bus",
        ...                box=Box(x1=0.4, y1=0.4, x2=0.6, y2=0.6))
        >>> [f.text for f in compute_facts([bus], targets=["bus", "dog"])]
        ['There is 1 bus.', 'bus #1 (det0) is at the center.', 'No dog was detected.']
    """
    ids = evidence_ids(evidence)
    wanted = list(dict.fromkeys(normal_label(t) for t in targets))
    by_class: dict[str, list[_Obj]] = {}
    objects = [(i, ev) for i, ev in enumerate(evidence) if ev.kind == "object" and ev.label]
    for i, ev in sorted(objects, key=lambda p: (_cx(p[1]), _cy(p[1]), ids[p[0]])):
        by_class.setdefault(normal_label(ev.label or ""), []).append((ids[i], ev))
    names = {
        i: f"{label} #{k} ({i})"
        for label, objs in by_class.items()
        for k, (i, _) in enumerate(objs, 1)
    }
    masks = [(ids[i], ev) for i, ev in enumerate(evidence) if ev.kind == "mask"]
    mask_labels = {normal_label(ev.label or "object") for _, ev in masks}

    def class_facts(label: str) -> list[Fact]:
        objs = by_class.get(label, [])
        if not objs:
            return (
                []
                if label in mask_labels
                else [Fact(text=f"No {label} was detected.", labels=[label])]
            )
        sure = [i for i, ev in objs if ev.score is None or ev.score >= sure_score]
        unsure = len(objs) - len(sure)
        if sure:
            text = _count_sentence(label, len(sure))
        else:
            text = f"No {label} was detected with confidence."
        if unsure:
            text = text[:-1] + f" (plus {unsure} uncertain detection{'s' if unsure > 1 else ''})."
        out = [Fact(text=text, evidence=sure or [i for i, _ in objs], labels=[label])]
        for i, ev in objs[:MAX_POSITIONS_PER_CLASS]:
            if ev.box is not None:
                text = f"{names[i]} is at the {position_words(ev.box)}."
                out.append(Fact(text=text, evidence=[i], labels=[label]))
        return out

    def mask_facts(about_targets: bool) -> list[Fact]:
        labelled = [(i, normal_label(ev.label or "object"), ev) for i, ev in masks]
        return [
            Fact(text=_mask_sentence(i, label, ev), evidence=[i], labels=[label])
            for i, label, ev in labelled
            if (label in wanted) == about_targets
        ]

    facts = [f for label in wanted for f in class_facts(label)]
    if with_relations:
        facts += _relation_facts(wanted, by_class, names, aspect)
    facts += mask_facts(True)
    facts += [f for label in counts(evidence) if label not in wanted for f in class_facts(label)]
    return facts + mask_facts(False)


def _relation_facts(
    wanted: list[str], by_class: dict[str, list[_Obj]], names: dict[str, str], aspect: float
) -> list[Fact]:
    """Relations between target objects, best pairs first, at most ``MAX_RELATIONS``."""
    groups = [
        [(a, b) for a in by_class.get(la, []) for b in by_class.get(lb, [])]
        for n, la in enumerate(wanted)
        for lb in wanted[n + 1 :]
    ]
    for label in wanted:
        objs = by_class.get(label, [])
        groups.append([(x, y) for n, x in enumerate(objs) for y in objs[n + 1 :]])

    def rank(pair: tuple[_Obj, _Obj]) -> tuple[float, float, str, str]:
        (ia, a), (ib, b) = pair
        dist = math.dist((_cx(a), _cy(a)), (_cx(b), _cy(b)))
        return (-min(a.score or 0.0, b.score or 0.0), round(dist, 9), ia, ib)

    out: list[Fact] = []
    for group in groups:
        for (ia, a), (ib, b) in sorted(group, key=rank):
            words = relations(a, b, aspect=aspect)
            if words and len(out) < MAX_RELATIONS:
                text = f"{names[ia]} is {_join([_PHRASE.get(w, w) for w in words])} {names[ib]}."
                labels = list(dict.fromkeys([normal_label(a.label or ""), normal_label(b.label or "")]))
                out.append(Fact(text=text, evidence=[ia, ib], labels=labels))
    return out


def _cx(ev: Evidence) -> float:
    return ev.box.center[0] if ev.box else 2.0  # boxless objects sort last


def _cy(ev: Evidence) -> float:
    return ev.box.center[1] if ev.box else 2.0


def _count_sentence(label: str, n: int) -> str:
    if label in _PAIRS:
        noun = f"{n} pair of {label}" if n == 1 else f"{n} pairs of {label}"
    else:
        noun = f"1 {label}" if n == 1 else f"{n} {plural(label)}"
    return f"There {'is' if n == 1 else 'are'} {noun}."


def _mask_sentence(id_: str, label: str, ev: Evidence) -> str:
    where, area = mask_position(ev), ev.attributes.get("area")
    head = f"The {label} mask ({id_})"
    if isinstance(area, (int, float)):
        covers = f"{head} covers {percent(float(area))} of the image"
        return f"{covers}, at the {where}." if where else f"{covers}."
    return f"{head} is at the {where}." if where else f"{head} was found."


def mask_position(ev: Evidence) -> str:
    """Position words of a mask's ``centroid`` attribute, else of its box, else ``""``."""
    centroid = ev.attributes.get("centroid")
    if isinstance(centroid, (list, tuple)) and len(centroid) == 2:
        cx, cy = (min(max(float(v), 0.0), 1.0) for v in centroid)
        return position_words(Box(x1=cx, y1=cy, x2=cx, y2=cy))
    return position_words(ev.box) if ev.box is not None else ""


def percent(share: float) -> str:
    """A share in [0, 1] as a whole percentage, half up; ``<1%`` for tiny non-zero shares."""
    if 0 < share < 0.005:
        return "<1%"
    return f"{int(min(max(share, 0.0), 1.0) * 100 + 0.5)}%"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
