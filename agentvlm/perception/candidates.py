"""The answers the evidence can support, for questions the evidence decides.

Measured on real photos, SmolLM2-135M reading "There are 2 people." under a free
JSON string schema wrote ``");\\n\\nThe answer is 2..."``; constrained to an enum
of these candidates it answered "2". Candidates turn reasoning into choosing,
which even a 135M model does reliably, and keep every answer grounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentvlm.perception.facts import SURE_SCORE, position_words
from agentvlm.perception.vocabulary import canonical
from agentvlm.types import Evidence

__all__ = ["NOT_FOUND", "answer_candidates"]

NOT_FOUND = "not found in the image"


def _label(ev: Evidence) -> str:
    name = ev.label or "object"
    return canonical(name) or name.strip().lower()


def answer_candidates(
    kind: str, evidence: Sequence[Evidence], *, targets: Sequence[str] = (), choices: Sequence[str] = ()
) -> list[str] | None:
    """Candidate answers for a question of ``kind``, most likely first; ``None`` when free text fits better.

    Example:
        >>> from agentvlm.types import Box
        >>> p = Evidence(tool="t", kind="object", label="person", score=0.9, box=Box(x1=0, y1=0, x2=0.3, y2=1))
        >>> answer_candidates("count", [p, p], targets=["person"])
        ['2']
    """
    if choices:
        return [chr(ord("A") + i) for i in range(len(choices))]
    objects = [e for e in evidence if e.kind == "object"]
    wanted = [canonical(t) or t for t in targets]
    if kind == "count":
        out: list[str] = []
        for label in wanted or sorted({_label(e) for e in objects}):
            mine = [e for e in objects if _label(e) == label]
            sure = sum(1 for e in mine if e.score is None or e.score >= SURE_SCORE)
            out += [str(sure), str(len(mine))]
        return list(dict.fromkeys(out or ["0"]))
    if kind == "yesno":
        present = any(_label(e) in wanted for e in objects if (e.score or 1.0) >= SURE_SCORE) if wanted else bool(objects)
        return ["yes", "no"] if present else ["no", "yes"]
    if kind == "read":
        texts = _text_blocks([e for e in evidence if e.kind == "text" and e.text])
        return [*texts, NOT_FOUND] if texts else [NOT_FOUND]
    if kind == "where":
        places = [
            f"at the {position_words(e.box)}"
            for e in sorted(objects, key=lambda e: -(e.score or 0))
            if e.box is not None and (not wanted or _label(e) in wanted)
        ]
        return list(dict.fromkeys([*places, NOT_FOUND]))
    return None


def _text_blocks(lines: list[Evidence]) -> list[str]:
    """Whole blocks, the longest first: a sign's lines are read together, not one at a time."""
    from agentvlm.perception.verbalize import text_blocks

    blocks = [" ".join(" ".join((e.text or "").split()) for row in rows for e in row) for _, rows in text_blocks(lines)]
    return list(dict.fromkeys(t for t in sorted(blocks, key=len, reverse=True) if t))[:16]
