"""``auto`` with a VLM, the VLM alone and ``auto`` without it, on two test sets: one table.

For each dataset, one ``agentvlm.eval.run_eval`` in this process with ``graphs=["auto"]`` and
``baselines=["vlm"]`` (which brings ``novlm``, auto with its VLM switched off, along), on the
test split: the natural questions (``examples/natural/questions.jsonl``) and the shared BLINK
spatial-relation test half (``../shared/evaldata/blink_spatial_relation/questions.jsonl``).
The models load once for both, in a warm-up on a drawn image of no dataset (so no question's
time includes loading them, and no cached perception is reused). The table gives, per dataset and system, the items, accuracy,
median VLM calls per question, mean seconds per question and, for auto, the seconds the VLM
adds over novlm on the same questions. Each dataset's ``report.md``, ``summary.json``,
``predictions.jsonl`` and ``basis.svg`` stay in ``--out``; rerunning into it resumes.

Without ``--vlm`` the VLM is the scripted OpenAI-compatible server of ``tests/scripted_vlm.py``
on loopback (``yes`` to yes/no questions, ``2`` to counts, ``A`` to options, else ``a person``):
that shows the harness works end to end, and its figures say nothing about any real VLM.
With a GPU: ``--vlm openai:MODEL@http://127.0.0.1:8000/v1`` (vLLM, llama-server, LM Studio) or
``--vlm ollama:MODEL``.

Usage: python benchmarks/bench_vlm_graph.py [--vlm SPEC] [--llm SPEC] [--limit N] [--out DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATASETS = {
    "natural": ROOT / "examples" / "natural" / "questions.jsonl",
    "blink_spatial_relation": ROOT.parent / "shared" / "evaldata" / "blink_spatial_relation" / "questions.jsonl",
}
SCRIPTED_NOTE = ("NOTE: no --vlm given, so the VLM is a scripted loopback server (tests/scripted_vlm.py), not a real "
                 "model: these figures show that the harness runs end to end, not what a VLM is worth.")
_YES_NO = re.compile(r"^\s*(is|are|am|was|were|does|do|did|can|could|has|have|had|will|would|should)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\bhow many\b|\b(answer with|give|reply with) (a|one) number\b", re.IGNORECASE)


def scripted_reply(seen: Any) -> str:
    """The scripted VLM's answer to one request (``tests.scripted_vlm.Seen``): plain, fixed rules."""
    prompt: str = seen.prompt
    if "option letter" in prompt.lower():
        return "A"
    if "yes or no" in prompt.lower() or _YES_NO.match(prompt):
        return "yes"
    if _NUMBER.search(prompt):
        return "2"
    return "a person"


def warm_up(config: Any, out: Path) -> None:
    """Load every model the three systems use by asking two questions about a drawn image under ``out``."""
    from PIL import Image, ImageDraw

    from agentvlm.eval import run_eval

    out.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (480, 320), "white")
    ImageDraw.Draw(image).text((40, 140), "WARM UP 42", fill="black")
    image.save(out / "warm_up.png")
    items = [{"id": "count", "image": "warm_up.png", "question": "How many people are in this picture?", "answer": "0"},
             {"id": "read", "image": "warm_up.png", "question": "What does the sign say?", "answer": "warm up 42",
              "answer_type": "ocr"}]
    (out / "warm_up.jsonl").write_text("".join(json.dumps(it) + "\n" for it in items))
    run_eval([out / "warm_up.jsonl"], config, out=out / "run", graphs=["auto"], baselines=["vlm"])


def _rows(name: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for system, s in summary["systems"].items():
        out.append({
            "dataset": name, "system": system, "n": s["n"], "accuracy": s["accuracy"],
            "median_vlm_calls": s.get("median_vlm_calls"), "mean_seconds": s["mean_seconds"],
            "added_seconds_vs_novlm": s.get("added_seconds_vs_novlm"), "errors": s["errors"],
        })
    return out


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'dataset':<24} {'system':<7} {'n':>4} {'accuracy':>8} {'VLM calls (median)':>18} {'s/question':>10} "
          f"{'+s vs novlm':>11} {'errors':>6}")
    for r in rows:
        acc = "–" if r["accuracy"] is None else f"{100 * r['accuracy']:.1f}%"
        print(f"{r['dataset']:<24} {r['system']:<7} {r['n']:>4} {acc:>8} {_cell(r['median_vlm_calls'], 'g'):>18} "
              f"{_cell(r['mean_seconds'], '.2f'):>10} {_cell(r['added_seconds_vs_novlm'], '+.2f'):>11} {r['errors']:>6}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vlm", metavar="SPEC", help="the VLM to put in auto (default: the scripted loopback server)")
    parser.add_argument("--llm", metavar="SPEC", help="the reasoning LLM (default: the config's, embedded SmolLM2)")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="N items per dataset, a stratified evenly spread subset as eval's --limit (default: all)")
    parser.add_argument("--out", type=Path, help="folder for each dataset's run (default runs/bench_vlm_graph-TIMESTAMP)")
    parser.add_argument("--json", type=Path, help="also write the table's rows to this file")
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be a positive number of items, got {args.limit}")

    from agentvlm.config import Config
    from agentvlm.eval import run_eval

    out = args.out or ROOT / "runs" / f"bench_vlm_graph-{time.strftime('%Y%m%d-%H%M%S')}"
    datasets = {name: path for name, path in DATASETS.items() if path.exists()}
    for name, path in DATASETS.items():
        if name not in datasets:
            print(f"skipping {name}: {path} not found (the shared evaluation data lives beside the repo)", file=sys.stderr)
    if not datasets:
        return 2
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        spec = args.vlm
        if spec is None:
            from tests.scripted_vlm import ScriptedVLM

            spec = stack.enter_context(ScriptedVLM(scripted_reply)).spec
            print(SCRIPTED_NOTE, flush=True)
        config = Config.build({"vlm": spec, "cache": False, **({"llm": args.llm} if args.llm else {})}, source="bench")
        start = time.perf_counter()
        warm_up(config, out / "_warm_up")
        print(f"models loaded (warm-up) in {time.perf_counter() - start:.1f}s", flush=True)
        for name, path in datasets.items():
            start = time.perf_counter()

            def progress(row: dict[str, Any], done: int, total: int, name: str = name) -> None:
                print(f"  {name} [{done}/{total}] {row['system']:<5} {row['id']} {row['seconds']:.2f}s "
                      f"vlm_calls={row['vlm_calls']} basis={row['basis'] or '-'}", file=sys.stderr, flush=True)

            run = run_eval([path], config, out=out / name, graphs=["auto"], baselines=["vlm"], split="test",
                           limit=args.limit, on_result=progress)
            print(f"{name}: {run.ran} questions asked, {run.reused} reused, {time.perf_counter() - start:.1f}s "
                  f"-> {run.out / 'report.md'}", flush=True)
            rows += _rows(name, run.summary)
    print()
    print(f"auto with the VLM {spec} beside the VLM alone (vlm) and auto without it (novlm); "
          f"llm {config.llm}; test split{f', {args.limit} items per dataset' if args.limit else ''}")
    if args.vlm is None:
        print(SCRIPTED_NOTE)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
