"""The one spatial engine: each relation's box test, what facts say, facts and programs agreeing."""

from __future__ import annotations

import random
import re

import pytest

from agentvlm.evidence import compute_facts
from agentvlm.evidence.spatial import RELATIONS, iou, larger, relation_holds, relations_between
from agentvlm.programs import Program, execute
from agentvlm.programs.executor import SAME, find
from agentvlm.programs.language import RELATIONS as PROGRAM_RELATIONS
from agentvlm.types import Box, Evidence


def box(x1: float, y1: float, x2: float, y2: float) -> Box:
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


LEFT, RIGHT = box(0.1, 0.4, 0.2, 0.6), box(0.6, 0.4, 0.7, 0.6)
TV = box(0.2, 0.5, 0.8, 1.0)
CAT_ON_TV = box(0.1, 0.02, 0.37, 0.47)  # loose boxes: a 0.03 gap between the cat and the TV
CUP, TABLE = box(0.4, 0.4, 0.5, 0.5), box(0.2, 0.3, 0.8, 0.9)
LAPTOP, SANDWICH = box(0.3, 0.0, 0.9, 0.2), box(0.1, 0.4, 0.7, 0.9)
CAR, DOG_IN_CAR = box(0.05, 0.05, 0.95, 0.95), box(0.1, 0.2, 0.6, 0.9)
# 82% of the person's box lies in the bus's.
BUS, PERSON_BY_BUS = box(0.02, 0.12, 0.99, 0.78), box(0.06, 0.23, 0.30, 0.90)
PLANE, BIKE = box(0.78, 0.18, 0.88, 0.25), box(0.04, 0.22, 0.67, 0.95)
DOG_ON_CAR, CAR_UNDER = box(0.32, 0.3, 0.45, 0.5), box(0.30, 0.5, 0.65, 0.95)


@pytest.mark.parametrize(
    ("a", "b", "relation", "expected", "aspect"),
    [
        (LEFT, RIGHT, "left_of", True, 1.0),
        (RIGHT, LEFT, "left_of", False, 1.0),
        (RIGHT, LEFT, "right_of", True, 1.0),
        (box(0.4, 0.1, 0.6, 0.2), box(0.4, 0.6, 0.6, 0.7), "above", True, 1.0),
        (box(0.4, 0.1, 0.6, 0.2), box(0.4, 0.6, 0.6, 0.7), "below", False, 1.0),
        (box(0.4, 0.6, 0.6, 0.7), box(0.4, 0.1, 0.6, 0.2), "below", True, 1.0),
        # Cones of 63.4 degrees: a diagonal neighbour is both left of and above.
        (box(0.1, 0.1, 0.2, 0.2), box(0.5, 0.5, 0.6, 0.6), "left_of", True, 1.0),
        (box(0.1, 0.1, 0.2, 0.2), box(0.5, 0.5, 0.6, 0.6), "above", True, 1.0),
        # 0.2 across and 0.38 down is inside the cone, 0.2 across and 0.42 down is not.
        (box(0.2, 0.78, 0.4, 0.98), box(0.4, 0.4, 0.6, 0.6), "left_of", True, 1.0),
        (box(0.2, 0.84, 0.4, 1.0), box(0.4, 0.4, 0.6, 0.6), "left_of", False, 1.0),
        # A sandwich below a laptop is not left of it, though its centre is 0.2 to the left.
        (SANDWICH, LAPTOP, "left_of", False, 1.0),
        (SANDWICH, LAPTOP, "below", True, 1.0),
        # Offsets are compared in pixels: 0.2 across a 4:1 panorama is further than 0.4 down it.
        (box(0.1, 0.1, 0.2, 0.2), box(0.3, 0.5, 0.4, 0.6), "left_of", True, 4.0),
        (box(0.1, 0.1, 0.2, 0.2), box(0.3, 0.5, 0.4, 0.6), "left_of", False, 0.5),
        (box(0.1, 0.1, 0.2, 0.2), box(0.3, 0.5, 0.4, 0.6), "above", True, 0.5),
        # Nested boxes have no direction: a dog inside a car's box is not left of it...
        (DOG_IN_CAR, CAR, "left_of", False, 1.0),
        (DOG_IN_CAR, CAR, "above", False, 1.0),
        # ... but a person in front of a bus, most of whose box lies in the bus's, is.
        (PERSON_BY_BUS, BUS, "left_of", True, 1.0),
        (PERSON_BY_BUS, BUS, "inside", False, 1.0),
        # on: resting on (bottom edge on the other's top, within REST), or lying within it.
        (CAT_ON_TV, TV, "on", True, 1.0),
        (TV, CAT_ON_TV, "on", False, 1.0),
        (TV, CAT_ON_TV, "under", True, 1.0),
        (CAT_ON_TV, TV, "under", False, 1.0),
        (box(0.85, 0.2, 0.95, 0.47), TV, "on", False, 1.0),  # beside the TV, not over it
        (box(0.3, 0.1, 0.5, 0.46), TV, "on", True, 1.0),  # 0.04 above the top: within REST
        (box(0.3, 0.1, 0.5, 0.44), TV, "on", False, 1.0),  # 0.06 above: hovering
        # A donut on a table seen from above.
        (box(0.4, 0.4, 0.6, 0.7), box(0.0, 0.0, 1.0, 1.0), "on", True, 1.0),
        (box(0.0, 0.0, 1.0, 1.0), box(0.4, 0.4, 0.6, 0.7), "on", False, 1.0),
        (DOG_ON_CAR, CAR_UNDER, "on", True, 1.0),
        # inside / contains / outside: INSIDE (0.9) of the box's area within the other.
        (CUP, TABLE, "inside", True, 1.0),
        (TABLE, CUP, "inside", False, 1.0),
        (TABLE, CUP, "contains", True, 1.0),
        (CUP, TABLE, "contains", False, 1.0),
        (CUP, TABLE, "outside", False, 1.0),
        (TABLE, CUP, "outside", True, 1.0),
        (box(0.3, 0.3, 0.5, 0.5), box(0.31, 0.3, 0.7, 0.7), "inside", True, 1.0),  # 95% within
        (box(0.3, 0.3, 0.5, 0.5), box(0.34, 0.3, 0.7, 0.7), "inside", False, 1.0),  # 80% within
        # overlaps ("touching"): at most TOUCH (0.01) apart.
        (box(0.2, 0.2, 0.5, 0.5), box(0.4, 0.2, 0.7, 0.5), "overlaps", True, 1.0),
        (box(0.2, 0.2, 0.5, 0.5), box(0.505, 0.2, 0.7, 0.5), "overlaps", True, 1.0),
        (box(0.2, 0.2, 0.5, 0.5), box(0.55, 0.2, 0.7, 0.5), "overlaps", False, 1.0),
        # near: at most NEAR (0.12) apart in the picture; far: beyond it, or apart in depth.
        (box(0.1, 0.4, 0.2, 0.6), box(0.3, 0.4, 0.4, 0.6), "near", True, 1.0),
        (LEFT, RIGHT, "near", False, 1.0),
        (LEFT, RIGHT, "far", True, 1.0),
        (box(0.1, 0.4, 0.2, 0.6), box(0.3, 0.4, 0.4, 0.6), "far", False, 1.0),
        (PLANE, BIKE, "near", True, 1.0),  # beside in the picture ...
        (PLANE, BIKE, "far", True, 1.0),  # ... but bottom edges 0.7 apart: far in depth
        # Bottom edges 0.45 apart, but the dog rests on the car.
        (DOG_ON_CAR, CAR_UNDER, "far", False, 1.0),
        # in_front_of / behind: the lower bottom edge is nearer the camera.
        (CAR_UNDER, DOG_ON_CAR, "in_front_of", True, 1.0),
        (DOG_ON_CAR, CAR_UNDER, "in_front_of", False, 1.0),
        (DOG_ON_CAR, CAR_UNDER, "behind", True, 1.0),
        (LEFT, RIGHT, "behind", False, 1.0),  # level bottoms: neither
        (LEFT, RIGHT, "in_front_of", False, 1.0),
        # No box test: undecided.
        (LEFT, RIGHT, "none", None, 1.0),
        (LEFT, RIGHT, "facing", None, 1.0),
    ],
)
def test_relation_holds(
    a: Box, b: Box, relation: str, expected: bool | None, aspect: float
) -> None:
    assert relation_holds(a, b, relation, aspect=aspect) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Up and to the left, 62 degrees from level: in both cones.
        (CAT_ON_TV, TV, ["left_of", "above", "on"]),
        (TV, CAT_ON_TV, ["right_of", "below", "under"]),
        # Not also "on" and "overlaps", which nesting implies.
        (CUP, TABLE, ["inside"]),
        (TABLE, CUP, ["contains"]),
        # The same box: on/under and inside/contains hold both ways, so neither is said.
        (CUP, CUP, ["overlaps"]),
        (box(0.1, 0.4, 0.2, 0.6), box(0.3, 0.4, 0.4, 0.6), ["left_of", "near"]),
        (LEFT, RIGHT, ["left_of"]),  # far, outside, level: not worth saying
        (box(0.5, 0.5, 0.51, 0.51), box(0.51, 0.51, 0.52, 0.52), ["left_of", "above", "overlaps"]),
        (SANDWICH, LAPTOP, ["below"]),
        # The bus's box rises above the person's, its bottom edge within the person's.
        (PERSON_BY_BUS, BUS, ["left_of", "under", "overlaps"]),
    ],
)
def test_relations_between_says_what_holds_without_repeating_itself(
    a: Box, b: Box, expected: list[str]
) -> None:
    assert relations_between(a, b) == expected


def test_one_vocabulary_for_facts_and_programs() -> None:
    assert ("none", *RELATIONS) == PROGRAM_RELATIONS


def _random_box(rng: random.Random) -> Box:
    if rng.random() < 0.5:  # a coarse grid: shared edges, identical and touching boxes
        x1, x2 = sorted(rng.sample([i / 10 for i in range(11)], 2))
        y1, y2 = sorted(rng.sample([i / 10 for i in range(11)], 2))
    else:
        x1, x2 = sorted((rng.random(), rng.random()))
        y1, y2 = sorted((rng.random(), rng.random()))
    return box(x1, y1, x2, y2)


def test_every_relation_said_is_one_relation_holds_grants() -> None:
    rng = random.Random(7)
    said: set[str] = set()
    for _ in range(5000):
        a, b, aspect = _random_box(rng), _random_box(rng), rng.choice([0.5, 0.75, 1.0, 1.5, 4.0])
        for relation in relations_between(a, b, aspect=aspect):
            assert relation_holds(a, b, relation, aspect=aspect), (a, b, relation, aspect)
            said.add(relation)
    assert said == set(RELATIONS) - {"outside", "far", "in_front_of", "behind"}


# How facts word each relation; the test reads sentences back through it.
WORDED = {
    "left of": "left_of", "right of": "right_of", "above": "above", "below": "below", "on": "on",
    "under": "under", "inside": "inside", "containing": "contains", "overlapping": "overlaps",
    "near": "near",
}  # fmt: skip
LABELS = ["person", "dog", "car"]
SENTENCE = re.compile(r"^\w+ #\d+ \((\w+)\) is (.+) \w+ #\d+ \((\w+)\)\.$")


def test_facts_never_state_a_relation_that_relation_holds_denies() -> None:
    rng = random.Random(11)
    checked = 0
    for _ in range(300):
        aspect = rng.choice([0.5, 1.0, 1.6])
        scene = [
            Evidence(id=f"det{i}", tool="t", kind="object", label=rng.choice(LABELS),
                     box=_random_box(rng), score=round(rng.uniform(0.3, 1.0), 2))
            for i in range(rng.randint(2, 6))
        ]  # fmt: skip
        boxes = {e.id: e.box for e in scene if e.box is not None}
        for fact in compute_facts(scene, targets=LABELS, aspect=aspect):
            m = SENTENCE.match(fact.text)
            if not m:
                continue
            ia, words, ib = m.groups()
            assert fact.evidence == [ia, ib]
            a, b = boxes[ia], boxes[ib]
            for word in re.split(r", | and ", words):
                if word == "larger than":
                    assert larger(a, b), fact.text
                elif word == "smaller than":
                    assert larger(b, a), fact.text
                else:
                    assert relation_holds(a, b, WORDED[word], aspect=aspect), fact.text
                checked += 1
    assert checked > 500


def test_a_program_agrees_with_the_fact_for_the_same_boxes() -> None:
    """Before one engine, facts said the sandwich was left of the laptop and the program said no."""
    scene = [
        Evidence(id="det0", tool="t", kind="object", label="sandwich", box=SANDWICH, score=0.9),
        Evidence(id="det1", tool="t", kind="object", label="laptop", box=LAPTOP, score=0.9),
    ]
    texts = [f.text for f in compute_facts(scene, targets=["sandwich", "laptop"])]
    assert "sandwich #1 (det0) is below and larger than laptop #1 (det1)." in texts

    def asks(relation: str) -> bool | int | str | None:
        p = Program.model_validate({
            "op": "relation", "target": "sandwich", "other": "laptop", "relation": relation,
            "attribute": "none", "value": "", "answer": "yes_no",
        })  # fmt: skip
        return execute(p, scene).value

    assert asks("below") is True and asks("left_of") is False


def test_sizes_too_close_to_call_are_neither_a_fact_nor_a_program_answer() -> None:
    dog, cat = box(0.1, 0.4, 0.3, 0.6), box(0.6, 0.4, 0.81, 0.6)  # areas 5% apart
    scene = [
        Evidence(id="det0", tool="t", kind="object", label="dog", box=dog, score=0.9),
        Evidence(id="det1", tool="t", kind="object", label="cat", box=cat, score=0.9),
        Evidence(
            id="det2", tool="t", kind="object", label="car", box=box(0.3, 0.7, 0.6, 0.95), score=0.9
        ),
    ]
    texts = [f.text for f in compute_facts(scene, targets=["dog", "cat", "car"])]
    assert "dog #1 (det0) is left of cat #1 (det1)." in texts
    assert "dog #1 (det0) is left of, above, near and smaller than car #1 (det2)." in texts

    def bigger(target: str, other: str) -> bool | int | str | None:
        p = Program.model_validate({
            "op": "compare", "target": target, "other": other, "relation": "none",
            "attribute": "size", "value": "", "answer": "text",
        })  # fmt: skip
        return execute(p, scene).value

    assert bigger("dog", "cat") is None and bigger("dog", "car") == "car"


def _b(x1: float, y1: float, x2: float, y2: float) -> Box:
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (_b(0.0, 0.0, 0.5, 1.0), _b(0.25, 0.0, 0.75, 1.0), 1 / 3),
        (_b(0.1, 0.1, 0.4, 0.4), _b(0.1, 0.1, 0.4, 0.4), 1.0),
        (_b(0.0, 0.0, 0.2, 0.2), _b(0.5, 0.5, 0.9, 0.9), 0.0),  # apart
        (_b(0.0, 0.0, 0.2, 0.2), _b(0.2, 0.0, 0.4, 0.2), 0.0),  # sharing an edge
        (_b(0.3, 0.3, 0.3, 0.3), _b(0.3, 0.3, 0.3, 0.3), 0.0),  # both empty
        # float64, as the hand-written IoU was: 0.6 in exact arithmetic, just under in floats
        (_b(0.15, 0.2, 0.3, 0.8), _b(0.15, 0.15, 0.35, 0.7), 0.5999999999999999),
    ],
)
def test_iou_table(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected, abs=0) and iou(b, a) == iou(a, b)


def test_find_drops_same_class_duplicates_by_iou_in_score_order() -> None:
    def dog(i: int, score: float, box: Box) -> Evidence:
        return Evidence(id=f"det{i}", tool="t", kind="object", label="dog", score=score, box=box)

    dogs = [
        dog(0, 0.9, _b(0.1, 0.1, 0.4, 0.4)),
        dog(1, 0.8, _b(0.12, 0.1, 0.42, 0.4)),  # IoU 0.88 with det0: the same dog
        dog(2, 0.7, _b(0.15, 0.2, 0.3, 0.8)),
        dog(3, 0.6, _b(0.15, 0.15, 0.35, 0.7)),  # IoU just under SAME with det2: kept
        dog(4, 0.5, _b(0.6, 0.6, 0.9, 0.9)),
    ]
    assert iou(dogs[2].box, dogs[3].box) < SAME  # type: ignore[arg-type]
    assert [e.id for e in find(dogs, "dog")] == ["det0", "det2", "det3", "det4"]
