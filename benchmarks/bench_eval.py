"""Evaluation throughput (items/s) of ``agentvlm eval`` with 1 and 2 workers on a slice of real data.

Each row is a fresh ``agentvlm eval`` process on the same slice, with ``--no-cache`` and a
new output folder, so every row pays the same: interpreter start, model loading in each
worker, and every question. ``items/s`` is end to end (what a user waits for);
``s/question`` is the mean time inside one question (from ``summary.json``), which shows
whether workers slowed each other down. Parallel workers only help when free cores
exist: llama.cpp uses every core in each process, so on 2 busy cores two workers mostly
take turns.

Usage: python benchmarks/bench_eval.py [--dataset FILE] [--limit N] [--workers 1,2] [--executor local|ray] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "evaldata" / "blink_spatial_relation" / "questions.jsonl"


def measure(dataset: Path, limit: int, workers: int, executor: str, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "agentvlm", "eval", str(dataset), "--limit", str(limit), "--no-cache",
           "--workers", str(workers), "--executor", executor, "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    return {
        "executor": executor, "workers": workers, "items": summary["n"], "wall_s": round(wall, 2),
        "items_per_s": round(summary["n"] / wall, 3), "s_per_question": summary["mean_seconds"],
        "accuracy": summary["accuracy"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=8, help="items in the slice (default 8)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    if not args.dataset.exists():
        print(f"dataset not found: {args.dataset} (the shared evaluation data lives beside the repo)", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (int(w) for w in args.workers.split(",")):
            rows.append(measure(args.dataset, args.limit, k, args.executor, Path(tmp) / f"w{k}"))
    print(f"dataset {args.dataset.parent.name}, {args.limit} items, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'executor':<9} {'workers':>7} {'items':>5} {'wall s':>8} {'items/s':>8} {'s/question':>10} {'accuracy':>8}")
    for r in rows:
        print(f"{r['executor']:<9} {r['workers']:>7} {r['items']:>5} {r['wall_s']:>8.2f} {r['items_per_s']:>8.3f} "
              f"{r['s_per_question']:>10.2f} {r['accuracy']:>8.3f}")
    if len({r["accuracy"] for r in rows}) > 1:
        print("WARNING: accuracy differs between worker counts; predictions should not depend on workers")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
