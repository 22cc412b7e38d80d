"""Multi-part items in the evaluation harness: loading, scoring each part, the all-parts-right
figures, the report's table and resuming. No model runs: the runner is driven by a scripted
executor that answers each task as its system would (a graph with one text per part, the
blind baseline with one text)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from agentvlm.config import Config
from agentvlm.errors import InputError
from agentvlm.eval.dataset import EvalItem, EvalPart, load_dataset
from agentvlm.eval.multipart import score_parts, segments
from agentvlm.eval.report import render_report, summarize
from agentvlm.eval.runner import read_predictions, run_eval
from agentvlm.eval.systems import Outcome, System, Task, answer_task
from agentvlm.types import Answer, PartAnswer

BIKE = {
    "id": "mp-001", "image": "street.jpg", "question": "How many people are in this picture, and is anyone on a bicycle?",
    "parts": [
        {"question": "How many people are in this picture?", "answer": "7", "answer_type": "short_answer", "category": "count"},
        {"question": "Is anyone on a bicycle?", "answer": "no", "answer_type": "true_false", "category": "yes_no",
         "depends_on": None},
    ],
    "answer": ["7; no"], "category": "multipart", "parts_count": 2, "dependent": False, "split": "test",
}
JOINED = {
    "id": "mp-002", "image": "street.jpg", "question": "How many people are in the picture? And how many if three more joined?",
    "parts": [
        {"question": "How many people are in the picture?", "answer": ["7", "seven"], "category": "count"},
        {"question": "How many if three more joined?", "answer": "10", "category": "count", "depends_on": 0},
    ],
    "category": "multipart", "split": "test",
}
CAFE = {
    "id": "mp-003", "image": "street.jpg", "question": "Is there a cup, what colour is it, and what time does the cafe open?",
    "parts": [
        {"question": "Is there a cup on the table?", "answer": "yes"},
        {"question": "What colour is the cup?", "answer": ["white", "cream"], "category": "attribute"},
        {"question": "What time does the cafe open?", "answer": "7AM", "answer_type": "ocr", "category": "reading"},
    ],
    "answer": ["yes; white; 7AM"], "category": "multipart", "parts_count": 3, "dependent": False, "split": "test",
}
SINGLE = {"id": "one", "image": "street.jpg", "question": "How many people?", "answer": "7", "category": "count", "split": "test"}


def _dataset(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    (tmp_path / "street.jpg").write_bytes(b"not looked at: no model runs")
    path = tmp_path / "multipart.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _item(raw: dict[str, Any], tmp_path: Path) -> EvalItem:
    return load_dataset(_dataset(tmp_path, [raw]))[0]


# Loading


def test_parts_load_with_their_types_and_extra_keys_are_ignored(tmp_path: Path) -> None:
    bike, joined, cafe, single = load_dataset(_dataset(tmp_path, [BIKE, JOINED, CAFE, SINGLE]))
    assert [p.answer_type for p in bike.parts] == ["short_answer", "true_false"]
    assert bike.parts[1] == EvalPart(question="Is anyone on a bicycle?", answer="no", answer_type="true_false", category="yes_no")
    assert bike.dependent is False and not bike.depends and bike.question == BIKE["question"]
    assert [p.answer_type for p in cafe.parts] == ["true_false", "short_answer", "ocr"]  # inferred where absent
    assert joined.parts[0].answers == ["7", "seven"] and joined.parts[1].depends_on == 0
    assert joined.dependent is None and joined.depends  # no 'dependent' key: read from depends_on
    assert joined.answer == "7; 10"  # no 'answer': the parts' first answers joined
    assert single.parts == [] and not single.depends
    assert bike.part_item(1).category == "yes_no" and bike.part_item(1).images == bike.images


@pytest.mark.parametrize(("change", "message"), [
    ({"parts": [{"question": "Is it red?", "answer": "maybe", "answer_type": "true_false"}]},
     "part 1: a true_false 'answer' must be true, false, yes or no, got 'maybe'"),
    ({"parts": [{"question": "How many?", "answer": "2"}, {"question": "And twice?", "answer": "4", "depends_on": 1}]},
     "part 2: 'depends_on' must be the index (from 0) of an earlier part, 0 to 0, or null, got 1"),
    ({"parts": [{"question": "How many?", "answer": "2", "depends_on": 0}]}, "part 1: 'depends_on' must be null"),
    ({"parts": [{"question": "Which?", "answer": "A", "answer_type": "multiple_choice_letter"}]},
     "part 1 is multiple choice, which a part cannot be"),
    ({"parts": [{"question": "How many?", "answer": "2"}, {"question": "", "answer": "4"}]}, "part 2 'question'"),
    ({"parts": [{"question": "How many?", "answer": "2"}, {"question": "What colour?", "answer": []}]},
     "part 2 'answer': give the part's expected answer"),
    ({"parts": [{"question": "How many?", "answer": "2", "answer_type": "count"}]}, "part 1 'answer_type': unknown answer_type 'count'"),
    ({"parts": "How many? 2"}, "'parts' must be a list of objects"),
    ({"choices": ["a", "b"], "answer": "A"}, "a multi-part item takes no 'choices'"),
])
def test_bad_parts_are_one_clear_error_naming_the_line_and_part(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match="line 1") as info:
        load_dataset(_dataset(tmp_path, [{**BIKE, **change}]))
    assert message in str(info.value)


# Scoring each part


def test_a_graphs_parts_are_scored_each_against_its_own_part(tmp_path: Path) -> None:
    bike = _item(BIKE, tmp_path)
    right = score_parts(bike, "7; no one is on a bicycle", ["7", "no one is on a bicycle"])
    assert (right.part_scores, right.correct, right.rule) == ([1.0, 1.0], True, "parts")
    # Per part, in order: the "no" of part 1 does not answer part 2.
    swapped = score_parts(bike, "no; 7", ["no", "7"])
    assert (swapped.part_scores, swapped.correct) == ([0.0, 0.0], False)
    assert score_parts(bike, "7; yes", ["7", "yes"]).part_scores == [1.0, 0.0]


def test_one_text_is_cut_on_semicolons_and_newlines_and_any_segment_may_answer_a_part(tmp_path: Path) -> None:
    bike, cafe = _item(BIKE, tmp_path), _item(CAFE, tmp_path)
    assert segments("no;\n 7 ;;") == ["no", "7"]
    swapped = score_parts(bike, "no; 7")  # generous: order does not matter
    assert (swapped.part_scores, swapped.rule) == ([1.0, 1.0], "segments")
    assert score_parts(cafe, "yes\nwhite\n9AM").part_scores == [1.0, 1.0, 0.0]
    assert score_parts(cafe, "Yes; it is white; 7AM").part_scores == [1.0, 0.0, 1.0]  # each segment scored as a whole
    # A graph whose parts do not match the item's count is read as one text.
    assert score_parts(bike, "7; no", ["7; no"]).rule == "segments"


def test_fewer_segments_than_parts_fall_back_to_the_whole_text(tmp_path: Path) -> None:
    bike = _item(BIKE, tmp_path)
    assert score_parts(bike, "No, and there are 7 people.").part_scores == [1.0, 1.0]
    assert score_parts(bike, "7").part_scores == [1.0, 0.0]  # the whole text "7" says nothing of a bicycle
    assert score_parts(bike, "").part_scores == [0.0, 0.0]
    # The whole text decides where an accepted answer spans a cut: a sign read over two lines.
    sign = EvalItem(id="s", dataset="d", question="What does the sign say, is it open, and how many cars are there?",
                    images=["x.jpg"], answer="-", answer_type="short_answer", parts=[
                        EvalPart(question="What does the sign say?", answer="no parking tow away zone", answer_type="ocr"),
                        EvalPart(question="Is it open?", answer="yes", answer_type="true_false"),
                        EvalPart(question="How many cars are there?", answer="2", category="count")])
    assert score_parts(sign, "NO PARKING; TOW AWAY ZONE").part_scores == [1.0, 0.0, 0.0]
    # As many segments as parts: no fallback to the whole text.
    assert score_parts(sign, "NO PARKING; TOW AWAY ZONE; 2").part_scores == [0.0, 0.0, 1.0]


def test_form_ok_asks_for_one_answer_of_each_parts_form(tmp_path: Path) -> None:
    bike = _item(BIKE, tmp_path)
    assert score_parts(bike, "7; no", ["7", "no"]).form_ok
    assert not score_parts(bike, "7; no one is on a bicycle", ["7", "no one is on a bicycle"]).form_ok  # yes/no asked
    assert not score_parts(bike, "No, and there are 7 people.").form_ok  # one answer for two parts


class _PartsAgent:
    """What ``answer_task`` asks of an agent, answering with parts out of order (``n`` orders them)."""

    def ask(self, images: list[str], question: str, *, choices: list[str] | None = None) -> Answer:
        parts = [PartAnswer(n=2, question="Is anyone on a bicycle?", text="no", form="yes_no", basis="program"),
                 PartAnswer(n=1, question="How many people are in this picture?", text="7", form="count", basis="program")]
        return Answer(question=question, text="7; no", images=[], form="parts", basis="program", parts=parts)


def test_answer_task_carries_a_graphs_part_texts_in_order(tmp_path: Path) -> None:
    from agentvlm.agent import Agent

    outcome = answer_task(cast(Agent, _PartsAgent()), Task(_item(BIKE, tmp_path), System("auto", "graph", "auto")))
    assert (outcome.prediction, outcome.parts, outcome.form, outcome.error) == ("7; no", ("7", "no"), "parts", None)


# The runner, the summary and the report


def _answers(by_system: dict[str, Callable[[EvalItem], Outcome]]) -> Any:
    class Scripted:
        """An executor that answers each task from the script of its system: no model, no process."""

        def __init__(self) -> None:
            self.asked: list[tuple[str, str]] = []

        def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
            for task in tasks:
                self.asked.append((task.item.id, task.system.name))
                yield task, by_system[task.system.name](task.item)

    return Scripted()


GRAPH = {  # a graph answering with parts: mp-002's second part wrong
    "mp-001": ("7", "no"), "mp-002": ("7", "9"), "mp-003": ("yes", "white", "7AM"),
}
BLIND = {"mp-001": "I cannot see the image.", "mp-002": "No, and 7.", "mp-003": "yes; white; 7AM", "one": "3"}


def _graph(item: EvalItem) -> Outcome:
    if not item.parts:
        return Outcome("7", 1.0, basis="program", form="count")
    parts = GRAPH[item.id]
    return Outcome("; ".join(parts), 1.0, 1, 2, basis="program", form="parts", parts=parts)


def _blind(item: EvalItem) -> Outcome:
    return Outcome(BLIND[item.id], 0.5, 1, 0)


@pytest.fixture
def finished(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    dataset = _dataset(tmp_path, [BIKE, JOINED, CAFE, SINGLE])
    out = tmp_path / "run"
    run = run_eval([dataset], Config(cache=False), out=out, graphs=["prism"], baselines=["blind"],
                   executor=_answers({"prism": _graph, "blind": _blind}))
    assert (run.ran, run.reused) == (8, 0)
    return dataset, out, run.summary


def test_each_row_records_its_parts_and_is_right_only_when_all_are(finished: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, _ = finished
    rows = {(r["id"], r["system"]): r for r in read_predictions(out / "predictions.jsonl")}
    graph = rows[("mp-002", "prism")]
    assert (graph["part_predictions"], graph["part_scores"], graph["part_rule"]) == (["7", "9"], [1.0, 0.0], "parts")
    assert (graph["correct"], graph["score"]) == (False, 0.0)
    assert rows[("mp-001", "prism")]["correct"] is True and rows[("mp-003", "prism")]["form_ok"] is True
    blind = rows[("mp-002", "blind")]  # "No, and 7.": one segment, so the whole text is tried for each part
    assert (blind["part_predictions"], blind["part_scores"], blind["part_rule"]) == ([], [1.0, 0.0], "segments")
    assert rows[("mp-003", "blind")]["correct"] is True
    assert "part_scores" not in rows[("one", "prism")] and rows[("one", "prism")]["correct"] is True


def test_the_summary_gives_all_parts_right_and_per_part_by_count_and_dependence(
    finished: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, out, summary = finished
    assert summary == json.loads((out / "summary.json").read_text())
    graph = summary["systems"]["prism"]["multipart"]
    assert {k: graph[k] for k in ("n", "items", "all_right", "per_part", "parts")} == {
        "n": 3, "items": 3, "all_right": round(2 / 3, 4), "per_part": round(6 / 7, 4), "parts": 7}
    assert graph["by_parts"] == {"2": {"n": 2, "all_right": 0.5, "per_part": 0.75, "parts": 4},
                                 "3": {"n": 1, "all_right": 1.0, "per_part": 1.0, "parts": 3}}
    assert graph["by_dependence"] == {"dependent": {"n": 1, "all_right": 0.0, "per_part": 0.5, "parts": 2},
                                      "independent": {"n": 2, "all_right": 1.0, "per_part": 1.0, "parts": 5}}
    assert summary["multipart"] == graph  # top-level keys describe the first graph
    blind = summary["systems"]["blind"]["multipart"]
    assert (blind["all_right"], blind["per_part"]) == (round(1 / 3, 4), round(4 / 7, 4))
    # The ordinary table counts a multi-part item right only when every part is.
    assert summary["systems"]["prism"]["accuracy"] == 0.75 and summary["per_category"] == {"count": 1.0, "multipart": round(2 / 3, 4)}


def test_the_report_has_a_multipart_table_per_system(finished: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, summary = finished
    report = (out / "report.md").read_text()
    assert report == render_report(summary, plot="basis.svg")
    assert "## Multi-part questions" in report and "| system | items | n | all parts right % | per part % |" in report
    for line in ["| prism | all | 3 | 66.7 | 85.7 |", "| prism | 2 parts | 2 | 50.0 | 75.0 |", "| prism | 3 parts | 1 | 100.0 | 100.0 |",
                 "| prism | dependent | 1 | 0.0 | 50.0 |", "| prism | independent | 2 | 100.0 | 100.0 |",
                 "| blind | all | 3 | 33.3 | 57.1 |"]:
        assert line in report
    assert "| all | 4 | – | 75.0 | 25.0 | +50.0 |" in report  # the ordinary table as before


def test_no_multipart_table_without_multipart_items(tmp_path: Path) -> None:
    item = _item(SINGLE, tmp_path)
    row = {"id": "one", "dataset": item.dataset, "system": "prism", "baseline": None, "rotation": 0, "prediction": "7",
           "correct": True, "score": 1.0, "form_ok": True, "seconds": 1.0, "model_calls": 1, "tool_calls": 0, "error": None}
    summary = summarize([row], [item], systems=["prism"], models={"llm": "l"}, circular=False, complete=True)
    assert "multipart" not in summary and "multipart" not in summary["systems"]["prism"]
    assert "Multi-part" not in render_report(summary)


def test_resuming_rescores_the_stored_parts_and_asks_nothing(finished: tuple[Path, Path, dict[str, Any]]) -> None:
    dataset, out, summary = finished
    # A stored answer whose part texts are edited on disk is rescored from them, not asked again.
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for row in lines:
        if (row["id"], row["system"]) == ("mp-002", "prism"):
            row.update(part_predictions=["7", "10"], prediction="7; 10")
    (out / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    executor = _answers({"prism": _graph, "blind": _blind})
    run = run_eval([dataset], Config(cache=False), out=out, graphs=["prism"], baselines=["blind"], executor=executor)
    assert (run.ran, run.reused, executor.asked) == (0, 8, [])
    rescored = {(r["id"], r["system"]): r for r in run.rows}[("mp-002", "prism")]
    assert (rescored["part_scores"], rescored["correct"]) == ([1.0, 1.0], True)
    assert run.summary["multipart"]["all_right"] == 1.0 and summary["multipart"]["all_right"] == round(2 / 3, 4)


def test_a_row_without_part_fields_is_read_as_one_text(finished: tuple[Path, Path, dict[str, Any]]) -> None:
    """Rows written before parts were recorded (or by a graph without parts) are scored by segments."""
    dataset, out, _ = finished
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for row in lines:
        for key in ("part_predictions", "part_scores", "part_rule"):
            row.pop(key, None)
    (out / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    run = run_eval([dataset], Config(cache=False), out=out, graphs=["prism"], baselines=["blind"],
                   executor=_answers({"prism": _graph, "blind": _blind}))
    rows = {(r["id"], r["system"]): r for r in run.rows}
    assert rows[("mp-001", "prism")]["part_rule"] == "segments" and rows[("mp-001", "prism")]["correct"] is True
    assert run.summary["systems"]["prism"]["multipart"]["all_right"] == round(2 / 3, 4)


def test_the_natural_multipart_set_loads_and_its_own_answers_score_right() -> None:
    """Every item of ``examples/natural/multipart.jsonl`` loads, and its first answers, given per
    part or as one "; "-joined text, are right and of each part's form."""
    path = Path(__file__).resolve().parents[1] / "examples" / "natural" / "multipart.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    items = load_dataset(path)
    assert items and all(len(it.parts) in (2, 3) for it in items)
    for it in items:
        first = [p.answers[0] for p in it.parts]
        per_part, joined = score_parts(it, "; ".join(first), first), score_parts(it, "; ".join(first))
        assert per_part.correct and per_part.form_ok and joined.correct, it.id
        assert it.dependent is None or it.dependent == any(p.depends_on is not None for p in it.parts), it.id
