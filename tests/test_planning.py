"""Plans read off the question's analysis, and grounded answer candidates, on fixed inputs."""

from __future__ import annotations

import pytest

from agentvlm.evidence.candidates import NOT_FOUND, answer_candidates
from agentvlm.graph.nodes import rules_plan
from agentvlm.question import analyze
from agentvlm.question.letters import option_letter as choice_letter
from agentvlm.types import Box, Evidence


@pytest.mark.parametrize(
    ("question", "form", "tools", "targets"),
    [
        ("How many people are in this picture?", "count", ["detect"], ["person"]),  # text surely irrelevant: no OCR
        ("What does the sign say?", "read", ["detect", "ocr"], []),
        ("Is there a bus?", "yes_no", ["detect"], ["bus"]),
        ("Is the person on the left wearing a tie?", "yes_no", ["detect"], ["person", "tie"]),
        ("Where is the dog?", "position", ["detect"], ["dog"]),
        ("How much of the image does the car cover?", "number", ["detect", "ocr", "segment"], ["car"]),
        ("What is written on the bus?", "read", ["detect", "ocr"], ["bus"]),
        ("Describe the scene.", "open", ["detect", "ocr"], []),  # OCR is cheap: it runs unless surely irrelevant
    ],
)
def test_rules_plan(question: str, form: str, tools: list[str], targets: list[str]) -> None:
    plan = rules_plan(question)
    assert (analyze(question).form, plan.tools, plan.targets) == (form, tools, targets)
    assert plan.instruction.startswith("Describe the image, especially")


def _obj(label: str, score: float, x: float = 0.1) -> Evidence:
    return Evidence(tool="t", kind="object", label=label, score=score, box=Box(x1=x, y1=0.1, x2=x + 0.2, y2=0.9))


def _text(text: str, y: float) -> Evidence:
    return Evidence(tool="t", kind="text", text=text, score=0.99, box=Box(x1=0.2, y1=y, x2=0.6, y2=y + 0.05))


def test_count_candidates_are_the_sure_count_then_all() -> None:
    ev = [_obj("person", 0.9), _obj("person", 0.6, 0.5), _obj("person", 0.3, 0.7), _obj("dog", 0.9)]
    assert answer_candidates(analyze("How many people are there?"), ev) == ["2", "3"]
    assert answer_candidates(analyze("How many cats are there?"), ev) == ["0"]


def test_yes_no_candidates_put_the_evidence_first() -> None:
    assert answer_candidates(analyze("Is there a bus?"), [_obj("bus", 0.8)]) == ["yes", "no"]
    assert answer_candidates(analyze("Is there a dog?"), [_obj("bus", 0.8)]) == ["no", "yes"]


def test_read_candidates_are_whole_blocks() -> None:
    sign = [_text("NOTICE", 0.10), _text("NO PARKING", 0.16), _text("Post", 0.80)]
    assert answer_candidates(analyze("What does the sign say?"), sign) == ["NOTICE NO PARKING", "Post", NOT_FOUND]
    assert answer_candidates(analyze("What does the sign say?"), []) == [NOT_FOUND]


def test_choices_are_letters_and_other_questions_are_free() -> None:
    assert answer_candidates(analyze("Is the dog left of the cat?", ["yes", "no"]), []) == ["A", "B"]
    assert answer_candidates(analyze("Why is the dog running?"), [_obj("dog", 0.9)]) is None


def test_alternatives_and_places_have_candidates_of_their_form() -> None:
    assert answer_candidates(analyze("Is the cup full or empty?"), []) == ["full", "empty"]
    assert answer_candidates(analyze("Where was this photo taken?"), [_obj("bus", 0.9)]) == ["a street"]


@pytest.mark.parametrize(
    ("text", "letter"),
    [("B", "B"), ("(b)", "B"), ("Answer: A", "A"), ("The answer is (B).", "B"), ("right", "B"), ("left of it", "A"), ("maybe", None)],
)
def test_choice_letter(text: str, letter: str | None) -> None:
    assert choice_letter(text, ["left", "right"]) == letter


def test_a_follow_up_inherits_the_previous_turns_targets() -> None:
    from agentvlm.graph.nodes import make_analyze, make_plan
    from agentvlm.graph.services import Recorder

    analyze_node = make_analyze(None, llm=False)  # type: ignore[arg-type]  # the rules need no services
    plan = make_plan(None, planner="rules")  # type: ignore[arg-type]
    rec = Recorder()
    state = {"question": "and the one on the left?", "history": [{"question": "How many people are there?", "answer": "2"}]}
    out = analyze_node(state, rec)  # type: ignore[arg-type]
    assert out["analysis"].labels == ["person"]
    assert rec.notes[0] == "targets carried over from the previous turn: person"
    assert plan({**state, **out}, Recorder())["plan"].targets == ["person"]  # type: ignore[arg-type]
    fresh = analyze_node({"question": "Is there a bus?", "history": state["history"]}, Recorder())  # type: ignore[arg-type]
    assert fresh["analysis"].labels == ["bus"]
