"""Question analysis and grounded answer candidates, on fixed inputs."""

from __future__ import annotations

import pytest

from agentvlm.graph.nodes import choice_letter, rules_plan
from agentvlm.perception.candidates import NOT_FOUND, answer_candidates
from agentvlm.types import Box, Evidence


@pytest.mark.parametrize(
    ("question", "kind", "tools", "targets"),
    [
        ("How many people are in this picture?", "count", ["detect"], ["person"]),
        ("What does the sign say?", "read", ["detect", "ocr"], []),
        ("Is there a bus?", "yesno", ["detect"], ["bus"]),
        ("Is the person on the left wearing a tie?", "yesno", ["detect"], ["person", "tie"]),
        ("Where is the dog?", "where", ["detect"], ["dog"]),
        ("How much of the image does the car cover?", "other", ["detect", "segment"], ["car"]),
        ("What is written on the bus?", "read", ["detect", "ocr"], ["bus"]),
        ("Describe the scene.", "other", ["detect"], []),
    ],
)
def test_rules_plan(question: str, kind: str, tools: list[str], targets: list[str]) -> None:
    plan = rules_plan(question)
    assert (plan.kind, plan.tools, plan.targets) == (kind, tools, targets)
    assert plan.instruction.startswith("Describe the image, especially")


def _obj(label: str, score: float, x: float = 0.1) -> Evidence:
    return Evidence(tool="t", kind="object", label=label, score=score, box=Box(x1=x, y1=0.1, x2=x + 0.2, y2=0.9))


def _text(text: str, y: float) -> Evidence:
    return Evidence(tool="t", kind="text", text=text, score=0.99, box=Box(x1=0.2, y1=y, x2=0.6, y2=y + 0.05))


def test_count_candidates_are_the_sure_count_then_all() -> None:
    ev = [_obj("person", 0.9), _obj("person", 0.6, 0.5), _obj("person", 0.3, 0.7), _obj("dog", 0.9)]
    assert answer_candidates("count", ev, targets=["person"]) == ["2", "3"]
    assert answer_candidates("count", ev, targets=["cat"]) == ["0"]


def test_yes_no_candidates_put_the_evidence_first() -> None:
    assert answer_candidates("yesno", [_obj("bus", 0.8)], targets=["bus"]) == ["yes", "no"]
    assert answer_candidates("yesno", [_obj("bus", 0.8)], targets=["dog"]) == ["no", "yes"]


def test_read_candidates_are_whole_blocks() -> None:
    sign = [_text("NOTICE", 0.10), _text("NO PARKING", 0.16), _text("Post", 0.80)]
    assert answer_candidates("read", sign) == ["NOTICE NO PARKING", "Post", NOT_FOUND]
    assert answer_candidates("read", []) == [NOT_FOUND]


def test_choices_are_letters_and_other_questions_are_free() -> None:
    assert answer_candidates("choice", [], choices=["yes", "no"]) == ["A", "B"]
    assert answer_candidates("other", [_obj("dog", 0.9)]) is None


@pytest.mark.parametrize(
    ("text", "letter"),
    [("B", "B"), ("(b)", "B"), ("Answer: A", "A"), ("The answer is (B).", "B"), ("right", "B"), ("left of it", "A"), ("maybe", None)],
)
def test_choice_letter(text: str, letter: str | None) -> None:
    assert choice_letter(text, ["left", "right"]) == letter


def test_a_follow_up_inherits_the_previous_turns_targets() -> None:
    from agentvlm.graph.nodes import make_plan
    from agentvlm.graph.services import Recorder

    plan = make_plan(None, planner="rules")  # type: ignore[arg-type]  # the rule planner needs no services
    rec = Recorder()
    state = {"question": "and the one on the left?", "history": [{"question": "How many people are there?", "answer": "2"}]}
    out = plan(state, rec)  # type: ignore[arg-type]
    assert out["plan"].targets == ["person"]
    assert rec.notes == ["targets carried over from the previous turn: person"]
    assert plan({"question": "Is there a bus?", "history": state["history"]}, Recorder())["plan"].targets == ["bus"]  # type: ignore[arg-type]
