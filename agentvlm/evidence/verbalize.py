"""Turn evidence into a compact prompt section a small LLM reads within a token budget.

A 0.5B LLM reads ~175 prompt tokens/s on two cores and copies far better than it
computes, so the text leads with computed facts, then MoAI-style object lines
(``person [0.12, 0.30, 0.45, 0.98] 0.87``), OCR rows, masks and statements. Over
budget, lines go by ``_Tier``, facts about the question's targets last of all.
Deterministic: sorts have total keys, floats fixed decimals, no set-order output.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from pydantic import BaseModel

from agentvlm.evidence.facts import (
    compute_facts,
    evidence_ids,
    mask_position,
    percent,
    position_words,
)
from agentvlm.question import Question, analyze
from agentvlm.question.vocabulary import label_of, normal_label
from agentvlm.types import Box, Evidence
from agentvlm.untrusted import clean, redact_lines

__all__ = ["Verbalized", "estimate_tokens", "text_blocks", "verbalize"]

# Llama and Qwen BPE average 3.5-4 characters per token on this mix of English
# words, digits and punctuation; 3.5 errs toward overestimating, needs no tokenizer.
CHARS_PER_TOKEN = 3.5
MAX_OBJECTS_PER_CLASS = 8
MAX_ITEM_CHARS = 80  # one OCR line, cut with "..."
MAX_BLOCK_CHARS = 240  # one OCR block (rows joined with " / ")
ROW_TOLERANCE = 0.5  # same row: centres differ by at most this share of the shorter line's height
BLOCK_GAP = 1.0  # same block: gap between rows at most this share of the shorter row's height
_SECTIONS = ("Facts", "Objects", "Text", "Masks", "Statements")
_STOPWORDS = frozenset((
    "the", "and", "what", "which", "who", "whose", "where", "when", "why", "how", "does", "did",
    "are", "was", "were", "this", "that", "these", "there", "their", "its", "with", "from", "for",
    "into", "onto", "about", "image", "picture", "photo", "say", "says", "said", "written", "read",
    "text", "sign", "many", "much", "any", "some", "can", "you", "see", "shown", "word", "words",
))  # fmt: skip


class _Tier(IntEnum):
    """Keep order under the budget: lower tiers stay longer."""

    TARGET_FACT = 0
    TARGET_ITEM = 1  # objects and masks of the question's classes
    TEXT_MATCH = 2  # OCR rows sharing a word with the question
    STATEMENT = 3
    TEXT_ASKED = 4  # other OCR rows when the question asks for text
    OTHER_FACT = 5
    OTHER_ITEM = 6
    TEXT = 7  # OCR rows when the question is not about text


class Verbalized(BaseModel):
    """Evidence as prompt text.

    Attributes:
        text: The sections, one short item per line.
        evidence_ids: Ids shown in ``text`` (on their own line or named in a fact), in order.
        tokens: ``estimate_tokens(text)``.
        truncated: Evidence items left out by the budget or the per-class cap.
    """

    text: str
    evidence_ids: list[str]
    tokens: int
    truncated: int


@dataclass(frozen=True)
class _Line:
    image: int
    section: str
    text: str
    tier: int
    ids: tuple[str, ...]
    rank: int  # lines of the same image and tier before this one


def estimate_tokens(text: str) -> int:
    """Tokens ``text`` will take: ``ceil(len / 3.5)``, no tokenizer, close for Llama/Qwen BPE."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def verbalize(
    evidence: Sequence[Evidence],
    *,
    question: str | Question,
    targets: Sequence[str] = (),
    budget_tokens: int = 400,
    image_count: int = 1,
) -> Verbalized:
    """Render evidence as compact sections within ``budget_tokens``, the question's classes first.

    Args:
        evidence: Everything the tools found, for all images.
        question: Ranks OCR rows that share its words, and, when ``targets`` is
            empty, supplies them through ``labels_in``.
        targets: Class names the question is about (synonyms are accepted).
        budget_tokens: Upper bound on ``estimate_tokens`` of the result.
        image_count: With more than one image, each gets an ``Image N:`` heading.

    Example:
        >>> bus = Evidence(id="det0", tool="t", kind="object", label="bus", score=0.9,
        ...                box=Box(x1=0.1, y1=0.2, x2=0.9, y2=0.8))
        >>> print(verbalize([bus], question="Is there a bus?").text)
        Facts:
        There is 1 bus.
        bus #1 (det0) is at the center.
        Objects:
        bus [0.10, 0.20, 0.90, 0.80] 0.90
    """
    if budget_tokens < 1:
        raise ValueError(f"budget_tokens must be at least 1, got {budget_tokens}")
    if image_count < 1:
        raise ValueError(f"image_count must be at least 1, got {image_count}")
    named = [normal_label(t) for t in targets]
    analysis = question if isinstance(question, Question) else analyze(question)
    wanted = list(dict.fromkeys(named)) or analysis.labels
    ids = evidence_ids(evidence)
    items = [ev.model_copy(update={"id": id_}) for ev, id_ in zip(evidence, ids)]
    images = sorted({ev.image for ev in items} | set(range(image_count)))
    per_image = [
        _image_lines(i, [e for e in items if e.image == i], analysis, wanted) for i in images
    ]
    lines = [line for new, _ in per_image for line in new]
    capped = sum(n for _, n in per_image)
    # Keep order: lowest tier first, then each image's lines in turn; drop from the end.
    order = sorted(
        range(len(lines)), key=lambda i: (lines[i].tier, lines[i].rank, lines[i].image, i)
    )
    multi = len(images) > 1

    def render(keep: int) -> str:
        kept = set(order[:keep])
        chosen = [ln for i, ln in enumerate(lines) if i in kept]
        return _render(chosen, images, multi, len(lines) - keep + capped, text_first=analysis.text_need == "needed")

    keep = len(lines)
    if estimate_tokens(render(keep)) > budget_tokens:
        lo, hi = 0, len(lines) - 1  # find the most lines that fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if estimate_tokens(render(mid)) <= budget_tokens else (lo, mid - 1)
        keep = lo
    text = render(keep)
    kept_set = set(order[:keep])
    shown: list[str] = []
    for i, line in enumerate(lines):
        if i in kept_set:
            named = [id_ for id_ in line.ids if line.section != "Facts" or f"({id_})" in line.text]
            shown += [id_ for id_ in named if id_ not in shown]
    truncated = sum(1 for id_ in ids if id_ not in shown)
    return Verbalized(
        text=text, evidence_ids=shown, tokens=estimate_tokens(text), truncated=truncated
    )


def _relational(question: Question) -> bool:
    """Whether pairwise relations between objects may decide the question."""
    return question.relation is not None or question.position is not None or question.form in ("position", "compare", "alternative")


def _image_lines(
    image: int, evidence: list[Evidence], question: Question, wanted: list[str]
) -> tuple[list[_Line], int]:
    """One image's candidate lines in display order, and how many objects the class cap dropped."""
    out: list[_Line] = []
    per_tier: dict[int, int] = {}

    def add(section: str, text: str, tier: int, ids: Sequence[str] = ()) -> None:
        per_tier[tier] = per_tier.get(tier, -1) + 1
        out.append(_Line(image, section, text, tier, tuple(ids), per_tier[tier]))

    for fact in compute_facts(evidence, targets=wanted, with_relations=_relational(question)):
        about = any(label in wanted for label in fact.labels)
        add("Facts", fact.text, _Tier.TARGET_FACT if about else _Tier.OTHER_FACT, fact.evidence)

    first = {label: i for i, label in enumerate(wanted)}

    def object_key(ev: Evidence) -> tuple[int, float, str]:
        return (first.get(label_of(ev, "object"), len(first)), -(ev.score or 0.0), ev.id)

    objects = sorted((ev for ev in evidence if ev.kind == "object" and ev.label), key=object_key)
    per_class: dict[str, int] = {}
    capped = 0
    for ev in objects:
        label = label_of(ev, "object")
        per_class[label] = per_class.get(label, 0) + 1
        if per_class[label] > MAX_OBJECTS_PER_CLASS:
            capped += 1
            continue
        coords = " [" + ", ".join(f"{v:.2f}" for v in ev.box.xyxyn) + "]" if ev.box else ""
        score = f" {ev.score:.2f}" if ev.score is not None else ""
        tier = _Tier.TARGET_ITEM if label in wanted else _Tier.OTHER_ITEM
        add("Objects", f"{label}{coords}{score}", tier, [ev.id])

    words = {w for w in _words(question.text) if len(w) > 2 and w not in _STOPWORDS}
    plain = _Tier.TEXT_ASKED if question.text_need == "needed" else _Tier.TEXT
    for where, block in text_blocks(_redacted_text(evidence)):
        # A sign's lines belong together: one line per block, rows joined with " / ",
        # boxes within a row with " | ", so a small LLM can copy the whole sign.
        for chunk in _chunks(block):
            rows = [" | ".join(_cut(ev.text or "") for ev in row) for row in chunk]
            joined = json.dumps(clean(" / ".join(rows)), ensure_ascii=False)
            members = [ev for row in chunk for ev in row]
            hit = words & _words(" ".join(ev.text or "" for ev in members))
            tier = _Tier.TEXT_MATCH if hit else plain
            add("Text", f"[{where}] {joined}" if where else joined, tier, [ev.id for ev in members])

    for ev in (ev for ev in evidence if ev.kind == "mask"):
        label, area, where = label_of(ev, "object"), ev.attributes.get("area"), mask_position(ev)
        what = (
            f"{label} covers {percent(float(area))}"
            if isinstance(area, (int, float))
            else f"{label} mask"
        )
        tier = _Tier.TARGET_ITEM if label in wanted else _Tier.OTHER_ITEM
        add("Masks", f"{what} at {where}" if where else what, tier, [ev.id])

    for ev in evidence:
        if ev.kind == "statement" and ev.text:
            add("Statements", clean(" ".join(ev.text.split())), _Tier.STATEMENT, [ev.id])
    return out, capped


def _redacted_text(evidence: Sequence[Evidence]) -> list[Evidence]:
    """OCR lines with instructions to the model redacted, also those split over lines (top to bottom)."""
    lines = [ev for ev in evidence if ev.kind == "text" and ev.text]
    order = sorted(range(len(lines)), key=lambda i: (lines[i].image, _box(lines[i]).y1, _box(lines[i]).x1))
    cleaned, removed = redact_lines([lines[i].text or "" for i in order])
    if not removed:
        return lines
    out = list(lines)
    for i, text in zip(order, cleaned, strict=True):
        if text != lines[i].text:
            out[i] = lines[i].model_copy(update={"text": text})
    return out


def text_blocks(lines: list[Evidence]) -> list[tuple[str, list[list[Evidence]]]]:
    """OCR lines joined into rows (left to right) and rows into blocks, with a position each.

    A block is consecutive rows that touch vertically and overlap horizontally: the
    lines of one sign or paragraph. Boxless lines follow, unplaced, one block each.
    """
    boxed = sorted(
        (ev for ev in lines if ev.box), key=lambda ev: (_box(ev).center[1], _box(ev).x1, ev.id)
    )
    rows: list[list[Evidence]] = []
    for ev in boxed:
        if rows and _same_row(_box(ev), _box(rows[-1][0])):
            rows[-1].append(ev)
        else:
            rows.append([ev])
    rows = [sorted(r, key=lambda ev: (_box(ev).x1, ev.id)) for r in rows]
    boxes = [Box.enclosing([_box(ev) for ev in r]) for r in rows]
    blocks: list[list[int]] = []
    for i, b in enumerate(boxes):
        if blocks and _same_block(boxes[blocks[-1][-1]], b):
            blocks[-1].append(i)
        else:
            blocks.append([i])
    out = [(position_words(Box.enclosing([boxes[i] for i in blk])), [rows[i] for i in blk]) for blk in blocks]
    return out + [("", [[ev]]) for ev in lines if ev.box is None]


def _chunks(block: list[list[Evidence]]) -> list[list[list[Evidence]]]:
    """Split a long block (a menu, a page) into lines of at most ``MAX_BLOCK_CHARS``."""
    out: list[list[list[Evidence]]] = [[]]
    size = 0
    for row in block:
        width = sum(len(_cut(ev.text or "")) + 3 for ev in row)
        if out[-1] and size + width > MAX_BLOCK_CHARS:
            out.append([])
            size = 0
        out[-1].append(row)
        size += width
    return out


def _render(lines: list[_Line], images: list[int], multi: bool, omitted: int, *, text_first: bool = False) -> str:
    out: list[str] = []
    sections = ("Text", *(s for s in _SECTIONS if s != "Text")) if text_first else _SECTIONS
    for image in images:
        own = [ln for ln in lines if ln.image == image]
        if multi:
            out.append(f"Image {image + 1}:" if own else f"Image {image + 1}: nothing shown.")
        for section in sections:
            body = [ln.text for ln in own if ln.section == section]
            out += [f"{section}:", *body] if body else []
    if omitted:
        out.append(f"({omitted} more lines omitted)")
    elif not out:
        out.append("Nothing was detected.")
    return "\n".join(out)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _same_row(a: Box, b: Box) -> bool:
    return abs(a.center[1] - b.center[1]) <= ROW_TOLERANCE * min(a.y2 - a.y1, b.y2 - b.y1)


def _same_block(upper: Box, lower: Box) -> bool:
    near = lower.y1 - upper.y2 <= BLOCK_GAP * min(lower.y2 - lower.y1, upper.y2 - upper.y1)
    return near and lower.x1 < upper.x2 and lower.x2 > upper.x1


def _box(ev: Evidence) -> Box:
    return ev.box or Box(x1=0.0, y1=0.0, x2=1.0, y2=1.0)  # only called on boxed lines


def _cut(text: str, limit: int = MAX_ITEM_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
