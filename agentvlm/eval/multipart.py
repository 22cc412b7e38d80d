"""Questions with several parts: each part scored on its own, an item right only when every part is.

A system's answer to a multi-part item is read one of two ways:

- **per part** (``rule == "parts"``): a graph's ``Answer.parts`` gave one text per part, as
  many as the item has; part *i* is scored on text *i* alone.
- **by segments** (``rule == "segments"``): one text (the ``blind`` and ``vlm`` baselines, a
  graph whose answer has no parts, like ``moai``, or one that split the question into another
  number of parts) is cut on ";" and newlines into segments. A part is right if *any*
  segment scores right for it, or, when there are fewer segments than parts, if the whole
  text does ("7 people, and no one is on a bicycle" holds both a count and a "no").

The second rule is generous: a segment may serve any part, in any order, and the whole-text
fallback lets one sentence answer every part. It favours single-text systems, so a graph
scored per part beside them is, if anything, understated. Every part is scored with
``score_answer`` for its own ``answer_type``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from agentvlm.eval.dataset import EvalItem
from agentvlm.eval.scoring import answer_has_form, score_answer

__all__ = ["PartsScore", "score_parts", "segments"]

_SEGMENT = re.compile(r"[;\n]")


class PartsScore(BaseModel):
    """The verdict on a multi-part answer: one score per part (1.0 right, 0.0 wrong), and how it was read."""

    part_scores: list[float]
    rule: Literal["parts", "segments"]
    form_ok: bool

    @property
    def correct(self) -> bool:
        """Every part right."""
        return all(s == 1.0 for s in self.part_scores)


def segments(text: str) -> list[str]:
    """``text`` cut on ";" and newlines, each piece stripped, empty ones dropped.

    Example:
        >>> segments("7; no one is on a bicycle\\n")
        ['7', 'no one is on a bicycle']
    """
    return [s.strip() for s in _SEGMENT.split(text) if s.strip()]


def score_parts(item: EvalItem, prediction: str, parts: Sequence[str] = ()) -> PartsScore:
    """Score ``item``'s parts against a system's ``parts`` texts when it gave one per part, else
    against the segments of its ``prediction`` (the module docstring has the rule).

    ``form_ok``: as many answers as parts, each of its part's form (``answer_has_form``), in order.

    Example:
        >>> from agentvlm.eval.dataset import EvalPart
        >>> item = EvalItem(id="1", dataset="d", question="How many people, and is anyone on a bike?",
        ...                 images=["x.jpg"], answer="7; no", answer_type="short_answer", parts=[
        ...     EvalPart(question="How many people?", answer="7", category="count"),
        ...     EvalPart(question="Is anyone on a bike?", answer="no", answer_type="true_false")])
        >>> score_parts(item, "7; yes", ["7", "yes"]).part_scores, score_parts(item, "no, and 7 people").part_scores
        ([1.0, 0.0], [1.0, 1.0])
    """
    gold = item.parts
    rule: Literal["parts", "segments"]
    if parts and len(parts) == len(gold):
        answers, rule = list(parts), "parts"
        scores = [_right(text, i, item) for i, text in enumerate(answers)]
    else:
        answers, rule = segments(prediction), "segments"
        whole = len(answers) < len(gold) and bool(prediction.strip())
        scores = [any(_right(s, i, item) for s in answers) or (whole and _right(prediction, i, item)) for i in range(len(gold))]
    form_ok = len(answers) == len(gold) and all(answer_has_form(a, item.part_item(i)) for i, a in enumerate(answers))
    return PartsScore(part_scores=[float(s) for s in scores], rule=rule, form_ok=form_ok)


def _right(text: str, index: int, item: EvalItem) -> bool:
    part = item.parts[index]
    return score_answer(text, part.answer, part.answer_type).correct
