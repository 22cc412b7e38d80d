"""Score one or more graphs on evaluation datasets (JSON Lines; see the README section
'Evaluation'), side by side with baselines, on all items or on the dev or test split.
Results go to --out as they come: predictions.jsonl, summary.json, report.md and basis.svg
(coverage and accuracy by what decided each answer); rerunning
with the same --out resumes, and asks only what is new (another graph, another split)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, cast

__all__ = ["HELP", "add_arguments", "run"]

HELP = "score graphs (and baselines) side by side on benchmark datasets"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from agentvlm.cli import model_options

    p.add_argument("datasets", nargs="+", metavar="DATASET.jsonl", help="one or more dataset files")
    p.add_argument("--baseline", action="append", choices=["blind", "vlm", "novlm"], default=[],
                   help="also score a baseline in the same run (repeatable): blind = the LLM without the image, "
                        "vlm = the --vlm model answering directly, novlm = the first graph with its --vlm switched "
                        "off (same LLM and tools); with --vlm, --baseline vlm brings novlm along, so the graph with "
                        "the VLM, the VLM alone and the graph without it stand side by side")
    p.add_argument("--split", choices=["dev", "test"],
                   help="only this split: each item's 'split' field, else a splits.json beside or up to 3 folders "
                        "above the dataset, else sha1(id) parity (even = dev)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="a stratified, evenly spread subset of N items per dataset (after --split)")
    p.add_argument("--circular", action="store_true",
                   help="MMBench CircularEval: ask each multiple-choice item once per rotation of its options")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/DATASET-GRAPHS-TIMESTAMP); reuse it to resume")
    p.add_argument("--workers", type=int, default=1, metavar="K", help="parallel worker processes (each gets cores/K llama.cpp threads) or Ray tasks (default 1)")
    p.add_argument("--executor", choices=["local", "ray"], default="local", help="run items here or as Ray tasks")
    p.add_argument("--ray-address", metavar="ADDR", help="connect to this Ray cluster instead of starting a local one")
    model_options(cast(argparse.ArgumentParser, _RepeatableGraph(p)))


class _RepeatableGraph:
    """The parser as ``model_options`` sees it, with ``--graph`` repeatable (it takes one everywhere else)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser

    def add_argument(self, *names: str, **kwargs: Any) -> argparse.Action:
        if "--graph" in names:
            kwargs.update(dest="graphs", action="append", default=[], help=(
                "a graph to score: a built-in name or a graph YAML file; repeat it or give a comma list "
                "(--graph prism,moai) to compare graphs side by side (default: the config's, prism)"))
        return self.parser.add_argument(*names, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.parser, name)


def _graphs(values: list[str]) -> list[str]:
    return [g.strip() for value in values for g in value.split(",") if g.strip()]


def _default_out(datasets: list[str], graphs: list[str]) -> Path:
    from agentvlm.eval.dataset import dataset_name

    name = dataset_name(datasets[0]) if len(datasets) == 1 else f"{len(datasets)}-datasets"
    systems = "+".join(Path(g).stem for g in graphs)
    return Path("runs") / f"{name}-{systems}-{time.strftime('%Y%m%d-%H%M%S')}"


class _Progress:
    """A rich progress bar with running accuracy on a terminal; one plain line per question when piped."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.hits: dict[str, list[int]] = {}
        self.bar: Any = None
        self.task_id: Any = None

    def __call__(self, row: dict[str, Any], done: int, total: int) -> None:
        system = row["system"]
        if row["rotation"] == 0:
            right, seen = self.hits.get(system, [0, 0])
            self.hits[system] = [right + int(row["correct"]), seen + 1]
        acc = "  ".join(f"{s} {100 * r / n:.1f}%" for s, (r, n) in self.hits.items())
        if not self.live:
            mark = "ok" if row["correct"] else "x "
            if "part_scores" in row:  # a multi-part item: right only when every part is
                mark += f" parts {sum(s == 1.0 for s in row['part_scores'])}/{len(row['part_scores'])}"
            print(f"[{done}/{total}] {mark} {row['dataset']}/{row['id']} {system} r{row['rotation']} "
                  f"pred={row['prediction'][:40]!r} gold={row['answer']!r} {row['seconds']:.2f}s | {acc}", flush=True)
            return
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                TextColumn("{task.description}"))
            self.bar.start()
            self.task_id = self.bar.add_task(acc, total=total, completed=done - 1)
        self.bar.update(self.task_id, completed=done, description=acc)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run(args: argparse.Namespace) -> int:
    from agentvlm.cli.ask import build_config
    from agentvlm.eval.executors import make_executor
    from agentvlm.eval.runner import REPORT, run_eval

    config = build_config(args)
    graphs = _graphs(args.graphs) or [config.graph]
    config = config.model_copy(update={"graph": graphs[0]})
    out = Path(args.out) if args.out else _default_out(args.datasets, graphs)
    executor = make_executor(args.executor, workers=args.workers, address=args.ray_address)
    progress = _Progress(sys.stdout.isatty())
    start = time.perf_counter()
    try:
        result = run_eval(args.datasets, config, out=out, graphs=graphs, baselines=args.baseline, split=args.split,
                          limit=args.limit, circular=args.circular, executor=executor, on_result=progress)
    finally:
        progress.close()
    print((out / REPORT).read_text())
    print(f"{result.ran} questions asked, {result.reused} reused from {out} in {time.perf_counter() - start:.1f}s")
    return 0
