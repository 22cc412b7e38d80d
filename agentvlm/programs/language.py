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

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agentvlm.question.relations import find_relations

__all__ = [
    "ATTRIBUTES",
    "FORMS",
    "OPS",
    "RELATIONS",
    "Attribute",
    "Form",
    "Op",
    "Program",
    "Region",
    "Relation",
    "relation_in",
]

Op = Literal["find", "count", "exists", "relation", "compare", "read", "color", "position"]
Relation = Literal[
    "none", "left_of", "right_of", "above", "below", "on", "under", "inside", "outside", "contains",
    "overlaps", "near", "far", "in_front_of", "behind",
]  # fmt: skip
Attribute = Literal["none", "size", "position", "count", "depth"]
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
            (leftmost wins), ``count`` (more wins) or ``depth`` (nearer the camera wins).
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


def relation_in(text: str) -> str | None:
    """The relation the first relation phrase in ``text`` names, or ``None`` (also for one no box test decides).

    Example:
        >>> relation_in("Is the car beneath the cat?"), relation_in("Is the cat facing away from the toilet?")
        ('under', None)
    """
    found = find_relations(text)
    return found[0].relation if found else None
