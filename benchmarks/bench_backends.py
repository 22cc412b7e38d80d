"""Throughput and latency of the OpenAI-compatible backend against a real loopback llama.cpp server,
and the graph's orchestration overhead per question when the LLM is that server.

Why: a served model is shared by parallel graph branches and parallel users; the
backend's concurrency limit and retries must not cost throughput, and the graph
around a remote model should add little beyond the model and tool time.

* requests/s and latency (p50, p95) at 1, 4 and 8 concurrent questions.
  llama-cpp-python's server runs one request at a time, so req/s should stay
  flat while latency grows with concurrency (queueing); a vLLM server would batch.
* overhead per question: ``answer.seconds`` minus the critical path of model
  and tool calls (the slowest parallel ``perceive:*`` branch plus every other
  step's calls), for ``Agent(llm="openai:smollm2@URL")`` on real photos with the
  perception cache warm, so tools cost ~0 and the rest is graph + HTTP + prompts.

Usage: python benchmarks/bench_backends.py [--questions N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def throughput(base: str, concurrency: int, questions: int, max_tokens: int) -> dict[str, Any]:
    from agentvlm.models import Message
    from agentvlm.models.openai import OpenAIModel
    from agentvlm.models.specs import parse_spec

    model = OpenAIModel(parse_spec(f"openai:smollm2@{base}"), max_concurrency=concurrency)
    prompts = [[Message(role="user", content=f"Question {i}: name a colour of a bus.")] for i in range(questions)]
    model.complete(prompts[0], max_tokens=max_tokens)  # warm-up

    def one(messages: list[Message]) -> float:
        start = time.perf_counter()
        model.complete(messages, max_tokens=max_tokens)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = sorted(pool.map(one, prompts))
    wall = time.perf_counter() - start
    model.close()
    return {"concurrency": concurrency, "requests": questions, "req_per_s": round(questions / wall, 2),
            "p50_ms": round(statistics.median(latencies) * 1000), "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000)}


def overhead(base: str, repeats: int) -> list[dict[str, Any]]:
    from agentvlm import Agent, Config

    images = ROOT / "examples" / "images"
    pairs = [(images / "sign_no_double_parking.jpg", "What does the sign say?"),
             (images / "street_scene_pedestrians.jpg", "How many people are in this picture?")]
    agent = Agent(Config(llm=f"openai:smollm2@{base}", cache=False))
    rows = []
    for path, question in pairs:
        agent.ask(path, question)  # warm: tools loaded, perception cached in memory
        for _ in range(repeats):
            answer = agent.ask(path, question)
            perceive = [sum(c.seconds for c in s.calls) for s in answer.steps if s.node.startswith("perceive")]
            others = sum(c.seconds for s in answer.steps if not s.node.startswith("perceive") for c in s.calls)
            model = sum(c.seconds for s in answer.steps for c in s.calls if c.kind == "model")
            critical = others + max(perceive, default=0.0)
            rows.append({"image": path.name, "total_s": answer.seconds, "model_s": model,
                         "overhead_ms": (answer.seconds - critical) * 1000})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    from tests.servers import llama_server

    with llama_server() as base:
        table = [throughput(base, c, args.questions, args.max_tokens) for c in (1, 4, 8)]
        ask = overhead(base, args.repeats)
    print(f"llama-cpp-python server (SmolLM2-135M Q4_1) on loopback; {args.questions} questions, max_tokens {args.max_tokens}")
    print(f"{'concurrency':>11} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for r in table:
        print(f"{r['concurrency']:>11} {r['req_per_s']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7}")
    print(f"\nagent.ask through the graph with --llm openai:smollm2@URL (perception cached), {args.repeats} repeats")
    print(f"{'image':<32} {'total s':>8} {'model s':>8} {'overhead ms':>12}")
    for name in dict.fromkeys(r["image"] for r in ask):
        rs = [r for r in ask if r["image"] == name]
        med = {k: statistics.median(r[k] for r in rs) for k in ("total_s", "model_s", "overhead_ms")}
        print(f"{name:<32} {med['total_s']:>8.2f} {med['model_s']:>8.2f} {med['overhead_ms']:>12.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": table, "ask": ask}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
