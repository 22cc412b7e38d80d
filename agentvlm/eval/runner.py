"""Run an evaluation into a folder that is written as it goes and resumed where it stopped.

``predictions.jsonl`` gets one line per answered task, appended and flushed at once, so an
interrupted run loses nothing; rerunning into the same folder skips every task it holds.
``summary.json`` and ``report.md`` are rewritten at the end, also after an interruption.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentvlm.errors import ConfigError
from agentvlm.eval.dataset import EvalItem, load_dataset, rotate, select
from agentvlm.eval.report import render_report, summarize
from agentvlm.eval.scoring import score_answer
from agentvlm.eval.systems import Outcome, System, Task, check_baselines

if TYPE_CHECKING:
    from agentvlm.config import Config
    from agentvlm.eval.executors import Executor

__all__ = ["EvalRun", "plan_tasks", "read_predictions", "run_eval"]

PREDICTIONS, SUMMARY, REPORT, SETTINGS = "predictions.jsonl", "summary.json", "report.md", "run.json"
OnResult = Callable[[dict[str, Any], int, int], None]


@dataclass
class EvalRun:
    """What ``run_eval`` did: the folder, the summary, and how many tasks ran now vs were reused."""

    out: Path
    summary: dict[str, Any]
    ran: int
    reused: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def plan_tasks(items: Sequence[EvalItem], systems: Sequence[System], *, circular: bool) -> list[Task]:
    """Every (item, system, rotation) to ask; rotations only for multiple choice under ``circular``."""
    tasks = []
    for item in items:
        rotations = len(item.choices) if circular and item.answer_type == "multiple_choice_letter" else 1
        tasks += [Task(item, system, r) for r in range(rotations) for system in systems]
    return tasks


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """The rows of a predictions file; a line cut short by a kill is skipped, not fatal."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _row_key(row: dict[str, Any]) -> tuple[str, str, int]:
    return (f"{row['dataset']}/{row['id']}", row.get("baseline") or "graph", int(row.get("rotation", 0)))


def _row(task: Task, outcome: Outcome) -> dict[str, Any]:
    item = task.item
    gold: str | list[str] = rotate(item, task.rotation)[1] if item.choices else item.answer
    verdict = score_answer(outcome.prediction, gold, item.answer_type, choices=task.choices)
    return {
        "id": item.id, "dataset": item.dataset, "category": item.category,
        "baseline": None if task.system == "graph" else task.system, "rotation": task.rotation,
        "prediction": outcome.prediction, "parsed": verdict.parsed, "answer": gold,
        "correct": verdict.correct, "score": round(verdict.score, 4), "seconds": outcome.seconds,
        "model_calls": outcome.model_calls, "tool_calls": outcome.tool_calls, "error": outcome.error,
    }


def _rescore(task: Task, row: dict[str, Any]) -> dict[str, Any]:
    outcome = Outcome(row["prediction"], row["seconds"], row["model_calls"], row["tool_calls"], row.get("error"))
    return _row(task, outcome)


def _settings(config: Config, datasets: Sequence[Path]) -> dict[str, Any]:
    dump = config.model_dump(mode="json", exclude={"cache", "cache_dir"})
    return {"datasets": [str(Path(d).resolve()) for d in datasets], "config": dump}


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    path = out / SETTINGS
    if path.exists():
        old, new = json.loads(path.read_text()).get("config", {}), settings["config"]
        # A key that only one side has and that is unset there (a newer agentvlm's option) is no change.
        changed = sorted(
            k for k in {*old, *new}
            if old.get(k) != new.get(k) and ((k in old and k in new) or bool(old.get(k, new.get(k))))
        )
        if changed:
            raise ConfigError(
                f"{out} holds a run with other settings ({', '.join(changed)} differ); "
                "pass a new --out folder, or the same settings to resume it"
            )
    else:
        path.write_text(json.dumps(settings, indent=2) + "\n")


def run_eval(
    datasets: Sequence[str | os.PathLike[str]],
    config: Config,
    *,
    out: str | os.PathLike[str],
    baselines: Sequence[str] = (),
    limit: int | None = None,
    circular: bool = False,
    executor: Executor | None = None,
    on_result: OnResult | None = None,
) -> EvalRun:
    """Evaluate ``config``'s graph (and ``baselines``) on ``datasets`` into the folder ``out``.

    Example:
        >>> from agentvlm.config import Config
        >>> run = run_eval(["questions.jsonl"], Config(), out="runs/x", baselines=["blind"])  # doctest: +SKIP
        >>> run.summary["accuracy"], run.summary["systems"]["blind"]["accuracy"]  # doctest: +SKIP

    Raises:
        InputError: A dataset that is missing or malformed (before any model loads).
        ConfigError: An unknown or unavailable baseline, or ``out`` holding another run's settings.
    """
    from agentvlm.eval.executors import LocalExecutor

    check_baselines(list(baselines), config)
    paths = [Path(d) for d in datasets]
    per_dataset = [select(load_dataset(p), limit) for p in paths]
    # Datasets interleaved, so a run stopped early still has a share of each.
    items = [it for row in zip_longest(*per_dataset) for it in row if it is not None]
    systems: list[System] = ["graph", *dict.fromkeys(baselines)]  # type: ignore[list-item]
    tasks = plan_tasks(items, systems, circular=circular)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    _check_settings(folder, _settings(config, paths))
    pred_path = folder / PREDICTIONS
    wanted = {t.key for t in tasks}
    by_key = {t.key: t for t in tasks}
    # Stored answers are rescored, so a scoring fix applies to a finished run without asking again.
    done = {_row_key(r): _rescore(by_key[_row_key(r)], r) for r in read_predictions(pred_path) if _row_key(r) in wanted}
    pending = [t for t in tasks if t.key not in done]
    rows = list(done.values())
    ran = 0
    try:
        if pending:
            config_json = config.model_dump_json()
            with pred_path.open("a", encoding="utf-8") as fh:
                if pred_path.stat().st_size and not pred_path.read_bytes().endswith(b"\n"):
                    fh.write("\n")  # a line cut short by a kill stays on its own
                for task, outcome in (executor or LocalExecutor()).run(config_json, pending):
                    row = _row(task, outcome)
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
                    rows.append(row)
                    ran += 1
                    if on_result is not None:
                        on_result(row, len(rows), len(tasks))
    finally:
        summary = summarize(rows, items, graph=config.graph, models=_models(config), circular=circular,
                            complete=len(rows) == len(tasks))
        (folder / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
        (folder / REPORT).write_text(render_report(summary))
    return EvalRun(out=folder, summary=summary, ran=ran, reused=len(done), rows=rows)


def _models(config: Config) -> dict[str, str]:
    return {"llm": config.llm, **({"vlm": config.vlm} if config.vlm else {})}
