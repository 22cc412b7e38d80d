"""ZoomEye's tree, arithmetic and search order on fixed scores; cues from a scripted LLM. No models."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentvlm.config import Config
from agentvlm.graph.services import Services
from agentvlm.images import load_image
from agentvlm.models import Completion, Message
from agentvlm.zoom import (
    Cue,
    ImageTree,
    SearchParams,
    ZoomNode,
    confidence,
    keep_type2,
    priority,
    regions,
    rule_cues,
    search_type1,
    search_type2,
    split_counts,
    visual_cues,
    weight,
)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((3000, 2000), (2, 2)), ((600, 2000), (1, 4)), ((2000, 1000), (4, 1)), ((1999, 1000), (2, 2))],
)
def test_patches_split_2x2_or_into_a_strip_when_twice_as_long(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert split_counts(*size) == expected


def test_tree_stops_below_the_input_size_and_at_the_depth_cap() -> None:
    tree = ImageTree(3000, 2000, input_size=416)
    assert tree.max_depth == 3  # 3000 -> 1500 -> 750 -> 375 < 416
    kids = tree.children(tree.root)
    assert [k.size for k in kids] == [(1500, 1000)] * 4
    assert (kids[3].x1, kids[3].y1, kids[3].x2, kids[3].y2) == (1500, 1000, 3000, 2000)
    leaf = tree.children(tree.children(kids[0])[0])[0]
    assert leaf.size == (375, 250) and tree.is_leaf(leaf) and tree.children(leaf) == []
    assert ImageTree(3000, 2000, input_size=416, depth_limit=2).max_depth == 2
    assert ImageTree(400, 300, input_size=416).max_depth == 0


def test_confidence_weight_and_priority_follow_the_paper() -> None:
    assert confidence(0.9) == pytest.approx(0.8)
    # w = b + (1 - b)(d / D)^2 with b = 0.2, D = 3
    assert weight(1, 3, 0.2) == pytest.approx(0.2 + 0.8 / 9)
    assert weight(3, 3, 0.2) == pytest.approx(1.0)
    w = 0.2 + 0.8 * 4 / 9
    assert priority(0.5, -0.5, 2, 3, 0.2) == pytest.approx(w * 0.5 + (1 - w) * -0.5)
    # shallow: latent leads; deep: existence leads
    assert priority(-1.0, 1.0, 1, 3, 0.2) > priority(1.0, -1.0, 1, 3, 0.2)
    assert priority(-1.0, 1.0, 3, 3, 0.2) < priority(1.0, -1.0, 3, 3, 0.2)


class _Fixed:
    """Scores keyed by the patch's top-left corner; every other patch gets -1 everywhere."""

    def __init__(self, rank: dict[tuple[int, int, int], tuple[float, float]], answer: dict[tuple[int, int, int], float]) -> None:
        self.ranks, self.answers = rank, answer
        self.rank_calls, self.answer_calls = 0, 0

    def rank(self, nodes: list[ZoomNode]) -> list[tuple[float, float]]:
        self.rank_calls += 1
        return [self.ranks.get((n.depth, n.x1, n.y1), (-1.0, -1.0)) for n in nodes]

    def answer(self, node: ZoomNode) -> float:
        self.answer_calls += 1
        return self.answers.get((node.depth, node.x1, node.y1), -1.0)


def test_type1_follows_priority_down_and_stops_when_it_can_answer() -> None:
    tree = ImageTree(3000, 2000, input_size=416)
    scores = _Fixed(
        rank={(1, 1500, 1000): (-0.2, 0.9), (1, 0, 0): (0.1, 0.1), (2, 2250, 1500): (0.9, 0.5)},
        answer={(2, 2250, 1500): 0.7},
    )
    res = search_type1(tree, scores.rank, scores.answer)
    assert [(n.depth, n.x1, n.y1) for n in res.popped] == [(0, 0, 0), (1, 1500, 1000), (2, 2250, 1500)]
    assert [(n.depth, n.x1, n.y1) for n in res.found] == [(2, 2250, 1500)]
    # children of each expanded node scored in one batch: root and one depth-1 node
    assert scores.rank_calls == 2 and len(res.scored) == 8
    assert scores.answer_calls == 3


def test_type1_lowers_the_threshold_after_the_pop_limit_and_takes_the_best_seen() -> None:
    tree = ImageTree(3000, 2000, input_size=416)  # D = 3: pop limit 9, then every 2 pops
    scores = _Fixed(rank={(1, 0, 0): (0.5, 0.5)}, answer={(1, 0, 0): 0.55, (2, 0, 0): 0.45})
    res = search_type1(tree, scores.rank, scores.answer)
    assert len(res.popped) == 9
    assert res.threshold == pytest.approx(0.5)  # 0.6 - 0.1
    assert [(n.depth, n.x1, n.y1) for n in res.found] == [(1, 0, 0)]


def test_type1_gives_up_below_the_floor() -> None:
    tree = ImageTree(3000, 2000, input_size=416)
    res = search_type1(tree, _Fixed({}, {}).rank, _Fixed({}, {}).answer)
    assert res.found == [] and res.threshold < 0.0
    assert len(res.popped) == 9 + 2 * 4  # 0.6 -> 0.5 -> 0.4 -> 0.2 -> 0.0 -> -0.2 (below the floor of 0)


def test_type1_force_no_root_never_answers_at_the_root() -> None:
    tree = ImageTree(3000, 2000, input_size=416)
    scores = _Fixed(rank={(1, 0, 0): (0.9, 0.9)}, answer={(0, 0, 0): 1.0, (1, 0, 0): 0.9})
    res = search_type1(tree, scores.rank, scores.answer, SearchParams(force_no_root=True))
    assert [(n.depth, n.x1) for n in res.found] == [(1, 0)]


def test_type2_keeps_nodes_that_beat_their_best_descendant() -> None:
    tree = ImageTree(3000, 2000, input_size=416)
    ranks = {(0, 0, 0): (0.7, 0.0), (1, 0, 0): (0.65, 0.0), (2, 0, 0): (0.9, 0.0), (2, 750, 0): (0.8, 0.0), (1, 1500, 1000): (0.8, 0.0)}
    res = search_type2(tree, _Fixed(ranks, {}).rank)
    assert len(res.scored) == 1 + 4 + 16
    kept = {(n.depth, n.x1, n.y1) for n in res.found}
    # (2,0,0) beats everything below it; (2,750,0) too; (1,0,0) loses to its child; the root loses to 0.9;
    # (1,1500,1000) has only -1 below it
    assert kept == {(2, 0, 0), (2, 750, 0), (1, 1500, 1000)}
    assert keep_type2(tree.root, cue_threshold=0.85) and {(n.depth, n.x1) for n in keep_type2(tree.root, cue_threshold=0.85)} == {(2, 0)}


def test_regions_enlarge_and_merge_only_heavy_overlaps(zidane_jpg: Any) -> None:
    image = load_image(zidane_jpg)  # 1280 x 720
    tree = ImageTree(image.width, image.height, input_size=200)
    a, b, _c, d = tree.children(tree.root)
    boxes = regions([a, b, d], image, min_side=200)
    assert len(boxes) == 3  # neighbours share margins only
    assert boxes[0].x2 == pytest.approx(0.6) and boxes[0].x1 == 0.0  # 640 * 1.2 = 768 px, clipped at the left edge
    assert len(regions([a, a], image, min_side=200)) == 1


def _services(llm: Any) -> Services:
    return Services(Config(cache=False), llm=llm)


class _ScriptedLLM:
    """Answers every structured call with fixed JSON, as a llama.cpp server under a schema would."""

    spec = "scripted"

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, messages: list[Message], **_: Any) -> Completion:
        return Completion(text=self.reply)


def test_cues_keep_what_the_question_names_and_mark_all_x_exhaustive() -> None:
    cues = visual_cues("How many cars are parked by the red sign?", services=_services(_ScriptedLLM(json.dumps({"objects": ["all cars", "red sign", "dog"]}))))
    assert [(c.phrase, c.label, c.text, c.exhaustive) for c in cues] == [("car", "car", False, True), ("red sign", None, True, False)]
    assert [c.exhaustive for c in rule_cues("How many people are near the bus?")] == [True, False]


def test_cues_fall_back_to_rules_when_the_llm_gives_nothing_usable() -> None:
    cues = visual_cues("Is there a person? Where?", services=_services(_ScriptedLLM(json.dumps({"objects": ["zebra crossing"]}))))
    assert cues == [Cue(phrase="person", label="person")]
    assert visual_cues("What does it say?", services=_services(_ScriptedLLM("not json"))) == [Cue(phrase="text", text=True)]
    assert [c.phrase for c in rule_cues('Where does it say "Sports Centre"?')] == ["Sports Centre"]
