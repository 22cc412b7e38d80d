"""The evaluation harness end to end on real BLINK and NLVR items with the embedded stack.

One item per folder (with the blind baseline and CircularEval: 14 questions) and two
for resuming and Ray keep it to minutes on shared cores; every run in this module uses
one config, so the models load once (the executors keep one agent per process).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentvlm.cli import main
from agentvlm.config import Config
from agentvlm.eval.executors import RayExecutor
from agentvlm.eval.runner import read_predictions, run_eval

pytestmark = pytest.mark.slow
FOLDERS = ("blink_spatial_relation", "blink_relative_depth", "blink_jigsaw", "nlvr_synthetic")
CONFIG = Config(cache=False)


def _preds(out: Path) -> dict[tuple[str, str | None, int], str]:
    return {(r["id"], r["baseline"], r["rotation"]): r["prediction"] for r in read_predictions(out / "predictions.jsonl")}


@pytest.fixture(scope="module")
def full_run(evaldata: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    """The CLI on 1 item of each folder, with the blind baseline and CircularEval, piped."""
    out = tmp_path_factory.mktemp("eval") / "run"
    datasets = [str(evaldata / f / "questions.jsonl") for f in FOLDERS]
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["eval", *datasets, "--limit", "1", "--baseline", "blind", "--circular", "--out", str(out), "--no-cache"])
    assert code == 0
    return out, buffer.getvalue(), datasets


def test_cli_writes_predictions_summary_and_report(full_run: tuple[Path, str, list[str]]) -> None:
    out, printed, _ = full_run
    rows = read_predictions(out / "predictions.jsonl")
    # 3 multiple-choice items x 2 rotations + 1 true/false item, for the graph and the blind baseline
    assert len(rows) == 2 * (3 * 2 + 1)
    assert {r["dataset"] for r in rows} == set(FOLDERS)
    graph = [r for r in rows if r["baseline"] is None]
    assert all(r["prediction"] and r["error"] is None for r in rows)
    assert all(r["model_calls"] >= 1 for r in rows) and any(r["tool_calls"] >= 1 for r in graph)
    assert all(r["tool_calls"] == 0 for r in rows if r["baseline"] == "blind")
    mc = [r for r in graph if r["dataset"] != "nlvr_synthetic"]
    assert all(r["parsed"] in ("A", "B") for r in mc)  # grounded letter choice: always a letter
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 4 and summary["chance"] == 0.5 and summary["complete"]
    assert set(summary["per_category"]) == {"blink_spatial_relation", "blink_relative_depth", "blink_jigsaw",
                                            "nlvr_statement_verification"}
    assert summary["circular_accuracy"] is not None and summary["mean_model_calls"] >= 1
    assert summary["systems"]["blind"]["n"] == 4
    report = (out / "report.md").read_text()
    assert "| dataset | n | chance | prism | blind | uplift vs blind | prism circular | blind circular |" in report
    assert "[1/14]" in printed and "## Cost per question asked" in printed  # plain progress lines, then the report


def test_rerun_with_the_same_out_recomputes_nothing(full_run: tuple[Path, str, list[str]]) -> None:
    out, _, datasets = full_run
    before = (out / "predictions.jsonl").read_text()
    seen: list[dict[str, Any]] = []
    run = run_eval(datasets, CONFIG, out=out, baselines=["blind"], limit=1, circular=True,
                   on_result=lambda row, done, total: seen.append(row))
    assert (run.ran, run.reused, seen) == (0, 14, [])
    assert (out / "predictions.jsonl").read_text() == before
    assert run.summary == json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def resumed(full_run: tuple[Path, str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two items of one folder, interrupted after the first answer, then resumed."""
    _, _, datasets = full_run
    out = tmp_path_factory.mktemp("resume") / "run"

    def interrupt(row: dict[str, Any], done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_eval(datasets[:1], CONFIG, out=out, limit=2, on_result=interrupt)
    assert len(read_predictions(out / "predictions.jsonl")) == 1  # the answer given before the interrupt is kept
    assert json.loads((out / "summary.json").read_text())["complete"] is False
    seen: list[str] = []
    run = run_eval(datasets[:1], CONFIG, out=out, limit=2, on_result=lambda row, done, total: seen.append(row["id"]))
    assert (run.ran, run.reused, len(seen)) == (1, 1, 1)
    return out


def test_interrupted_run_resumes_where_it_stopped_with_the_same_answers(
    full_run: tuple[Path, str, list[str]], resumed: Path
) -> None:
    rows = read_predictions(resumed / "predictions.jsonl")
    assert len({r["id"] for r in rows}) == len(rows) == 2
    assert json.loads((resumed / "summary.json").read_text())["complete"] is True
    # Repeatable: the item both runs asked got the same prediction.
    again, reference = _preds(resumed), _preds(full_run[0])
    shared = again.keys() & reference.keys()
    assert len(shared) == 1 and all(again[k] == reference[k] for k in shared)


def test_resuming_with_other_settings_is_refused(full_run: tuple[Path, str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    out, _, datasets = full_run
    code = main(["eval", datasets[0], "--limit", "2", "--out", str(out), "--no-cache", "--llm", "llamacpp:smollm2",
                 "--max-pixels", "1000000"])
    assert code == 2
    assert "holds a run with other settings (max_pixels differ)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--baseline", "vlm"], "the vlm baseline needs --vlm SPEC"), (["--limit", "0"], "--limit must be a positive")],
)
def test_cli_errors_are_one_line(evaldata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    code = main(["eval", str(evaldata / FOLDERS[0] / "questions.jsonl"), "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_missing_dataset_fails_before_any_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "dataset not found" in capsys.readouterr().err


def test_ray_executor_gives_the_local_predictions(full_run: tuple[Path, str, list[str]], resumed: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    datasets = full_run[2]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run = run_eval(datasets[:1], CONFIG, out=tmp_path / "ray", limit=2, executor=RayExecutor(workers=2))
    finally:
        ray.shutdown()
    assert run.ran == 2
    got = _preds(tmp_path / "ray")
    assert len(got) == 2 and got == _preds(resumed)  # each Ray worker built its own agent: same answers


def test_vlm_baseline_asks_the_vlm_with_the_images_and_options(evaldata: Path) -> None:
    """A hosted VLM cannot run here: a loopback OpenAI-compatible server answers instead."""
    import copy

    from agentvlm.agent import Agent
    from agentvlm.eval.dataset import load_dataset
    from agentvlm.eval.runner import _row
    from agentvlm.eval.systems import Task, answer_task
    from tests.servers import CANNED_COMPLETION, RecordingServer

    item = load_dataset(evaldata / FOLDERS[0] / "questions.jsonl")[0]  # "Is the car beneath the cat?" -> B "no"
    reply = copy.deepcopy(CANNED_COMPLETION)
    reply["choices"][0]["message"]["content"] = "(B) no"
    with RecordingServer() as srv:
        srv.reply = (200, json.dumps(reply).encode(), "application/json")
        agent = Agent(Config(cache=False, vlm=f"openai:canned@{srv.base_url}"))
        outcome = answer_task(agent, Task(item, "vlm", 1))  # options rotated: (A) no (B) yes
        body = srv.requests[-1]["json"]
    assert outcome.error is None and outcome.model_calls == 1
    text = json.dumps(body["messages"])
    assert "Is the car beneath the cat?" in text and "(A) no (B) yes" in text and "image_url" in text
    row = _row(Task(item, "vlm", 1), outcome)
    assert (row["baseline"], row["parsed"], row["answer"], row["correct"]) == ("vlm", "B", "A", False)
