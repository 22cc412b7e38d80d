"""Visual cues: what the zoom search looks for, named by the LLM or, failing that, by keyword rules.

A cue is a short phrase from the question ("red sign", "all cars"). ``all X``
(or a counting question) asks for every instance: the exhaustive type-2 search.
"how many X" marks X exhaustive too. A small LLM invents objects, so a cue is kept only when the question mentions it;
when nothing usable is left, the question's COCO class names and, for reading
questions, a text cue stand in.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agentvlm.errors import ModelOutputError
from agentvlm.graph.services import Recorder, Services
from agentvlm.question import Question, analyze
from agentvlm.question.vocabulary import canonical, labels_in

__all__ = ["Cue", "rule_cues", "visual_cues"]

_EXHAUSTIVE = re.compile(r"^(all|every|each)\s+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“']([^\"”']{2,60})[\"”']")
_TEXT_PHRASES = ("text", "sign", "label", "word", "words", "writing", "caption", "title", "number")
_STOP = {"the", "a", "an", "of", "in", "on", "with", "and", "is", "are", "there", "this", "that", "image", "picture", "photo"}


class Cue(BaseModel):
    """One thing to search for.

    Attributes:
        phrase: What to look for, as the prompts name it ("person", "text", "Sports Centre").
        label: The COCO class it names, for detector scorers.
        text: Whether it is written text (the OCR scorer's cue).
        exhaustive: Find every instance (type-2 search) rather than one (type 1).
    """

    phrase: str = Field(min_length=1, max_length=60)
    label: str | None = None
    text: bool = False
    exhaustive: bool = False


class _CueReply(BaseModel):
    objects: list[str] = Field(max_length=4)


def _cue(phrase: str, question: Question) -> Cue | None:
    raw = " ".join(phrase.strip().strip(".").split())
    all_of = bool(_EXHAUSTIVE.match(raw))
    raw = _EXHAUSTIVE.sub("", raw)
    if not raw or len(raw) > 60 or len(raw.split()) > 6:
        return None
    labels = labels_in(raw)
    label = labels[0] if labels else canonical(raw)
    text = label is None and any(w in raw.lower().split() for w in _TEXT_PHRASES)
    return Cue(phrase=label or raw, label=label, text=text, exhaustive=all_of or question.exhaustive and label in question.labels)


def _grounded(cue: Cue, question: Question) -> bool:
    """The question names the cue: its class, or one of its content words."""
    if cue.label is not None:
        return cue.label in question.labels
    words = set(re.findall(r"[a-z]+", question.text.lower()))
    content = [w for w in re.findall(r"[a-z]+", cue.phrase.lower()) if w not in _STOP and len(w) > 2]
    return bool(content) and any(w in words or w + "s" in words or w.rstrip("s") in words for w in content)


def rule_cues(question: Question | str) -> list[Cue]:
    """Cues from the question's analysis: each detector class it names, plus a text cue when it needs text.

    Example:
        >>> from agentvlm.question import analyze
        >>> [c.phrase for c in rule_cues(analyze("How many people are near the bus?"))]
        ['person', 'bus']
    """
    question = question if isinstance(question, Question) else analyze(question)
    cues = [Cue(phrase=label, label=label, exhaustive=question.exhaustive and i == 0) for i, label in enumerate(question.labels)]
    if question.text_need == "needed":
        quoted = _QUOTED.search(question.text)
        cues.append(Cue(phrase=quoted.group(1).strip() if quoted else "text", text=True))
    return cues


def visual_cues(question: Question | str, *, services: Services | None = None, rec: Recorder | None = None) -> list[Cue]:
    """The cues for ``question``: the LLM's grounded ones (with ``services``), else ``rule_cues``; at most 4, once each."""
    question = question if isinstance(question, Question) else analyze(question)
    cues: list[Cue] = []
    if services is not None:
        rec = rec if rec is not None else Recorder()
        try:
            reply = services.ask("zoom_cues", _CueReply, rec=rec, role="zoom_cues", max_tokens=64, question=question.text)
            made = [_cue(o, question) for o in reply.objects]
            cues = [c for c in made if c is not None and _grounded(c, question)]
            if len(cues) < len(reply.objects):
                rec.note(f"zoom cues: kept {len(cues)} of the LLM's {reply.objects} (the others are not in the question)")
        except ModelOutputError as exc:
            rec.note(f"zoom cues: LLM output unusable ({exc}); using keyword rules")
    if not cues:
        cues = rule_cues(question)
    elif question.text_need == "needed" and not any(c.text for c in cues):
        cues += [c for c in rule_cues(question) if c.text]
    unique: dict[tuple[str, bool], Cue] = {}
    for c in cues:
        unique.setdefault((c.phrase.lower(), c.text), c)
    return list(unique.values())[:4]
