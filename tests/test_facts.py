"""Facts computed in code: grid positions, counts, pairwise relations and their sentences."""

from __future__ import annotations

import pytest

from agentvlm.evidence import Fact, compute_facts, counts, evidence_ids, position_words, relations
from agentvlm.types import Box, Evidence


def box(x1: float, y1: float, x2: float, y2: float) -> Box:
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


def obj(label: str, b: Box | None, score: float = 0.9, id: str = "") -> Evidence:
    return Evidence(id=id, tool="fake", kind="object", label=label, box=b, score=score)


def around(cx: float, cy: float, r: float = 0.05) -> Box:
    return box(cx - r, cy - r, cx + r, cy + r)


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        (around(1 / 6, 1 / 6), "top-left"),
        (around(1 / 2, 1 / 6), "top"),
        (around(5 / 6, 1 / 6), "top-right"),
        (around(1 / 6, 1 / 2), "left"),
        (around(1 / 2, 1 / 2), "center"),
        (around(5 / 6, 1 / 2), "right"),
        (around(1 / 6, 5 / 6), "bottom-left"),
        (around(1 / 2, 5 / 6), "bottom"),
        (around(5 / 6, 5 / 6), "bottom-right"),
        (box(0, 0, 1, 1), "center"),
        # A centre exactly on a third line belongs to the middle cell.
        (box(0, 0, 2 / 3, 2 / 3), "center"),
        (box(1 / 3, 1 / 3, 1, 1), "center"),
        (box(0.30, 0.30, 0.36, 0.36), "top-left"),  # centre 0.33, just inside the first third
        (box(0.64, 0.64, 0.70, 0.70), "bottom-right"),  # centre 0.67
        (box(0.0, 0.4, 0.1, 0.9), "left"),  # a tall box: its centre decides, not its top
    ],
)
def test_position_words(b: Box, expected: str) -> None:
    assert position_words(b) == expected


def test_counts_by_class_most_frequent_first_with_synonyms_merged() -> None:
    evidence = [
        obj("person", around(0.2, 0.5)),
        obj("car", around(0.5, 0.5)),
        obj("person", around(0.8, 0.5)),
        obj("sofa", around(0.3, 0.8)),  # Darknet's name for a couch
        obj("couch", around(0.7, 0.8)),
        obj("bus", around(0.5, 0.2)),
        Evidence(tool="ocr", kind="text", text="person", box=around(0.5, 0.9)),
        Evidence(tool="seg", kind="mask", label="person", box=around(0.2, 0.5)),
    ]
    assert list(counts(evidence).items()) == [("couch", 2), ("person", 2), ("bus", 1), ("car", 1)]
    assert counts([]) == {}


LEFT, RIGHT = box(0.1, 0.4, 0.2, 0.6), box(0.6, 0.4, 0.7, 0.6)
TOP, BOTTOM = box(0.4, 0.1, 0.6, 0.2), box(0.4, 0.6, 0.6, 0.7)
SMALL, BIG = box(0.4, 0.4, 0.5, 0.5), box(0.2, 0.2, 0.8, 0.8)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (LEFT, RIGHT, ["left of"]),
        (RIGHT, LEFT, ["right of"]),
        (TOP, BOTTOM, ["above"]),
        (BOTTOM, TOP, ["below"]),
        (SMALL, BIG, ["inside", "smaller than"]),
        (BIG, SMALL, ["contains", "larger than"]),
        # A face in the upper part of a person box is inside it, not "above" it.
        (box(0.4, 0.2, 0.5, 0.3), box(0.3, 0.2, 0.6, 0.9), ["inside", "smaller than"]),
        (box(0.2, 0.2, 0.5, 0.5), box(0.4, 0.2, 0.7, 0.5), ["left of", "overlapping"]),
        (box(0.1, 0.1, 0.4, 0.4), box(0.6, 0.15, 0.8, 0.35), ["left of", "larger than"]),
        (box(0.6, 0.15, 0.8, 0.35), box(0.1, 0.1, 0.4, 0.4), ["right of", "smaller than"]),
        (box(0.1, 0.1, 0.4, 0.3), box(0.6, 0.05, 0.8, 0.35), ["left of"]),  # same area, other shape
        # Diagonal neighbours touching at a corner: in both direction cones, and touching.
        (box(0.50, 0.50, 0.51, 0.51), box(0.51, 0.51, 0.52, 0.52), ["left of", "above", "overlapping"]),
        # Side by side and 0.1 apart: near; a sandwich below a laptop is not also "left of" it.
        (box(0.1, 0.4, 0.2, 0.6), box(0.3, 0.4, 0.4, 0.6), ["left of", "near"]),
        (box(0.1, 0.4, 0.7, 0.9), box(0.3, 0.0, 0.9, 0.2), ["below", "larger than"]),
        # Resting on: a cat on a TV, a little above its top edge.
        (box(0.3, 0.1, 0.5, 0.46), box(0.2, 0.5, 0.8, 1.0), ["above", "on", "smaller than"]),
        # Sizes within 20% are not "larger".
        (box(0.1, 0.4, 0.2, 0.6), box(0.6, 0.4, 0.71, 0.6), ["left of"]),
        # Two wide, near-identical boxes 0.05 apart: not "left of", not "inside", just overlapping.
        (box(0.10, 0.3, 0.70, 0.6), box(0.15, 0.3, 0.75, 0.6), ["overlapping"]),
        (SMALL, None, []),
    ],
)
def test_relations(a: Box, b: Box | None, expected: list[str]) -> None:
    assert relations(obj("a", a), obj("b", b)) == expected


STREET = [
    obj("car", box(0.55, 0.50, 0.95, 0.80), 0.90, "det0"),
    obj("stop sign", box(0.10, 0.20, 0.20, 0.35), 0.80, "det1"),
    obj("person", box(0.40, 0.40, 0.50, 0.90), 0.70, "det2"),
]


def test_compute_facts_targets_first_with_relation_and_missing_target() -> None:
    facts = compute_facts(STREET, targets=["stop sign", "car", "dog"])
    assert [f.text for f in facts] == [
        "There is 1 stop sign.",
        "stop sign #1 (det1) is at the top-left.",
        "There is 1 car.",
        "car #1 (det0) is at the right.",
        "No dog was detected.",
        "stop sign #1 (det1) is left of, above and smaller than car #1 (det0).",
        "There is 1 person.",
        "person #1 (det2) is at the center.",
    ]
    relation = facts[5]
    assert relation.evidence == ["det1", "det0"] and relation.labels == ["stop sign", "car"]
    assert facts[4] == Fact(text="No dog was detected.", evidence=[], labels=["dog"])


def test_relation_direction_follows_the_question() -> None:
    facts = compute_facts(STREET, targets=["car", "stop sign"])
    assert "car #1 (det0) is right of, below and larger than stop sign #1 (det1)." in [
        f.text for f in facts
    ]


def test_without_targets_only_counts_and_positions() -> None:
    texts = [f.text for f in compute_facts(STREET)]
    assert texts[0] == "There is 1 car." and not any(" of" in t for t in texts)


def test_instances_are_numbered_left_to_right() -> None:
    people = [
        obj("person", around(x, 0.5, 0.04), id=f"det{i}") for i, x in enumerate([0.8, 0.2, 0.5])
    ]
    texts = [f.text for f in compute_facts(people, targets=["people"])]  # synonyms accepted
    assert texts[:4] == [
        "There are 3 people.",
        "person #1 (det1) is at the left.",
        "person #2 (det2) is at the center.",
        "person #3 (det0) is at the right.",
    ]


@pytest.mark.parametrize(
    ("label", "n", "sentence"),
    [
        ("person", 1, "There is 1 person."),
        ("person", 3, "There are 3 people."),
        ("bus", 2, "There are 2 buses."),
        ("knife", 2, "There are 2 knives."),
        ("traffic light", 2, "There are 2 traffic lights."),
        ("wine glass", 4, "There are 4 wine glasses."),
        ("scissors", 1, "There is 1 pair of scissors."),
        ("skis", 2, "There are 2 pairs of skis."),
    ],
)
def test_count_sentences_are_correct_english(label: str, n: int, sentence: str) -> None:
    evidence = [obj(label, around(0.1 + 0.15 * i, 0.5), id=f"det{i}") for i in range(n)]
    first = compute_facts(evidence, targets=[label])[0]
    assert first.text == sentence
    assert first.evidence == [f"det{i}" for i in range(n)]


def test_relations_are_capped_and_best_scored_pairs_come_first() -> None:
    people = [
        obj("person", around(0.1 + 0.15 * i, 0.5), 0.5 + 0.05 * i, f"det{i}") for i in range(6)
    ]
    facts = compute_facts(people, targets=["person"])
    relation_facts = [f for f in facts if " of" in f.text]
    assert len(relation_facts) == 12  # 15 pairs, capped
    assert relation_facts[0].text == "person #5 (det4) is left of and near person #6 (det5)."


def test_mask_area_and_position() -> None:
    mask = Evidence(
        id="seg0", tool="seg", kind="mask", label="person", box=box(0.3, 0.2, 0.7, 0.9),
        attributes={"area": 0.234, "centroid": [0.5, 0.55]},
    )  # fmt: skip
    facts = compute_facts([mask], targets=["person"])
    assert [f.text for f in facts] == [
        "The person mask (seg0) covers 23% of the image, at the center."
    ]


def test_evidence_without_ids_gets_index_based_ids() -> None:
    evidence = [
        obj("dog", around(0.2, 0.5)),
        Evidence(tool="ocr", kind="text", text="x"),
        obj("dog", around(0.8, 0.5)),
    ]
    assert evidence_ids(evidence) == ["det0", "ocr1", "det2"]
    assert "dog #2 (det2) is at the right." in [f.text for f in compute_facts(evidence)]


def test_weak_detections_are_counted_apart_so_the_first_number_is_the_sure_count() -> None:
    people = [
        obj("person", box(0.60, 0.04, 0.88, 0.99), 0.81, id="det0"),
        obj("person", box(0.09, 0.28, 0.60, 1.00), 0.54, id="det1"),
        obj("person", box(0.34, 0.25, 0.80, 0.97), 0.35, id="det2"),  # a duplicate box at low confidence
    ]
    facts = compute_facts(people, targets=["person"])
    assert facts[0].text == "There are 2 people (plus 1 uncertain detection)."
    assert facts[0].evidence == ["det1", "det0"]
    only_weak = compute_facts([people[2]], targets=["person"])
    assert only_weak[0].text == "No person was detected with confidence (plus 1 uncertain detection)."


def test_relations_can_be_left_out_for_questions_that_do_not_ask_where() -> None:
    a = obj("person", box(0.05, 0.2, 0.25, 0.9), 0.9, id="det0")
    b = obj("person", box(0.60, 0.2, 0.80, 0.9), 0.9, id="det1")
    with_rel = [f.text for f in compute_facts([a, b], targets=["person"])]
    without = [f.text for f in compute_facts([a, b], targets=["person"], with_relations=False)]
    assert any("left of" in t for t in with_rel)
    assert not any("left of" in t for t in without)


def test_relations_are_judged_in_pixels_of_the_image() -> None:
    a = obj("dog", box(0.1, 0.1, 0.2, 0.2), id="det0")
    b = obj("cat", box(0.3, 0.52, 0.4, 0.62), id="det1")
    panorama = [f.text for f in compute_facts([a, b], targets=["dog", "cat"], aspect=4.0)]
    portrait = [f.text for f in compute_facts([a, b], targets=["dog", "cat"], aspect=0.5)]
    assert "dog #1 (det0) is left of and above cat #1 (det1)." in panorama
    assert "dog #1 (det0) is above cat #1 (det1)." in portrait
