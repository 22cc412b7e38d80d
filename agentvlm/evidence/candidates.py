"""The answers the evidence can support, in the form the question asks for.

Measured on real photos, SmolLM2-135M reading "There are 2 people." under a free
JSON string schema wrote ``");\\n\\nThe answer is 2..."``; constrained to an enum
of these candidates it answered "2". Candidates turn reasoning into choosing,
which even a 135M model does reliably, and keep every answer grounded. When a
single candidate is left, no model needs to be asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentvlm.evidence.facts import PRESENT_SCORE, READ_SURE, SURE_SCORE, position_words
from agentvlm.evidence.scenes import PLACES, scene_candidates
from agentvlm.question import Question
from agentvlm.question.forms import COLOR_WORDS, NOT_FOUND
from agentvlm.question.letters import LETTERS
from agentvlm.question.vocabulary import label_of
from agentvlm.types import Evidence, ImageRef

__all__ = ["ATTRIBUTE_WORDS", "NOT_FOUND", "answer_candidates", "measured_answers"]

# The words an answer about an attribute is made of, so a small model chooses one instead of writing prose.
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "material": ("wood", "metal", "plastic", "glass", "stone", "brick", "concrete", "fabric", "paper", "leather", "ceramic"),
    "shape": ("round", "square", "rectangular", "triangular", "oval", "octagonal", "circular"),
    "size": ("small", "medium", "large"),
}


def answer_candidates(question: Question, evidence: Sequence[Evidence], *, images: Sequence[ImageRef] = ()) -> list[str] | None:
    """Candidate answers for ``question``, most likely first; ``None`` when free text fits better.

    Example:
        >>> from agentvlm.question import analyze
        >>> from agentvlm.types import Box
        >>> p = Evidence(tool="t", kind="object", label="person", score=0.9, box=Box(x1=0, y1=0, x2=0.3, y2=1))
        >>> answer_candidates(analyze("How many people are there?"), [p, p])
        ['2']

    A model's statement that carries an ``answer`` in the question's form (the VLM's, from
    the ``look`` step) adds that answer after the tools' own, so reasoning can choose it.
    """
    found = _from_tools(question, evidence, images)
    said = [str(e.attributes["answer"]) for e in evidence if e.kind == "statement" and e.attributes.get("answer")]
    return found if found is None or not said else list(dict.fromkeys([*found, *said]))


def _from_tools(question: Question, evidence: Sequence[Evidence], images: Sequence[ImageRef]) -> list[str] | None:
    form = question.form
    if form == "choice":
        return list(LETTERS[: len(question.choices)])
    objects = [e for e in evidence if e.kind == "object"]
    wanted = question.labels
    if form == "count":
        out: list[str] = []
        for label in wanted or sorted({label_of(e, "object") for e in objects}):
            mine = [e for e in objects if label_of(e, "object") == label]
            sure = sum(1 for e in mine if e.score is None or e.score >= SURE_SCORE)
            out += [str(sure), str(len(mine))]
        return list(dict.fromkeys(out or ["0"]))
    if form == "yes_no":
        if wanted and question.relation is None and question.attribute is None and question.number is None:
            present = any(label_of(e, "object") in wanted for e in objects if (e.score or 1.0) >= SURE_SCORE)
            return ["yes", "no"] if present else ["no", "yes"]
        return ["yes", "no"]
    if form in ("alternative", "compare") and question.options:
        return list(question.options)
    if form == "read":
        texts = _text_blocks([e for e in evidence if e.kind == "text" and e.text])
        return [*texts, NOT_FOUND] if texts else [NOT_FOUND]
    if form == "position":
        places = [
            f"at the {position_words(e.box)}"
            for e in sorted(objects, key=lambda e: -(e.score or 0))
            if e.box is not None and (not wanted or label_of(e, "object") in wanted)
        ]
        return list(dict.fromkeys([*places, NOT_FOUND]))
    if form == "place":
        return scene_candidates(evidence) or list(PLACES)
    if form == "attribute" and question.attribute == "color":
        return _colours(question, objects, images) or sorted(set(COLOR_WORDS.values()))
    if form == "attribute" and question.attribute in ATTRIBUTE_WORDS:
        return list(ATTRIBUTE_WORDS[question.attribute])
    if form == "identify" and not question.needs_knowledge:
        seen = [label_of(e, "object") for e in sorted(objects, key=lambda e: -(e.score or 0)) if (e.score or 1.0) >= SURE_SCORE]
        others = [s for s in dict.fromkeys(seen) if s not in wanted]
        return others or None
    return None


def measured_answers(question: Question, evidence: Sequence[Evidence], *, images: Sequence[ImageRef] = ()) -> list[str]:
    """The candidates a measurement of what the question names supports; an answer among them has basis ``evidence``.

    The other candidates only list what an answer of that form may say (yes and no, the
    options, colour or place words): choosing among them is the model's decision, not a
    measurement's. Measured are: whether a named class is there (a confident detection,
    or none at the detector's threshold), the count of a named class (its confident
    detections), text read confidently, the places and colours of named objects
    detected with confidence; never where the question says something of the thing that
    no tool checks (``Question.unchecked``) or names a thing no tool sees.

    Example:
        >>> from agentvlm.question import analyze
        >>> from agentvlm.types import Box
        >>> p = Evidence(tool="t", kind="object", label="person", score=0.9, box=Box(x1=0, y1=0, x2=0.3, y2=1))
        >>> measured_answers(analyze("How many people are there?"), [p, p]), measured_answers(analyze("Is it sunny?"), [p])
        (['2'], [])
    """
    if question.unseen or question.unchecked:
        return []
    named = [e for e in evidence if e.kind == "object" and label_of(e, "object") in question.labels]
    sure = [e for e in named if e.score is None or e.score >= SURE_SCORE]
    if question.form == "count" and question.labels and question.targets and all(t.label for t in question.targets):
        return [str(len(sure))]
    q = question
    if q.form == "yes_no" and len(q.targets) == 1 and q.labels and q.relation is None and q.attribute is None and q.number is None and q.position is None:
        if sure:  # "Is there a tie?": a confident detection says yes; none at the detector's threshold says no
            return ["yes"]
        return [] if any(e.score is None or e.score >= PRESENT_SCORE for e in named) else ["no"]
    if question.form == "read":
        lines = [e for e in evidence if e.kind == "text" and e.text and (e.score is None or e.score >= READ_SURE)]
        return _text_blocks(lines)
    if question.form == "position":
        return list(dict.fromkeys(f"at the {position_words(e.box)}" for e in sure if e.box is not None))
    if question.form == "attribute" and question.attribute == "color" and images:
        from agentvlm.evidence.colors import dominant_color

        ranked = sorted(sure, key=lambda e: -(e.score if e.score is not None else 1.0))[:3]
        return list(dict.fromkeys(c for e in ranked if (c := dominant_color(e, list(images)))))
    return []


def _colours(question: Question, objects: list[Evidence], images: Sequence[ImageRef]) -> list[str]:
    """Colours measured on the named objects' pixels; for a thing no detector sees (a saucer), on the
    objects that were seen: the best guess there is, and the answer says it is a guess."""
    if not images:
        return []
    from agentvlm.evidence.colors import dominant_color

    named = [e for e in objects if label_of(e, "object") in question.labels] if question.labels else []
    pool = named or ([e for e in objects if (e.score or 1.0) >= SURE_SCORE] if question.unseen else [])
    ranked = sorted(pool, key=lambda e: -(e.score or 0.0))[:3]
    return list(dict.fromkeys(c for e in ranked if (c := dominant_color(e, list(images)))))


def _text_blocks(lines: list[Evidence]) -> list[str]:
    """Whole blocks, the longest first: a sign's lines are read together, not one at a time."""
    from agentvlm.evidence.verbalize import text_blocks

    blocks = [" ".join(" ".join((e.text or "").split()) for row in rows for e in row) for _, rows in text_blocks(lines)]
    return list(dict.fromkeys(t for t in sorted(blocks, key=len, reverse=True) if t))[:16]
