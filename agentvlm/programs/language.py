"""The evidence-program language: one typed operation over detected objects and read text.

A small LLM cannot read a paragraph of evidence reliably, but under a JSON-schema
grammar it fills this form reliably; code then runs the operation on the
structured evidence. One operation per program keeps the form short enough for
a 135M model, the objects it names are found implicitly (``find``), and
``answer`` says how the result becomes the reply.

Operations (``op``), with the question each answers:

    find      "Where are the dogs?"               -> {"op": "find", "target": "dog", ...}
    count     "How many people are there?"        -> {"op": "count", "target": "person", "answer": "number"}
    exists    "Is there a cat?"                   -> {"op": "exists", "target": "cat", "answer": "yes_no"}
    relation  "Is the car left of the bus?"       -> {"op": "relation", "target": "car", "other": "bus",
                                                      "relation": "left_of", "answer": "yes_no"}
    compare   "Which is bigger, the car or bus?"  -> {"op": "compare", "target": "car", "other": "bus",
                                                      "attribute": "size", "answer": "text"}
    read      "What does the sign say?"           -> {"op": "read", "target": "text", "answer": "text"}
    color     "What colour is the bus?"           -> {"op": "color", "target": "bus", "answer": "text"}
    position  "Where is the dog?"                 -> {"op": "position", "target": "dog", "answer": "text"}

``value`` is what a yes/no question checks the result against: a number
("Are there 3 cars?"), a colour ("Is the bus red?"), a word the text should
contain, or a position ("Is the dog on the left?").
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ATTRIBUTES",
    "FORMS",
    "OPS",
    "RELATIONS",
    "RELATION_PHRASES",
    "UNDECIDABLE_PHRASES",
    "Attribute",
    "Form",
    "Op",
    "Program",
    "Region",
    "Relation",
    "relation_in",
    "relation_span",
    "undecidable_in",
]

Op = Literal["find", "count", "exists", "relation", "compare", "read", "color", "position"]
Relation = Literal[
    "none", "left_of", "right_of", "above", "below", "on", "under", "inside", "outside", "contains",
    "overlaps", "near", "far", "in_front_of", "behind",
]  # fmt: skip
Attribute = Literal["none", "size", "position", "count"]
Form = Literal["number", "yes_no", "option", "text"]
Region = Literal["image", "left", "right", "top", "bottom"]

OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
RELATIONS: tuple[str, ...] = Relation.__args__  # type: ignore[attr-defined]
ATTRIBUTES: tuple[str, ...] = Attribute.__args__  # type: ignore[attr-defined]
FORMS: tuple[str, ...] = Form.__args__  # type: ignore[attr-defined]


class Program(BaseModel):
    """One operation over the evidence and the form of its answer.

    Every field is required, so the JSON-schema grammar fixes the whole shape and
    a small model only chooses values; unused fields hold ``""`` or ``"none"``.

    Attributes:
        op: The operation (see the module docstring).
        target: The object the question is about, as the question words it
            ("man", "cars", "sign"); ``text`` for reading the whole image.
        other: The second object for ``relation`` and ``compare``, else ``""``.
        relation: For ``relation``: what ``target`` is relative to ``other``.
        attribute: For ``compare``: ``size`` (larger wins), ``position``
            (leftmost wins) or ``count`` (more wins).
        value: What a yes/no question checks: a number, colour, word or position.
        answer: ``number``, ``yes_no``, ``option`` (a choice letter) or ``text``.

    Example:
        >>> Program(op="count", target="person", other="", relation="none",
        ...         attribute="none", value="", answer="number").op
        'count'
    """

    model_config = ConfigDict(frozen=True)

    op: Op
    target: str = Field(max_length=32)
    other: str = Field(max_length=32)
    relation: Relation
    attribute: Attribute
    value: str = Field(max_length=24)
    answer: Form

    def brief(self) -> str:
        """A one-line rendering for traces, e.g. ``relation(car, cat, below) -> yes_no``."""
        args = [a for a in (self.target, self.other) if a]
        if self.relation != "none":
            args.append(self.relation)
        if self.attribute != "none":
            args.append(self.attribute)
        if self.value:
            args.append(f"={self.value}")
        return f"{self.op}({', '.join(args)}) -> {self.answer}"


# Question phrase -> relation; longest phrases are tried first, so "on top of" beats "on".
RELATION_PHRASES: dict[str, str] = {
    "left of": "left_of", "to the left of": "left_of", "at the left side of": "left_of",
    "on the left of": "left_of", "on the left side of": "left_of",
    "right of": "right_of", "to the right of": "right_of", "at the right side of": "right_of",
    "on the right of": "right_of", "on the right side of": "right_of",
    "above": "above", "over": "above", "higher than": "above",
    "below": "below", "lower than": "below",
    "on": "on", "on top of": "on", "onto": "on", "sitting on": "on", "standing on": "on",
    "under": "under", "beneath": "under", "underneath": "under", "at the bottom of": "under",
    "in": "inside", "inside": "inside", "within": "inside", "into": "inside", "in the middle of": "inside",
    "outside": "outside", "outside of": "outside", "out of": "outside",
    "contain": "contains", "contains": "contains", "surrounding": "contains", "surround": "contains",
    "holding": "contains", "has": "contains", "consist of": "contains", "consists of": "contains",
    "a part of": "inside", "part of": "inside",
    "touching": "overlaps", "touch": "overlaps", "overlapping": "overlaps", "overlap": "overlaps",
    "attached to": "overlaps", "connected to": "overlaps",
    "near": "near", "beside": "near", "next to": "near", "close to": "near", "by": "near",
    "alongside": "near", "with": "near", "adjacent to": "near", "at the side of": "near", "nearby": "near",
    "far from": "far", "far away from": "far", "away from": "far",
    "in front of": "in_front_of", "at the front of": "in_front_of", "ahead of": "in_front_of",
    "behind": "behind", "at the back of": "behind", "in back of": "behind",
}  # fmt: skip
# Relations no box test decides (which way something faces, how two things are aligned). They are
# matched like the others, so "facing away from" is not read as "away from" (far), and give ``None``.
UNDECIDABLE_PHRASES: tuple[str, ...] = (
    "facing", "facing away from", "facing towards", "facing toward", "faces", "looking at",
    "parallel to", "perpendicular to", "opposite to", "opposite", "across from",
)  # fmt: skip

_RELATION_RE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted([*RELATION_PHRASES, *UNDECIDABLE_PHRASES], key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


def relation_in(text: str) -> str | None:
    """The relation the first relation phrase in ``text`` names (longest phrase wins), or ``None``.

    ``None`` also when the first phrase names a relation no box test decides.

    Example:
        >>> relation_in("Is the car beneath the cat?"), relation_in("Is the cat on top of the bed?")
        ('under', 'on')
        >>> relation_in("Is the cat facing away from the toilet?") is None
        True
    """
    found = relation_span(text)
    return found[0] if found else None


def undecidable_in(text: str) -> str | None:
    """The phrase of a relation no box test decides, when it is the first relation ``text`` names.

    Example:
        >>> undecidable_in("Is the person facing the book?"), undecidable_in("Is the cup on the table?")
        ('facing', None)
    """
    found = _first_phrase(text)
    return found[0] if found is not None and found[0] not in RELATION_PHRASES else None


def _first_phrase(text: str) -> tuple[str, int, int] | None:
    """The first relation phrase in ``text`` (longest wins), normalised, with its start and end."""
    m = _RELATION_RE.search(text)
    return (" ".join(m.group(0).lower().split()), m.start(), m.end()) if m else None


def relation_span(text: str) -> tuple[str, int, int] | None:
    """The relation the first relation phrase names, with the phrase's start and end in ``text``."""
    found = _first_phrase(text)
    said = RELATION_PHRASES.get(found[0]) if found is not None else None
    return (said, found[1], found[2]) if found is not None and said else None
