"""The evaluation harness end to end on real BLINK and NLVR items with the embedded stack.

One item per folder (with the blind baseline and CircularEval: 14 questions) and two
for resuming and Ray keep it to minutes on shared cores; every run in this module uses
one config, so the models load once (the executors keep one agent per process). Graphs
side by side and splits run on a tiny dataset of the example photos: one test item.
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
        code = main(["eval", *datasets, "--graph", "prism", "--limit", "1", "--baseline", "blind", "--circular", "--out", str(out), "--no-cache"])
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
    assert all(r["system"] == ("prism" if r["baseline"] is None else r["baseline"]) for r in rows)
    assert all(isinstance(r["form_ok"], bool) for r in rows) and all(r["form_ok"] for r in mc)  # always a letter
    report = (out / "report.md").read_text()
    assert "| items | n | chance | prism | blind | uplift vs blind | prism circular | blind circular |" in report
    assert "Split: none" in report
    assert "[1/14]" in printed and "## Cost and answer form per question asked" in printed  # plain progress lines, then the report


def test_rerun_with_the_same_out_recomputes_nothing(full_run: tuple[Path, str, list[str]]) -> None:
    out, _, datasets = full_run
    before = (out / "predictions.jsonl").read_text()
    seen: list[dict[str, Any]] = []
    run = run_eval(datasets, CONFIG, out=out, graphs=["prism"], baselines=["blind"], limit=1, circular=True,
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
    from agentvlm.eval.systems import System, Task, answer_task
    from tests.servers import CANNED_COMPLETION, RecordingServer

    item = load_dataset(evaldata / FOLDERS[0] / "questions.jsonl")[0]  # "Is the car beneath the cat?" -> B "no"
    reply = copy.deepcopy(CANNED_COMPLETION)
    reply["choices"][0]["message"]["content"] = "(B) no"
    with RecordingServer() as srv:
        srv.reply = (200, json.dumps(reply).encode(), "application/json")
        agent = Agent(Config(cache=False, vlm=f"openai:canned@{srv.base_url}"))
        vlm = System("vlm", "vlm", "prism")
        outcome = answer_task(agent, Task(item, vlm, 1))  # options rotated: (A) no (B) yes
        body = srv.requests[-1]["json"]
    assert outcome.error is None and outcome.model_calls == 1
    text = json.dumps(body["messages"])
    assert "Is the car beneath the cat?" in text and "(A) no (B) yes" in text and "image_url" in text
    row = _row(Task(item, vlm, 1), outcome)
    assert (row["system"], row["baseline"], row["parsed"], row["answer"], row["correct"]) == ("vlm", "vlm", "B", "A", False)
    assert row["form_ok"] is False  # rotated, B is "yes": "(B) no" names one option's letter and the other's text


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def photos_dataset(examples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three questions about the example photos; the first is dev, so a --limit before the split would pick it."""
    people = str(examples_dir / "street_scene_pedestrians.jpg")
    return _write(tmp_path_factory.mktemp("photos") / "photos.jsonl", [
        {"id": "sign", "image": str(examples_dir / "sign_no_double_parking.jpg"), "question": "What does the sign say?",
         "answer": "no double parking", "answer_type": "ocr", "category": "read", "split": "dev"},
        {"id": "people", "image": people, "question": "How many people are in this picture?", "answer": "3",
         "category": "count", "split": "test"},
        {"id": "bus", "image": people, "question": "Is there a bus in this picture?", "answer": "no",
         "category": "yes_no", "split": "test"},
    ])


@pytest.fixture(scope="module")
def side_by_side(photos_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Two graphs and the blind baseline in one CLI run, on the first test item."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("side") / "run"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["eval", str(photos_dataset), "--graph", "prism,program", "--baseline", "blind", "--split", "test",
                     "--limit", "1", "--out", str(out), "--no-cache"])
    assert code == 0
    return out, buffer.getvalue()


def test_graphs_side_by_side_in_one_run(side_by_side: tuple[Path, str]) -> None:
    out, printed = side_by_side
    rows = read_predictions(out / "predictions.jsonl")
    assert [r["system"] for r in rows] == ["prism", "program", "blind"]  # --limit 1 after --split: the test item
    assert {r["id"] for r in rows} == {"people"}
    assert [r["baseline"] for r in rows] == [None, None, "blind"]
    assert all(isinstance(r["form_ok"], bool) and r["prediction"] and r["error"] is None for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["systems"]) == ["prism", "program", "blind"]
    assert (summary["graphs"], summary["baselines"], summary["graph"]) == (["prism", "program"], ["blind"], "prism")
    for name, stats in summary["systems"].items():
        assert stats["n"] == 1 and stats["questions_asked"] == 1, name
        assert stats["per_dataset"]["photos"]["n"] == 1 and stats["per_category"]["count"]["n"] == 1
        assert stats["form_ok"] == float(next(r["form_ok"] for r in rows if r["system"] == name))
    assert summary["systems"]["program"]["mean_tool_calls"] >= 1 and summary["systems"]["blind"]["mean_tool_calls"] == 0
    assert summary["split"]["name"] == "test" and summary["split"]["datasets"]["photos"]["by_field"] == 3
    report = (out / "report.md").read_text()
    assert "| items | n | chance | prism | program | blind | uplift vs blind |" in report
    assert "| dataset photos | 1 |" in report and "| category count | 1 |" in report
    assert "Split: test, before --limit: photos: 2 of 3 items are test (3 decided by their 'split' field)." in report
    assert "| system | questions | seconds | model calls | tool calls | right form % | errors |" in report
    assert all(f"| {name} | 1 |" in report for name in ("prism", "program", "blind"))
    assert "[3/3]" in printed and " program r0 " in printed


def test_the_report_gives_accuracy_by_basis(side_by_side: tuple[Path, str]) -> None:
    out, _ = side_by_side
    rows = read_predictions(out / "predictions.jsonl")
    program = next(r for r in rows if r["system"] == "program")
    assert program["basis"] in ("program", "evidence", "model", "guess") and next(r for r in rows if r["system"] == "blind")["basis"] == ""
    table = json.loads((out / "summary.json").read_text())["systems"]["program"]["by_basis"]
    assert table[program["basis"]] == {"n": 1, "coverage": 1.0, "accuracy": float(program["correct"])}
    decided = program["basis"] in ("program", "evidence")
    assert table["program+evidence"]["coverage"] == float(decided)
    assert json.loads((out / "summary.json").read_text())["systems"]["blind"]["by_basis"] == {}
    assert "| system | basis | n | coverage % | accuracy % |" in (out / "report.md").read_text()


def test_rerun_adding_a_graph_asks_only_that_graph(side_by_side: tuple[Path, str], photos_dataset: Path) -> None:
    out, _ = side_by_side
    before = read_predictions(out / "predictions.jsonl")
    seen: list[str] = []
    run = run_eval([photos_dataset], CONFIG, out=out, graphs=["prism", "program", "moai"], baselines=["blind"],
                   split="test", limit=1, on_result=lambda row, done, total: seen.append(row["system"]))
    assert (run.ran, run.reused, seen) == (1, 3, ["moai"])
    after = read_predictions(out / "predictions.jsonl")
    assert after[:3] == before and after[3]["system"] == "moai" and after[3]["tool_calls"] >= 3  # moai runs every tool
    assert list(run.summary["systems"]) == ["prism", "program", "moai", "blind"]
    assert "| items | n | chance | prism | program | moai | blind | uplift vs blind |" in (out / "report.md").read_text()
    assert json.loads((out / "run.json").read_text())["graphs"] == ["prism", "program", "moai"]


def test_a_run_written_before_several_graphs_resumes_under_its_graph(photos_dataset: Path, tmp_path: Path) -> None:
    """Old rows name no system and run.json names the one graph: they are that graph's answers, asked again never."""
    out = tmp_path / "old"
    out.mkdir()
    settings = {"datasets": [str(photos_dataset.resolve())], "config": CONFIG.model_dump(mode="json", exclude={"cache", "cache_dir"})}
    (out / "run.json").write_text(json.dumps(settings))
    old = {"dataset": "photos", "category": "count", "baseline": None, "rotation": 0, "prediction": "3 people",
           "seconds": 2.0, "model_calls": 1, "tool_calls": 1, "error": None}
    _write(out / "predictions.jsonl", [{**old, "id": "people"}, {**old, "id": "bus", "prediction": "0.93"}])
    run = run_eval([photos_dataset], CONFIG, out=out, split="test")
    assert (run.ran, run.reused) == (0, 2)
    system = run.summary["systems"][CONFIG.graph]
    assert system["accuracy"] == 0.5 and system["form_ok"] == 0.5


def _item_ids(dataset: Path, split: str) -> list[str]:
    from agentvlm.eval.dataset import load_dataset
    from agentvlm.eval.splits import split_items

    return [it.id for it in split_items(dataset, load_dataset(dataset), split)[0]]


def test_split_by_sha1_parity_when_nothing_else_says(examples_dir: Path, tmp_path: Path) -> None:
    photo = str(examples_dir / "sign_no_double_parking.jpg")
    dataset = _write(tmp_path / "d.jsonl", [{"id": f"q{i}", "image": photo, "question": "Q?", "answer": "yes"} for i in range(1, 7)])
    assert _item_ids(dataset, "dev") == ["q1", "q4", "q5"]  # sha1 ends in a, 8, 2: even
    assert _item_ids(dataset, "test") == ["q2", "q3", "q6"]


def test_split_from_a_splits_json_two_folders_up(examples_dir: Path, tmp_path: Path) -> None:
    photo = str(examples_dir / "sign_no_double_parking.jpg")
    dataset = _write(tmp_path / "data" / "signs" / "questions.jsonl", [
        {"id": i, "image": photo, "question": "Q?", "answer": "yes", **extra}
        for i, extra in (("a", {}), ("b", {}), ("c", {"split": "dev"}))
    ])
    (tmp_path / "splits.json").write_text(json.dumps({"rule": "by hand", "signs": {"dev": ["b"], "test": ["a", "c"]}}))
    assert _item_ids(dataset, "dev") == ["b", "c"]  # c's own field outranks the list
    assert _item_ids(dataset, "test") == ["a"]


def test_the_shared_splits_json_is_the_sha1_rule(evaldata: Path) -> None:
    from agentvlm.eval.splits import rule_split

    dataset = evaldata / "blink_jigsaw" / "questions.jsonl"
    test = _item_ids(dataset, "test")
    assert len(test) == 77 and all(rule_split(i) == "test" for i in test)


@pytest.mark.parametrize(
    ("lines", "splits", "message"),
    [
        ([{"id": "a", "split": "train"}], None, "item 'a' has split 'train'; a split is one of dev, test"),
        ([{"id": "a"}, {"id": "b"}], {"d": {"dev": ["a"], "test": []}}, "1 of 2 items have no known split"),
        ([{"id": "a"}], {"d": {"dev": ["a"], "test": ["a"]}}, "in both dev and test"),
    ],
)
def test_items_of_no_known_split_are_one_clear_error(
    examples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    lines: list[dict[str, str]], splits: dict[str, Any] | None, message: str,
) -> None:
    photo = str(examples_dir / "sign_no_double_parking.jpg")
    dataset = _write(tmp_path / "d" / "questions.jsonl", [{**ln, "image": photo, "question": "Q?", "answer": "yes"} for ln in lines])
    if splits is not None:
        (tmp_path / "splits.json").write_text(json.dumps(splits))
    code = main(["eval", str(dataset), "--split", "test", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(tmp_path) in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("graphs", "message"),
    [(["prism,nosuch"], "unknown graph 'nosuch'"), (["prism", "COPY"], "are both named 'prism'")],
)
def test_bad_graphs_fail_before_any_model_loads(
    photos_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], graphs: list[str], message: str
) -> None:
    from agentvlm.graph.spec import builtin_graphs

    copy = tmp_path / "my_prism.yaml"
    copy.write_text(builtin_graphs()["prism"].read_text())
    flags = [x for g in graphs for x in ("--graph", g.replace("COPY", str(copy)))]
    code = main(["eval", str(photos_dataset), *flags, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_each_worker_process_takes_its_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from agentvlm.eval.executors import LocalExecutor, worker_threads

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert worker_threads(2) == max(cores // 2, 1) and worker_threads(cores * 4) == 1
    monkeypatch.delenv("AGENTVLM_LLM_THREADS", raising=False)
    with LocalExecutor(workers=2).pool(2) as pool:
        assert pool.submit(os.getenv, "AGENTVLM_LLM_THREADS").result() == str(max(cores // 2, 1))
    assert os.getenv("AGENTVLM_LLM_THREADS") is None  # only the workers, not this process
    monkeypatch.setenv("AGENTVLM_LLM_THREADS", "3")  # the user's own setting wins
    with LocalExecutor(workers=2).pool(2) as pool:
        assert pool.submit(os.getenv, "AGENTVLM_LLM_THREADS").result() == "3"


def test_each_ray_task_takes_its_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentvlm.eval.executors import worker_threads

    monkeypatch.delenv("AGENTVLM_LLM_THREADS", raising=False)
    assert RayExecutor(workers=2).threads() == worker_threads(2)  # a local Ray: this machine's cores shared out
    assert RayExecutor(workers=2, address="ray://head:10001").threads() == 1  # a cluster: one Ray CPU, one thread
    monkeypatch.setenv("AGENTVLM_LLM_THREADS", "3")  # the user's own setting wins
    assert RayExecutor(workers=2).threads() == RayExecutor(workers=2, address="ray://head:10001").threads() == 3
