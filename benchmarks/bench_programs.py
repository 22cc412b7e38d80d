"""Evidence programs against free-form reasoning on real benchmark items, in the same run.

For each item of each evaluation folder (``/work/shared/evaldata``), the same
question goes to two graphs sharing one LLM and one perception cache:

* ``prism``: verbalized evidence, then the LLM answers (free-form reasoning);
* ``program``: the LLM writes an evidence program that code executes; it falls
  back to prism's reasoning when the program declines.

Reported per folder and graph: accuracy (benchmark scoring: option letter or
true/false), the share of items the program itself answered and its accuracy
there, seconds and model calls per item. Coverage is the share of items where
every object the question names is detected: after one full-image YOLOv4-tiny
pass at confidence 0.3, and after the program's recall passes (low threshold,
inputs 288-832, tiles, mirrored image, ZoomEye on large images).

Usage: python benchmarks/bench_programs.py [--folders F ...] [--limit N] [--planner llm|rules] [--json FILE]
``--limit`` takes a stratified subset (the first N/2 items of each answer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"


def load_items(folder: str, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (EVALDATA / folder / "questions.jsonl").read_text().splitlines() if line.strip()]
    if limit is None or limit >= len(rows):
        return rows
    by_answer: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_answer.setdefault(r["answer"], []).append(r)
    per = max(limit // len(by_answer), 1)
    return [r for group in by_answer.values() for r in group[:per]]


def correct(item: dict[str, Any], prediction: str) -> bool:
    from agentvlm.question.letters import option_letter as choice_letter

    if item.get("choices"):
        return choice_letter(prediction, item["choices"]) == item["answer"]
    words = prediction.strip().lower().strip(".!\"'").split()
    first = words[0] if words else ""
    said = {"yes": "true", "true": "true", "no": "false", "false": "false"}.get(first)
    return said == item["answer"]


def coverage(agent: Any, item: dict[str, Any], image: Any) -> tuple[bool, bool]:
    """Whether every named class is found by one pass at 0.3, and after the recall passes."""
    from agentvlm.graph.services import Recorder
    from agentvlm.programs.recall import find_missing
    from agentvlm.question import analyze
    from agentvlm.question.vocabulary import canonical

    services = agent.services
    names = analyze(item["question"], item.get("choices") or []).labels
    if not names:
        return False, False
    tool = services.tool("detect")
    params = services.tool_params(tool, confidence=0.3)
    key = tool.cache_key(image, params, None)
    base = services.cache.get(key)
    if base is None:
        base = tool.run(image, params)
        services.cache.put(key, base)
    base = [e.model_copy(update={"id": f"det{n}"}) for n, e in enumerate(base)]
    have = {canonical(e.label or "") or e.label for e in base}
    extra = find_missing(services, Recorder(), [image], names, base)
    have_after = have | {canonical(e.label or "") or e.label for e in extra}
    return set(names) <= have, set(names) <= have_after


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folders", nargs="+", default=["blink_spatial_relation", "nlvr_synthetic"])
    ap.add_argument("--limit", type=int, default=None, help="stratified subset of N items per folder")
    ap.add_argument("--planner", choices=["llm", "rules"], default="llm")
    ap.add_argument("--json", type=Path, default=None, help="write per-item rows here")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not EVALDATA.exists():
        print(f"evaluation data not found at {EVALDATA}", file=sys.stderr)
        return 2

    from agentvlm import Agent
    from agentvlm.config import Config
    from agentvlm.evidence.cache import PerceptionCache
    from agentvlm.models import load_chat_model

    llm = load_chat_model(Config().llm)
    cache = PerceptionCache(None, max_items=4096)
    graph_file = ROOT / "agentvlm" / "graphs" / "program.yaml"
    if args.planner == "rules":
        text = graph_file.read_text().replace("program: {type: program}", "program: {type: program, params: {planner: rules}}")
        graph_file = Path("/tmp") / "agentvlm_program_rules.yaml"
        graph_file.write_text(text)
    agents = {
        "prism": Agent(Config(cache=False), llm=llm, graph="prism", cache=cache),
        f"program ({args.planner})": Agent(Config(cache=False), llm=llm, graph=str(graph_file), cache=cache),
    }
    rows: list[dict[str, Any]] = []
    try:
        run_items(args, agents, rows)
    except KeyboardInterrupt:  # a long run stopped early still reports the items done
        print(f"interrupted after {len(rows)} items", file=sys.stderr)
    if rows:
        report(rows, list(agents), args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


def run_items(args: argparse.Namespace, agents: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    from agentvlm.images import load_image

    for folder in args.folders:
        items = load_items(folder, args.limit)
        for n, item in enumerate(items):
            image = load_image(EVALDATA / folder / item["image"])
            row: dict[str, Any] = {"folder": folder, "id": item["id"], "question": item["question"], "answer": item["answer"]}
            row["found_base"], row["found_recall"] = coverage(agents["prism"], item, image)
            for name, agent in agents.items():
                start = time.perf_counter()
                ans = agent.ask(image, item["question"], choices=item.get("choices") or None)
                notes = " | ".join(s.note or "" for s in ans.steps)
                row[name] = {
                    "text": ans.text,
                    "correct": correct(item, ans.text),
                    "seconds": time.perf_counter() - start,
                    "model_calls": ans.model_calls,
                    "by_program": "answered by program" in notes,
                    "notes": notes,
                }
            rows.append(row)
            if args.verbose:
                short = {k: (v["text"], v["correct"]) for k, v in row.items() if isinstance(v, dict)}
                print(f"{folder} {n + 1}/{len(items)} {item['question'][:70]!r} gold={item['answer']} {short}", flush=True)


def report(rows: list[dict[str, Any]], names: list[str], args: argparse.Namespace) -> None:
    print(f"\nbenchmarks/bench_programs.py --planner {args.planner} --limit {args.limit}  (embedded CPU stack: YOLOv4-tiny, RapidOCR, SmolLM2-135M)")
    print(f"{'folder':<24}{'graph':<18}{'n':>5}{'acc':>8}{'prog share':>12}{'prog acc':>10}{'s/item':>8}{'calls/item':>11}")
    for folder in dict.fromkeys(r["folder"] for r in rows):
        sub = [r for r in rows if r["folder"] == folder]
        for name in names:
            res = [r[name] for r in sub]
            by = [x for x in res if x["by_program"]]
            acc = sum(x["correct"] for x in res) / len(res)
            pacc = f"{sum(x['correct'] for x in by) / len(by):.1%}" if by else "-"
            secs = sum(x["seconds"] for x in res) / len(res)
            calls = sum(x["model_calls"] for x in res) / len(res)
            print(f"{folder:<24}{name:<18}{len(res):>5}{acc:>8.1%}{len(by) / len(res):>12.1%}{pacc:>10}{secs:>8.2f}{calls:>11.2f}")
        base = sum(r["found_base"] for r in sub) / len(sub)
        after = sum(r["found_recall"] for r in sub) / len(sub)
        print(f"{folder:<24}coverage (every named object found): one pass @0.3 {base:.1%}, after recall passes {after:.1%}")


if __name__ == "__main__":
    raise SystemExit(main())
