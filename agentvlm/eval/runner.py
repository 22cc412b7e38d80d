"""Run an evaluation into a folder that is written as it goes and resumed where it stopped.

``predictions.jsonl`` gets one line per answered task, appended and flushed at once, so an
interrupted run loses nothing; rerunning into the same folder skips every task it holds.
A multi-part item's row also holds ``part_predictions`` (a graph's text per part, else
empty), ``part_scores`` (1.0 or 0.0 per part), ``part_rule`` (``parts`` or ``segments``, see
``agentvlm.eval.multipart``); its ``correct`` is every part right.
``summary.json``, ``report.md`` and its plot ``basis.svg`` (coverage and accuracy by basis, when
any answer says what decided it) are rewritten at the end, also after an interruption.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentvlm.errors import ConfigError, InputError
from agentvlm.eval.dataset import EvalItem, load_dataset, rotate, select
from agentvlm.eval.multipart import score_parts
from agentvlm.eval.plot import basis_svg
from agentvlm.eval.report import render_report, summarize
from agentvlm.eval.scoring import answer_has_form, score_answer
from agentvlm.eval.splits import SplitChoice, split_items
from agentvlm.eval.systems import Outcome, System, Task, check_baselines, make_systems, with_implied

if TYPE_CHECKING:
    from agentvlm.config import Config
    from agentvlm.eval.executors import Executor

__all__ = ["EvalRun", "plan_tasks", "read_predictions", "run_eval"]

PREDICTIONS, SUMMARY, REPORT, SETTINGS = "predictions.jsonl", "summary.json", "report.md", "run.json"
PLOT = "basis.svg"
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


def _row_key(row: dict[str, Any], legacy: str | None) -> tuple[str, str | None, int]:
    """A row's task key; rows written before ``system`` existed belong to ``legacy`` (their run's one graph)."""
    system = row.get("system") or row.get("baseline") or legacy
    return (f"{row['dataset']}/{row['id']}", system, int(row.get("rotation", 0)))


def _row(task: Task, outcome: Outcome) -> dict[str, Any]:
    item, system = task.item, task.system
    gold: str | list[str] = rotate(item, task.rotation)[1] if item.choices else item.answer
    verdict = score_answer(outcome.prediction, gold, item.answer_type, choices=task.choices)
    row: dict[str, Any] = {
        "id": item.id, "dataset": item.dataset, "category": item.category, "system": system.name,
        "baseline": None if system.kind == "graph" else system.name, "rotation": task.rotation,
        "prediction": outcome.prediction, "parsed": verdict.parsed, "answer": gold,
        "correct": verdict.correct, "score": round(verdict.score, 4),
        "form_ok": answer_has_form(outcome.prediction, item, choices=task.choices), "seconds": outcome.seconds,
        "model_calls": outcome.model_calls, "tool_calls": outcome.tool_calls, "error": outcome.error,
        "basis": outcome.basis, "form": outcome.form, "vlm_calls": outcome.vlm_calls,
    }
    if item.parts:  # every part scored on its own; the item is right only when all are
        parts = score_parts(item, outcome.prediction, outcome.parts)
        row.update(parsed=None, correct=parts.correct, score=float(parts.correct), form_ok=parts.form_ok,
                   part_predictions=list(outcome.parts), part_scores=parts.part_scores, part_rule=parts.rule)
    return row


def _rescore(task: Task, row: dict[str, Any]) -> dict[str, Any]:
    outcome = Outcome(row["prediction"], row["seconds"], row["model_calls"], row["tool_calls"], row.get("error"),
                      row.get("basis", ""), row.get("form", ""), row.get("vlm_calls", 0),
                      tuple(row.get("part_predictions") or ()))
    return _row(task, outcome)


def _settings(config: Config, datasets: Sequence[Path], graphs: Sequence[str]) -> dict[str, Any]:
    # The graph is per system, not a setting: a rerun may add graphs beside the stored answers.
    dump = config.model_dump(mode="json", exclude={"cache", "cache_dir", "graph"})
    return {"datasets": [str(Path(d).resolve()) for d in datasets], "config": dump, "graphs": list(graphs)}


def _check_settings(out: Path, settings: dict[str, Any]) -> str | None:
    """Refuse a folder that holds another configuration's run, then record this one.

    Returns the graph of a run written before several graphs were possible (its rows name
    no system), so its answers can be reused under that graph's name.
    """
    path = out / SETTINGS
    legacy: str | None = None
    graphs = list(settings["graphs"])
    if path.exists():
        stored = json.loads(path.read_text())
        old, new = dict(stored.get("config", {})), settings["config"]
        if "graphs" not in stored:
            legacy = old.get("graph")
        old.pop("graph", None)
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
        graphs = list(dict.fromkeys([*stored.get("graphs", [legacy] if legacy else []), *graphs]))
    path.write_text(json.dumps({**settings, "graphs": graphs}, indent=2) + "\n")
    return legacy


def _load(paths: Sequence[Path], split: str | None, limit: int | None) -> tuple[list[list[EvalItem]], list[SplitChoice]]:
    """Each dataset's items: validated, then the split, then ``limit``."""
    per_dataset, choices = [], []
    for p in paths:
        items = load_dataset(p)
        if split is not None:
            items, choice = split_items(p, items, split)
            choices.append(choice)
        per_dataset.append(select(items, limit) if items else [])
    if split is not None and not any(per_dataset):
        raise InputError(f"no items in the {split} split of {', '.join(map(str, paths))}; " + "; ".join(c.describe() for c in choices))
    return per_dataset, choices


def run_eval(
    datasets: Sequence[str | os.PathLike[str]],
    config: Config,
    *,
    out: str | os.PathLike[str],
    graphs: Sequence[str] = (),
    baselines: Sequence[str] = (),
    split: str | None = None,
    limit: int | None = None,
    circular: bool = False,
    executor: Executor | None = None,
    on_result: OnResult | None = None,
) -> EvalRun:
    """Evaluate ``graphs`` (default: ``config``'s graph) and ``baselines`` side by side into the folder ``out``.

    Example:
        >>> from agentvlm.config import Config
        >>> run = run_eval(["questions.jsonl"], Config(), out="runs/x", graphs=["prism", "moai"],
        ...                baselines=["blind"], split="test")  # doctest: +SKIP
        >>> run.summary["systems"]["moai"]["accuracy"], run.summary["systems"]["blind"]["form_ok"]  # doctest: +SKIP

    With a VLM configured, baseline ``vlm`` brings ``novlm`` along (the first graph with its VLM
    switched off), so the graph with the VLM, the VLM alone and the graph without it are read side by side.

    Raises:
        InputError: A dataset that is missing or malformed, or items of no known split (before any model loads).
        ConfigError: An unknown graph or baseline, a vlm or novlm baseline without a VLM, or ``out``
            holding another run's settings.
    """
    from agentvlm.eval.executors import LocalExecutor

    check_baselines(list(baselines), config)
    graph_list = list(dict.fromkeys(graphs or [config.graph]))
    systems = make_systems(graph_list, with_implied(list(baselines), config))
    paths = [Path(d) for d in datasets]
    per_dataset, split_choices = _load(paths, split, limit)
    # Datasets interleaved, so a run stopped early still has a share of each.
    items = [it for row in zip_longest(*per_dataset) for it in row if it is not None]
    tasks = plan_tasks(items, systems, circular=circular)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    legacy_graph = _check_settings(folder, _settings(config, paths, graph_list))
    legacy = next((s.name for s in systems if s.kind == "graph" and s.graph == legacy_graph), None)
    pred_path = folder / PREDICTIONS
    by_key = {t.key: t for t in tasks}
    # Stored answers are rescored, so a scoring fix applies to a finished run without asking again.
    done = {
        key: _rescore(by_key[key], r)
        for r in read_predictions(pred_path)
        if (key := _row_key(r, legacy)) in by_key
    }
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
        summary = summarize(
            rows, items, systems=[s.name for s in systems], models=_models(config), circular=circular,
            complete=len(rows) == len(tasks), split=_split_summary(split, split_choices),
        )
        (folder / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
        plot = basis_svg(summary)
        if plot is not None:
            (folder / PLOT).write_text(plot, encoding="utf-8")
        else:
            (folder / PLOT).unlink(missing_ok=True)  # a resumed folder's old plot no longer matches
        (folder / REPORT).write_text(render_report(summary, plot=PLOT if plot is not None else None))
    return EvalRun(out=folder, summary=summary, ran=ran, reused=len(done), rows=rows)


def _split_summary(split: str | None, choices: Sequence[SplitChoice]) -> dict[str, Any] | None:
    if split is None:
        return None
    return {"name": split, "datasets": {c.dataset: c.model_dump(exclude={"dataset", "split"}) for c in choices},
            "decided_by": [c.describe() for c in choices]}


def _models(config: Config) -> dict[str, str]:
    return {"llm": config.llm, **({"vlm": config.vlm} if config.vlm else {})}
