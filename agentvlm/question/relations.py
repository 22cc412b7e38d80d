"""Relation words: the phrases people use for where one thing is relative to another.

One vocabulary for the question analysis, the evidence programs and the facts:
a phrase maps to one relation name that ``agentvlm.evidence.spatial`` decides on
boxes. Some relations no 2-D box test decides (which way something faces, how
two things are aligned): they are matched like the others, so "facing away from"
is not read as "away from" (far), and reported as undecidable.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["RELATION_PHRASES", "UNDECIDABLE_PHRASES", "RelationMatch", "find_relations"]

# Question phrase -> relation; longest phrases are tried first, so "on top of" beats "on".
RELATION_PHRASES: dict[str, str] = {
    "left of": "left_of", "to the left of": "left_of", "at the left side of": "left_of",
    "on the left of": "left_of", "on the left side of": "left_of", "on the left hand side of": "left_of",
    "to the left side of": "left_of", "at the left of": "left_of", "on the left-hand side of": "left_of",
    "right of": "right_of", "to the right of": "right_of", "at the right side of": "right_of",
    "on the right of": "right_of", "on the right side of": "right_of", "on the right hand side of": "right_of",
    "to the right side of": "right_of", "at the right of": "right_of", "on the right-hand side of": "right_of",
    "above": "above", "over": "above", "higher than": "above", "higher up than": "above",
    "below": "below", "lower than": "below", "lower down than": "below", "further down than": "below",
    "further up than": "above", "higher in the picture than": "above", "lower in the picture than": "below",
    "on": "on", "on top of": "on", "onto": "on", "sitting on": "on", "standing on": "on", "lying on": "on",
    "resting on": "on", "sat on": "on", "placed on": "on", "upon": "on",
    "under": "under", "beneath": "under", "underneath": "under", "at the bottom of": "under",
    "in": "inside", "inside": "inside", "within": "inside", "into": "inside", "in the middle of": "inside",
    "inside of": "inside",
    "outside": "outside", "outside of": "outside", "out of": "outside",
    "contain": "contains", "contains": "contains", "containing": "contains", "surrounding": "contains",
    "surround": "contains", "surrounds": "contains", "holding": "contains", "holds": "contains",
    "hold": "contains", "has": "contains", "have": "contains", "consist of": "contains", "consists of": "contains",
    "a part of": "inside", "part of": "inside",
    "touching": "overlaps", "touch": "overlaps", "touches": "overlaps", "overlapping": "overlaps",
    "overlap": "overlaps", "overlaps": "overlaps", "attached to": "overlaps", "connected to": "overlaps",
    "in contact with": "overlaps",
    "near": "near", "beside": "near", "next to": "near", "close to": "near", "by": "near",
    "alongside": "near", "adjacent to": "near", "at the side of": "near", "nearby": "near",
    "near to": "near", "closer to": "near", "right next to": "near", "by the side of": "near",
    "far from": "far", "far away from": "far", "away from": "far", "a long way from": "far",
    "distant from": "far",
    "in front of": "in_front_of", "at the front of": "in_front_of", "ahead of": "in_front_of",
    "closer to the camera than": "in_front_of", "nearer to the camera than": "in_front_of",
    "nearer the camera than": "in_front_of", "closer to the viewer than": "in_front_of",
    "farther from the camera than": "behind", "further from the camera than": "behind",
    "further away than": "behind", "farther away than": "behind",
    "behind": "behind", "at the back of": "behind", "in back of": "behind", "back of": "behind",
}  # fmt: skip
UNDECIDABLE_PHRASES: tuple[str, ...] = (
    "facing", "facing away from", "facing towards", "facing toward", "faces", "face", "looking at",
    "looking towards", "looking toward", "pointing at", "pointing towards", "pointed at",
    "parallel to", "parallel with", "perpendicular to", "opposite to", "opposite", "across from",
    "turned away from", "turned towards", "walking towards", "walking toward", "heading towards",
    "heading toward", "moving towards", "moving toward", "running towards", "looking away from",
)  # fmt: skip

_RELATION_RE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted([*RELATION_PHRASES, *UNDECIDABLE_PHRASES], key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


class RelationMatch(NamedTuple):
    """A relation phrase found in a text: the normalised phrase, its relation (``None`` when no box
    test decides it) and where it stands."""

    phrase: str
    relation: str | None
    start: int
    end: int


def find_relations(text: str) -> list[RelationMatch]:
    """Every relation phrase in ``text``, left to right, the longest phrase winning at each place.

    Example:
        >>> [(m.phrase, m.relation) for m in find_relations("Is the car beneath the cat?")]
        [('beneath', 'under')]
        >>> find_relations("Is the cat facing away from the toilet?")[0].relation is None
        True
    """
    out = []
    for m in _RELATION_RE.finditer(text):
        phrase = " ".join(m.group(0).lower().split())
        out.append(RelationMatch(phrase, RELATION_PHRASES.get(phrase), m.start(), m.end()))
    return out
