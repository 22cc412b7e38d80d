"""The one spatial engine: which relations hold between two boxes, for facts and programs alike.

The facts the LLM reads ("person #1 (det0) is left of car #1 (det1).") and the
evidence programs' answers ("Is the person left of the car?") both come from
``relation_holds``, so a fact never states what a program denies.

Boxes are ``xyxyn``: fractions of the image's width and height, y growing
downward. ``aspect`` (the image's width over height) turns offsets into pixels
where an angle is measured; gaps and areas stay in image fractions.

Relations (``RELATIONS``, the evidence-program vocabulary), ``a`` relative to ``b``:
    * ``left_of``, ``right_of``, ``above``, ``below``: ``a``'s centre lies in a
      cone around that direction from ``b``'s, and neither box holds the other
      (a face is not "above" the person it belongs to).
    * ``on``: ``a`` rests on ``b``: their columns overlap and ``a``'s bottom edge
      lies on ``b`` (within ``REST``), and ``a`` rises above ``b``'s top (a cat on
      a TV) or lies inside ``b`` (a donut on a table seen from above).
      ``under`` is the reverse.
    * ``inside``: ``INSIDE`` of ``a``'s area lies in ``b``; ``contains`` the
      reverse; ``outside`` the negation of ``inside``.
    * ``overlaps`` ("touching"): the boxes are at most ``TOUCH`` apart.
    * ``near`` ("beside", "next to"): at most ``NEAR`` apart in the picture.
    * ``far``: more than ``NEAR`` apart in the picture, or bottom edges more than
      ``DEEP`` apart, unless one rests on the other.
    * ``in_front_of``: ``a``'s bottom edge is lower (nearer the camera on a
      ground plane); ``behind`` the reverse.

Thresholds: the evidence programs' values (``TOUCH``, ``NEAR`` since the first
executor; ``CONE``, ``REST``, ``DEEP`` since the executor learnt to read spatial
words as people use them, measured at 70.6% on the 143 BLINK spatial-relation
items), which facts now share; see README "Evidence programs" for the figures.
    * ``CONE = 2.0``: a direction holds while the offset along it is at least
      half the offset across, i.e. within atan(2) = 63.4 degrees of the axis, in
      pixels. The cones of neighbouring directions overlap on the diagonals
      (between 26.6 and 63.4 degrees a box is both "left of" and "above"); a
      sandwich below a laptop is not "left of" it. This replaced facts'
      centre-offset rule (MARGIN = 0.02 of the image and SHIFT = 0.2 of the
      smaller box on that axis), which called that sandwich "left of" too.
    * ``INSIDE = 0.9``: share of a box's area within the other for ``inside``
      (and for "nested", which switches directions off and lets ``on`` hold by
      lying within). Facts used 0.9 from the start; programs used 0.6, at which
      a person standing in front of a bus, 80% of whose box lies in the bus's,
      was "inside" it and neither left nor right of it, and a remote at the
      bottom corner of a person's box (62% within it) lay "on" the person, who
      was then "beneath the remote" (a BLINK item). An object in a container
      still counts as inside while a tenth of its box sticks out (a cat's head
      above a suitcase). Replaying the 115 programs the rules planner answers on
      BLINK spatial, on the same detections: 88 right at 0.6, 89 at 0.7 to 0.9.
    * ``REST = 0.05``: how far (image fraction) a bottom edge may sit from the
      top of what it rests on, either way: detector boxes are loose, so a cat on
      a TV leaves a gap of a few hundredths (0.03 in the test case).
    * ``TOUCH = 0.01``: largest gap for ``overlaps`` ("touching"): boxes a
      hundredth of the image apart touch within a box's looseness. It replaced
      facts' "overlapping" (OVERLAP: a tenth of the smaller box shared).
    * ``NEAR = 0.12``: largest gap (image fraction, Euclidean between the
      boxes' nearest edges) for ``near``; beyond it, ``far``.
    * ``DEEP = 0.25``: least difference between bottom edges (image fraction)
      that puts two things far apart in depth on a ground plane: a plane in the
      sky beside a bicycle in the picture is still far from it.
    * ``LARGER = 1.2``: area ratio for "larger"/"smaller": facts' value since
      the first version; programs' size comparison used to name a winner for
      any difference, so two boxes 1% apart in area decided "which is bigger".
"""

from __future__ import annotations

from agentvlm.types import Box

__all__ = [
    "RELATIONS",
    "gap",
    "inside",
    "iou",
    "larger",
    "relation_holds",
    "relations_between",
]

CONE = 2.0
INSIDE = 0.9
REST = 0.05
TOUCH = 0.01
NEAR = 0.12
DEEP = 0.25
LARGER = 1.2

RELATIONS: tuple[str, ...] = (
    "left_of", "right_of", "above", "below", "on", "under", "inside", "outside", "contains",
    "overlaps", "near", "far", "in_front_of", "behind",
)  # fmt: skip
# What relations_between reports, in wording order. Left out: ``outside`` and ``far`` (they
# hold for most pairs and follow from the absence of ``inside`` and ``near``) and
# ``in_front_of``/``behind`` (a ground-plane guess from bottom edges that holds for nearly
# every pair, which a small LLM would copy as fact).
_STATED = (
    "left_of", "right_of", "above", "below", "on", "under", "inside", "contains", "overlaps", "near",
)  # fmt: skip
_CLOSE = frozenset({"on", "under", "inside", "contains", "overlaps"})  # each implies "near"


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0.0 when both are empty (``sv.box_iou``).

    supervision's pairwise function, in float64: its batch form (``sv.box_iou_batch``)
    answers in float32, which moves IoUs that sit on a threshold (0.6 read as
    0.6000000238) and so would change which duplicates are dropped.

    Example:
        >>> iou(Box(x1=0.0, y1=0.0, x2=0.5, y2=1.0), Box(x1=0.25, y1=0.0, x2=0.75, y2=1.0))
        0.3333333333333333
    """
    import supervision as sv

    return sv.box_iou(list(a.xyxyn), list(b.xyxyn))


def gap(a: Box, b: Box) -> float:
    """Distance between the boxes' nearest edges (image fraction), 0.0 when they overlap.

    Example:
        >>> round(gap(Box(x1=0.0, y1=0.0, x2=0.2, y2=0.2), Box(x1=0.5, y1=0.6, x2=0.7, y2=0.8)), 3)
        0.5
    """
    dx = max(b.x1 - a.x2, a.x1 - b.x2, 0.0)
    dy = max(b.y1 - a.y2, a.y1 - b.y2, 0.0)
    return float((dx * dx + dy * dy) ** 0.5)


def inside(a: Box, b: Box) -> bool:
    """Whether at least ``INSIDE`` of ``a``'s area lies within ``b`` (an empty ``a``: never)."""
    return a.area > 0 and a.intersection(b) / a.area >= INSIDE


def larger(a: Box, b: Box) -> bool:
    """Whether ``a``'s area is at least ``LARGER`` times ``b``'s (and more than it)."""
    return a.area >= LARGER * b.area and a.area > b.area


def _rests_on(a: Box, b: Box) -> bool:
    """``a`` is supported by ``b``: their columns overlap and ``a``'s bottom edge lies on ``b``."""
    side_by_side = min(a.x2, b.x2) - max(a.x1, b.x1) > 0
    bottom_on_b = b.y1 - REST <= a.y2 <= b.y2 + REST
    rises_above = a.y1 < b.y1 and a.center[1] < b.center[1]
    return side_by_side and bottom_on_b and (rises_above or inside(a, b))


def _checks(a: Box, b: Box, aspect: float) -> dict[str, bool]:
    (ax, ay), (bx, by) = a.center, b.center
    dx, dy = (ax - bx) * aspect, ay - by
    a_in_b, b_in_a = inside(a, b), inside(b, a)
    nested = a_in_b or b_in_a
    sideways = CONE * abs(dx) >= abs(dy) and not nested
    upright = CONE * abs(dy) >= abs(dx) and not nested
    on, under = _rests_on(a, b), _rests_on(b, a)
    apart = gap(a, b)
    return {
        "left_of": sideways and dx < 0,
        "right_of": sideways and dx > 0,
        "above": upright and dy < 0,
        "below": upright and dy > 0,
        "on": on,
        "under": under,
        "inside": a_in_b,
        "outside": not a_in_b,
        "contains": b_in_a,
        "overlaps": apart <= TOUCH,
        "near": apart <= NEAR,
        "far": apart > NEAR or (abs(a.y2 - b.y2) > DEEP and not (on or under)),
        "in_front_of": a.y2 > b.y2,
        "behind": a.y2 < b.y2,
    }


def relation_holds(a: Box, b: Box, relation: str, *, aspect: float = 1.0) -> bool | None:
    """Whether box ``a`` stands in ``relation`` (one of ``RELATIONS``) to ``b``; else ``None``.

    ``aspect`` is the image's width over height: directions are judged in pixels,
    so 0.2 across a 4:1 panorama is further than 0.4 down it. See the module
    docstring for each relation's test and threshold.

    Example:
        >>> cup = Box(x1=0.4, y1=0.2, x2=0.6, y2=0.4); table = Box(x1=0.1, y1=0.38, x2=0.9, y2=0.9)
        >>> [relation_holds(cup, table, r) for r in ("on", "left_of", "none")]
        [True, False, None]
    """
    return _checks(a, b, aspect).get(relation)


def relations_between(a: Box, b: Box, *, aspect: float = 1.0) -> list[str]:
    """The relations worth saying of ``a`` relative to ``b``, each one ``relation_holds`` grants.

    In ``RELATIONS`` order, without those that hold for most pairs (``outside``,
    ``far``, ``in_front_of``, ``behind``) or that another implies: ``near``
    when a closer relation holds; ``overlaps`` when one box is inside the
    other, and ``on``/``under`` too, which then only restate that one box lies
    within the other. When both readings of a pair hold (``on`` and ``under``,
    ``inside`` and ``contains``: near-identical boxes), neither is said.

    Example:
        >>> cat = Box(x1=0.1, y1=0.02, x2=0.37, y2=0.47); tv = Box(x1=0.2, y1=0.5, x2=0.8, y2=1.0)
        >>> relations_between(cat, tv)
        ['left_of', 'above', 'on']
    """
    held = _checks(a, b, aspect)
    for x, y in (("on", "under"), ("inside", "contains")):
        if held[x] and held[y]:
            held[x] = held[y] = False
    if held["inside"] or held["contains"]:
        held["overlaps"] = held["on"] = held["under"] = False
    if any(held[r] for r in _CLOSE):
        held["near"] = False
    return [r for r in _STATED if held[r]]
