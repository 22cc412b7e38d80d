"""Scoring, dataset loading and summaries on the real item formats of the shared evaluation data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentvlm.errors import InputError
from agentvlm.eval.dataset import EvalItem, load_dataset, rotate, select
from agentvlm.eval.report import render_report, summarize
from agentvlm.eval.scoring import (
    anls,
    answer_has_form,
    chance,
    mc_letter,
    parse_number,
    score_answer,
)
from agentvlm.question.letters import option_letter

FOLDERS = ("blink_spatial_relation", "blink_relative_depth", "blink_jigsaw", "nlvr_synthetic")


@pytest.fixture(scope="module")
def items(evaldata: Path) -> dict[str, list[EvalItem]]:
    return {f: load_dataset(evaldata / f / "questions.jsonl") for f in FOLDERS}


def test_every_folder_loads_with_absolute_images_and_known_types(items: dict[str, list[EvalItem]]) -> None:
    assert {f: len(v) for f, v in items.items()} == {
        "blink_spatial_relation": 143, "blink_relative_depth": 124, "blink_jigsaw": 150, "nlvr_synthetic": 200}
    jigsaw = items["blink_jigsaw"][0]
    assert len(jigsaw.images) == 3 and all(Path(p).is_absolute() and Path(p).is_file() for p in jigsaw.images)
    assert {it.answer_type for it in items["nlvr_synthetic"]} == {"true_false"}
    assert all(it.answer_type == "multiple_choice_letter" for f in FOLDERS[:3] for it in items[f])


@pytest.mark.parametrize(
    ("folder", "prediction", "correct"),
    [
        ("blink_spatial_relation", "The answer is (B).", True),  # item 1: "Is the car beneath the cat?" -> B "no"
        ("blink_spatial_relation", "b", True),
        ("blink_spatial_relation", "no", True),  # the option's text
        ("blink_spatial_relation", "No, the car is not beneath the cat.", True),
        ("blink_spatial_relation", "Answer: A", False),
        ("blink_spatial_relation", "yes", False),
        ("blink_spatial_relation", "(B) yes", True),  # a leading letter outranks option text
        ("blink_spatial_relation", "I cannot tell", False),
        ("blink_relative_depth", "B is closer", True),  # options "A is closer" / "B is closer"
        ("blink_relative_depth", "A is closer", False),
        ("blink_relative_depth", "(B)", True),
        ("blink_jigsaw", "the third image", True),  # options "the second image" / "the third image"
        ("blink_jigsaw", "B.", True),
        ("blink_jigsaw", "the second image", False),
    ],
)
def test_multiple_choice_reads_letters_and_option_text(
    items: dict[str, list[EvalItem]], folder: str, prediction: str, correct: bool
) -> None:
    item = items[folder][0]
    assert item.answer == "B"
    assert score_answer(prediction, item.answer, item.answer_type, choices=item.choices).correct is correct


def test_true_false_maps_yes_and_no(items: dict[str, list[EvalItem]]) -> None:
    true_item, false_item = items["nlvr_synthetic"][0], items["nlvr_synthetic"][1]
    assert (true_item.answer, false_item.answer) == ("true", "false")
    for prediction, says_true in [("yes", True), ("True.", True), ("The statement is true", True), ("no", False),
                                  ("False", False), ("It is not true.", False)]:
        assert score_answer(prediction, true_item.answer, "true_false").correct is says_true
        assert score_answer(prediction, false_item.answer, "true_false").correct is not says_true
    assert not score_answer("maybe", "true", "true_false").correct


@pytest.mark.parametrize(
    ("prediction", "answer", "correct"),
    [("3 people", "3", True), ("two", "2", True), ("There are 2 dogs.", "two", True), ("4", "3", False),
     ("The Red Car", "red car", True), ("blue", "red", False), ("1,200", "1200", True), ("7.5", "7.50", True)],
)
def test_short_answers_compare_numbers_as_numbers(prediction: str, answer: str, correct: bool) -> None:
    assert score_answer(prediction, answer, "short_answer").correct is correct
    assert score_answer(prediction, [answer, "something else"], "short_answer").correct is correct


def test_anls_grades_text_reading() -> None:
    assert anls("NO DOUBLE PARKING", ["no double parking"]) == 1.0
    assert 0.8 < anls("NO DOUBLE PARKNG", ["no double parking"]) < 1.0
    assert anls("stop", ["no double parking"]) == 0.0  # below the 0.5 threshold
    verdict = score_answer("NO DOUBLE PARKNG", "No double parking", "ocr")
    assert not verdict.correct and verdict.score > 0.9


def test_helpers() -> None:
    assert parse_number("three people") == 3.0 and parse_number("none") is None
    assert mc_letter("dark red", ["red", "dark red"]) == "B"  # the longer option named wins
    assert chance("multiple_choice_letter", ["a", "b", "c", "d"]) == 0.25 and chance("short_answer") is None


def test_rotations_move_the_gold_letter(items: dict[str, list[EvalItem]]) -> None:
    item = items["blink_jigsaw"][0]  # B "the third image"
    assert rotate(item, 0) == (["the second image", "the third image"], "B")
    assert rotate(item, 1) == (["the third image", "the second image"], "A")


def test_limit_takes_a_balanced_evenly_spread_subset(items: dict[str, list[EvalItem]]) -> None:
    nlvr = items["nlvr_synthetic"]
    subset = select(nlvr, 20)
    assert len(subset) == 20 and subset == select(nlvr, 20)
    assert [it.id for it in subset] == sorted((it.id for it in subset), key=[i.id for i in nlvr].index)
    mixed = select(nlvr[:5] + items["blink_jigsaw"][:15], 8)  # 5 + 15 items in two categories -> 2 + 6
    assert sum(it.category == "blink_jigsaw" for it in mixed) == 6


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "a", "image": "x.jpg", "question": "Q?", "answer": "C", "choices": ["p", "q"]}', "option letter"),
        ('{"id": "a", "image": "missing.jpg", "question": "Q?", "answer": "yes"}', "image not found"),
        ('{"id": "a", "image": "x.jpg", "question": "", "answer": "yes"}', "'question'"),
        ('{"id": "a", "image": "x.jpg", "question": "Q?", "answer": "2", "answer_type": "essay"}', "unknown answer_type"),
    ],
)
def test_bad_datasets_say_which_line_and_what_to_fix(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "x.jpg").write_bytes(b"")
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InputError, match=message) as err:
        load_dataset(path)
    assert "line 1" in str(err.value)


def test_summary_counts_circular_and_pairs(items: dict[str, list[EvalItem]]) -> None:
    a, b = (it.model_copy(update={"pair_id": "p1"}) for it in items["blink_jigsaw"][:2])

    def row(it: EvalItem, rotation: int, correct: bool, system: str = "prism", form_ok: bool = True) -> dict[str, object]:
        return {"id": it.id, "dataset": it.dataset, "rotation": rotation, "correct": correct, "score": float(correct),
                "system": system, "baseline": system if system == "blind" else None, "form_ok": form_ok,
                "seconds": 1.0, "model_calls": 1, "tool_calls": 0, "error": None}

    rows = [row(a, 0, True), row(a, 1, True), row(b, 0, True), row(b, 1, False), row(a, 0, False, "blind"),
            row(b, 0, True, "blind", False), row(a, 0, False, "moai"), row(b, 0, False, "moai", False)]
    summary = summarize(rows, [a, b], systems=["prism", "moai", "blind"], models={"llm": "x"}, circular=True, complete=False)
    assert summary["accuracy"] == 1.0 and summary["circular_accuracy"] == 0.5 and summary["chance"] == 0.5
    assert summary["systems"]["prism"]["pair_accuracy"] == 1.0
    assert summary["systems"]["blind"]["accuracy"] == 0.5 and summary["systems"]["moai"]["accuracy"] == 0.0
    assert [s["form_ok"] for s in summary["systems"].values()] == [1.0, 0.5, 0.5]
    assert summary["systems"]["moai"]["per_category"]["blink_jigsaw"] == {
        "n": 2, "accuracy": 0.0, "form_ok": 0.5, "circular_accuracy": None, "circular_n": 0, "pair_accuracy": 0.0,
        "pairs": 1}
    report = render_report(summary)
    assert "# Evaluation: prism, moai beside blind" in report and "INCOMPLETE" in report
    assert "| items | n | chance | prism | moai | blind | uplift vs blind | prism circular | moai circular | blind circular |" in report
    assert "| all | 2 | 50.0 | 100.0 | 0.0 | 50.0 | +50.0 | 50.0 | – | – |" in report
    assert "| dataset blink_jigsaw | 2 | 50.0 | 100.0 | 0.0 | 50.0 | +50.0 |" in report
    assert "| category blink_jigsaw" not in report  # the category is the dataset again
    assert "| moai | 2 | 1.00 | 1.00 | 0.00 | 50.0 | 0 |" in report
    json.dumps(summary)


def test_importing_scoring_loads_no_langgraph() -> None:
    import subprocess
    import sys

    code = "import sys, agentvlm.eval.scoring; print(sorted(m for m in sys.modules if m.split('.')[0] == 'langgraph'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "choices", "letter"),
    [
        ("B", ["left", "right"], "B"),
        ("(b)", ["left", "right"], "B"),
        ("Answer: A", ["left", "right"], "A"),
        ("The answer is (B).", ["left", "right"], "B"),
        ("right", ["left", "right"], "B"),
        ("a cat is on the right", ["left", "right"], "B"),  # the article is not option A
        ("A cat is on the left", ["left", "right"], "A"),
        ("It is a dog", ["cat", "bird"], None),
        ("A is closer", ["A is closer", "B is closer"], "A"),
        ("A is closer", ["", ""], "A"),  # "A" before "is" names the option
        ("a cat is on the right", ["", ""], None),
        ("(a) cat", ["cat", "dog"], "A"),
        ("I think b", ["x", "y"], "B"),
        ("maybe", ["left", "right"], None),
        ("C", ["left", "right"], None),
    ],
)
def test_option_letter(text: str, choices: list[str], letter: str | None) -> None:
    assert option_letter(text, choices) == letter


def _item(category: str, answer_type: str = "short_answer", question: str = "Q?", answer: str | list[str] = "x",
          **extra: object) -> EvalItem:
    return EvalItem.model_validate({"id": "1", "dataset": "d", "question": question, "images": ["x.jpg"],
                                    "answer": answer, "answer_type": answer_type, "category": category, **extra})


MC = {"answer_type": "multiple_choice_letter", "answer": "B", "choices": ["yes", "no"]}
COLOUR = {"question": "What colour is the bus?"}
SIDES = {"options": ["left", "right"]}


@pytest.mark.parametrize(
    ("prediction", "item", "ok"),
    [
        ("", _item("all"), False),
        ("anything at all", _item("all"), True),  # no rule for the category: any answer
        ("B", _item("all", **MC), True),
        ("(b).", _item("all", **MC), True),
        ("(B) no", _item("all", **MC), True),
        ("(B) yes", _item("all", **MC), False),  # the letter of one option, the text of the other
        ("C", _item("all", **MC), False),
        ("no", _item("all", **MC), False),  # a letter is asked for
        ("Yes.", _item("all", "true_false", answer="true"), True),
        ("False", _item("all", "true_false", answer="true"), True),
        ("yes, there is", _item("all", "true_false", answer="true"), False),
        ("0.91", _item("all", "true_false", answer="true"), False),
        ("no", _item("yes_no"), True),
        ("not found in the image", _item("yes_no"), False),
        ("3", _item("count"), True),
        ("three", _item("count"), True),
        ("3 people", _item("count"), True),
        ("There are 3 people.", _item("count"), False),
        ("2.5", _item("count"), False),
        ("many", _item("count"), False),
        ("$3.50", _item("number"), True),
        ("12%", _item("number"), True),
        ("3.5 km/h", _item("number"), True),
        ("1,200", _item("number"), True),
        ("about 3", _item("number"), False),
        ("left", _item("alternative", **SIDES), True),
        ("the left one", _item("alternative", **SIDES), True),
        ("left and right", _item("alternative", **SIDES), False),
        ("yes", _item("alternative", **SIDES), False),
        ("0.91", _item("alternative"), False),
        ("not found in the image", _item("alternative"), False),
        ("the cat", _item("compare", answer="dog"), True),  # no options: one short phrase
        ("cat or dog", _item("compare"), False),
        ("the dog on the left of the picture is bigger", _item("compare", answer="dog"), False),
        ("the dog on the left of the picture", _item("compare", answer="the dog on the left of the picture"), True),
        ("dark red", _item("attribute", **COLOUR), True),
        ("red and white", _item("attribute", **COLOUR), True),
        ("the bus is red", _item("attribute", **COLOUR), False),
        ("wooden", _item("attribute", question="What is the bench made of?"), True),  # not a colour question
        ("kitchen", _item("place"), True),
        ("at the top-left", _item("place"), False),
        ("center", _item("place"), False),
        ("on the left side of the image", _item("place"), False),
    ],
)
def test_answer_has_form(prediction: str, item: EvalItem, ok: bool) -> None:
    assert answer_has_form(prediction, item) is ok


@pytest.mark.parametrize(
    ("prediction", "answer", "right"),
    [("3", "-3", False), ("x = -3", "-3", True), ("\u22123", "-3", True), ("-3", "3", False), ("The answer is -2.5", "-2.5", True),
     ("7AM-3PM", "7am 3pm", True), ("well-known", "well known", True)],
)
def test_a_minus_sign_before_a_number_counts(prediction: str, answer: str, right: bool) -> None:
    assert score_answer(prediction, answer, "short_answer").correct is right
