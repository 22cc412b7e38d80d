"""The evaluation harness with a VLM: the graph with it, the VLM alone and the graph without it.

The VLM is the scripted OpenAI-compatible server on loopback (``tests/scripted_vlm.py``);
the graph runs on the embedded stack. One CLI run of two questions (three systems each)
serves the slow tests; the rest build no model.
"""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentvlm.cli import main
from agentvlm.config import Config
from agentvlm.eval.plot import basis_svg
from agentvlm.eval.report import render_report
from agentvlm.eval.runner import read_predictions
from agentvlm.eval.systems import make_systems, with_implied, without_vlm
from agentvlm.question import analyze
from agentvlm.types import Answer, Call, Step
from tests.scripted_vlm import ScriptedVLM, Seen

VLM = "openai:m@http://127.0.0.1:9/v1"  # never asked: these tests build no model


def _script(seen: Seen) -> str:
    prompt = seen.prompt.lower()
    if "colour" in prompt or "color" in prompt:
        return "green"
    if "how many" in prompt or "number" in prompt:
        return "2"
    return "yes" if "yes or no" in prompt else "a person"


@pytest.fixture(scope="module")
def dataset(examples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two questions about the example photos: one a VLM sees (a colour), one the detector counts."""
    rows = [
        {"id": "sign", "image": str(examples_dir / "sign_sports_centre_directions.jpg"), "question": "What colour is the sign?",
         "answer": ["green", "dark green"], "answer_type": "short_answer", "category": "attribute"},
        {"id": "people", "image": str(examples_dir / "street_scene_pedestrians.jpg"),
         "question": "How many people are in this picture?", "answer": "3", "category": "count"},
    ]
    path = tmp_path_factory.mktemp("vlm-eval") / "photos.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def vlm_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ScriptedVLM]]:
    """``agentvlm eval DATASET --vlm <scripted> --baseline vlm`` on both questions."""
    out = tmp_path_factory.mktemp("vlm-run") / "run"
    with ScriptedVLM(_script) as vlm, contextlib.redirect_stdout(io.StringIO()):
        code = main(["eval", str(dataset), "--vlm", vlm.spec, "--baseline", "vlm", "--out", str(out), "--no-cache"])
        assert code == 0
        yield out, vlm


@pytest.mark.slow
def test_baseline_vlm_puts_the_graph_the_vlm_alone_and_the_graph_without_it_side_by_side(vlm_run: tuple[Path, ScriptedVLM]) -> None:
    out, _ = vlm_run
    rows = read_predictions(out / "predictions.jsonl")
    assert [r["system"] for r in rows] == ["auto", "vlm", "novlm"] * 2
    assert [r["baseline"] for r in rows[:3]] == [None, "vlm", "novlm"]
    assert all(r["prediction"] and r["error"] is None for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert (list(summary["systems"]), summary["graphs"], summary["baselines"]) == (["auto", "vlm", "novlm"], ["auto"], ["vlm", "novlm"])
    report = (out / "report.md").read_text()
    assert "| items | n | chance | auto | vlm | novlm | uplift vs vlm | uplift vs novlm |" in report
    assert "novlm = auto with its VLM switched off" in report


@pytest.mark.slow
def test_every_row_records_its_form_basis_and_vlm_calls(vlm_run: tuple[Path, ScriptedVLM]) -> None:
    out, vlm = vlm_run
    rows = read_predictions(out / "predictions.jsonl")
    forms = {"sign": analyze("What colour is the sign?").form, "people": analyze("How many people are in this picture?").form}
    assert forms == {"sign": "attribute", "people": "count"}
    for r in rows:
        assert r["form"] == forms[r["id"]], r
        assert isinstance(r["vlm_calls"], int) and r["basis"], r
    by = {(r["system"], r["id"]): r for r in rows}
    assert by[("vlm", "sign")]["basis"] == "vlm" and by[("vlm", "sign")]["vlm_calls"] == 1 and by[("vlm", "sign")]["correct"]
    assert all(by[("novlm", i)]["vlm_calls"] == 0 and by[("novlm", i)]["basis"] != "vlm" for i in forms)
    # Every request the server saw is counted on some row, and none came from the graph without its VLM.
    assert len(vlm.seen) == sum(r["vlm_calls"] for r in rows)


@pytest.mark.slow
def test_the_report_gives_each_systems_answers_by_basis_with_a_plot(vlm_run: tuple[Path, ScriptedVLM]) -> None:
    out, _ = vlm_run
    summary = json.loads((out / "summary.json").read_text())
    systems = summary["systems"]
    assert systems["vlm"]["by_basis"]["vlm"] == {"n": 2, "coverage": 1.0, "accuracy": 0.5}
    assert all("vlm" in systems[s]["by_basis"] for s in ("auto", "vlm", "novlm"))
    assert systems["novlm"]["median_vlm_calls"] == 0 and systems["vlm"]["median_vlm_calls"] == 1
    assert isinstance(systems["auto"]["added_seconds_vs_novlm"], float)
    report = (out / "report.md").read_text()
    assert "| system | basis | n | coverage % | accuracy % |" in report
    assert all(f"| {s} | vlm |" in report for s in ("auto", "vlm", "novlm"))
    assert "| vlm | vlm | 2 | 100.0 | 50.0 |" in report
    assert "![Coverage and accuracy by basis, per system](basis.svg)" in report
    assert "| system | median VLM calls | mean VLM calls | seconds | added seconds vs novlm |" in report
    root = ET.fromstring((out / "basis.svg").read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"auto", "vlm", "novlm", "vlm (n=2)"} <= labels


@pytest.mark.parametrize(
    ("baseline", "message"),
    [("vlm", "the vlm baseline needs --vlm SPEC"), ("novlm", "the novlm baseline is the first graph with its VLM switched off")],
)
def test_a_vlm_baseline_without_a_vlm_is_one_clear_error(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], baseline: str, message: str,
) -> None:
    code = main(["eval", str(dataset), "--baseline", baseline, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "--vlm SPEC" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before any folder or model


@pytest.mark.parametrize(
    ("baselines", "vlm", "expected"),
    [
        (["vlm"], VLM, ["vlm", "novlm"]),
        (["blind", "vlm"], VLM, ["blind", "vlm", "novlm"]),
        (["novlm", "vlm"], VLM, ["novlm", "vlm"]),
        (["novlm"], VLM, ["novlm"]),
        (["blind"], VLM, ["blind"]),
        (["vlm"], None, ["vlm"]),  # check_baselines refuses it before this matters
    ],
)
def test_baseline_vlm_brings_novlm_along(baselines: list[str], vlm: str | None, expected: list[str]) -> None:
    assert with_implied(baselines, Config(vlm=vlm)) == expected


def test_the_novlm_system_runs_the_first_graph() -> None:
    systems = make_systems(["auto", "prism"], ["vlm", "novlm"])
    assert [(s.name, s.kind, s.graph) for s in systems] == [
        ("auto", "graph", "auto"), ("prism", "graph", "prism"), ("vlm", "vlm", "auto"), ("novlm", "novlm", "auto")]


def test_without_vlm_shares_the_models_and_switches_off_only_the_vlm() -> None:
    from agentvlm.agent import Agent

    agent = Agent(Config(vlm=VLM, cache=False))
    plain = without_vlm(agent)
    assert plain.config.vlm is None and plain.services.vlm is None
    assert plain.services._shared is agent.services._shared  # one LLM, one set of tools: nothing loads twice
    assert plain.config.model_dump(exclude={"vlm"}) == agent.config.model_dump(exclude={"vlm"})
    assert plain.spec.name == agent.spec.name == "auto"


def _answer(steps: list[Step]) -> Answer:
    return Answer(question="q", text="a", images=[], steps=steps)


def test_vlm_calls_are_the_model_calls_marked_vision() -> None:
    steps = [
        Step(node="look", seconds=0.2, calls=[Call(kind="model", name="vlm", seconds=0.1, detail={"vision": True}),
                                              Call(kind="model", name="vlm", seconds=0.1, detail={"vision": True})]),
        Step(node="reason", seconds=1.0, calls=[Call(kind="model", name="llm", seconds=1.0)]),
        Step(node="perceive", seconds=0.1, calls=[Call(kind="tool", name="detector", seconds=0.1, detail={"vision": True})]),
    ]
    assert _answer(steps).vlm_calls == 2 and _answer([]).vlm_calls == 0


def _row(system: str, item: str, *, basis: str, correct: bool, seconds: float, vlm_calls: int) -> dict[str, object]:
    return {"id": item, "dataset": "d", "system": system, "baseline": None if system == "auto" else system, "rotation": 0,
            "prediction": "x", "correct": correct, "score": float(correct), "form_ok": True, "seconds": seconds,
            "model_calls": 1, "tool_calls": 0, "error": None, "basis": basis, "form": "identify", "vlm_calls": vlm_calls}


def test_the_summary_counts_vlm_calls_and_the_seconds_the_vlm_adds() -> None:
    from agentvlm.eval.dataset import EvalItem
    from agentvlm.eval.report import summarize

    items = [EvalItem(id=i, dataset="d", images=["x.jpg"], question="What is this?", answer="cup", answer_type="short_answer")
             for i in ("a", "b", "c")]
    rows = [
        _row("auto", "a", basis="vlm", correct=True, seconds=3.0, vlm_calls=1),
        _row("auto", "b", basis="vlm", correct=False, seconds=4.0, vlm_calls=2),
        _row("auto", "c", basis="program", correct=True, seconds=2.0, vlm_calls=0),
        _row("novlm", "a", basis="guess", correct=False, seconds=2.0, vlm_calls=0),
        _row("novlm", "b", basis="guess", correct=False, seconds=2.5, vlm_calls=0),
        _row("novlm", "c", basis="program", correct=True, seconds=2.0, vlm_calls=0),
    ]
    summary = summarize(rows, items, systems=["auto", "novlm"], models={"llm": "l", "vlm": "v"}, circular=False, complete=True)
    auto = summary["systems"]["auto"]
    assert auto["by_basis"]["vlm"] == {"n": 2, "coverage": round(2 / 3, 4), "accuracy": 0.5}
    assert (auto["median_vlm_calls"], auto["mean_vlm_calls"], auto["added_seconds_vs_novlm"]) == (1.0, 1.0, 0.8333)
    assert "added_seconds_vs_novlm" not in summary["systems"]["novlm"]
    report = render_report(summary, plot="basis.svg")
    assert "| auto | 1 | 1.00 | 3.00 | +0.83 |" in report and "| novlm | 0 | 0.00 | 2.17 | – |" in report
    assert "| auto | evidence |" not in report  # no answer has that basis
    svg = basis_svg(summary)
    assert svg is not None and ET.fromstring(svg).tag.endswith("svg")


def test_no_plot_where_no_answer_has_a_basis() -> None:
    summary = {"models": {"llm": "l"}, "systems": {"blind": {"by_basis": {}}}}
    assert basis_svg(summary) is None
