"""Load on `agentvlm serve`: N concurrent OpenAI clients on loopback, a bounded number of requests.

    python benchmarks/bench_serve.py                          # concurrency 1 and 8, 16 requests each
    python benchmarks/bench_serve.py --concurrency 1,4,8 --requests 24 --max-concurrency 2 --json out.json

Prints requests/s, p50/p95 latency, errors and the server's peak RSS per concurrency, and
where the time goes: the agent's own work per answer (``Answer.seconds``: perception,
LLM) against the wait in the server's queue (latency minus work). With the embedded
default, one llama.cpp model answers one question at a time, so beyond one client the
extra latency is queueing, not work.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    ("street_scene_pedestrians.jpg", "How many people are in this picture?"),
    ("sign_no_double_parking.jpg", "What does the sign say?"),
    ("street_scene_pedestrians.jpg", "Is there a car in this picture?"),
    ("sign_copy_centre_shop.jpg", "What does the sign say?"),
]


def _messages(photo: str, question: str) -> list[dict[str, Any]]:
    data = base64.b64encode((ROOT / "examples" / "images" / photo).read_bytes()).decode()
    return [{"role": "user", "content": [{"type": "text", "text": question},
                                         {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}"}}]}]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)] if ordered else float("nan")


def run_load(base: str, concurrency: int, requests: int, server_pid: int) -> dict[str, Any]:
    """``requests`` questions from ``concurrency`` clients at once; the server's RSS is sampled meanwhile."""
    import openai
    import psutil

    proc = psutil.Process(server_pid)
    peak = proc.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, proc.memory_info().rss)

    counter = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    work: list[float] = []
    llm: list[float] = []
    errors: list[str] = []

    def client_loop(_: int) -> None:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="bench", max_retries=0, timeout=600)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            photo, question = QUESTIONS[n % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                reply = client.chat.completions.create(model="agentvlm", messages=_messages(photo, question))
            except openai.APIError as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            elapsed = time.perf_counter() - start
            answer = reply.model_extra["agentvlm"]["answer"]
            with lock:
                latencies.append(elapsed)
                work.append(answer["seconds"])
                llm.append(sum(c["seconds"] for s in answer["steps"] for c in s["calls"] if c["kind"] == "model"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(client_loop, range(concurrency)))
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    queue = [lat - w for lat, w in zip(latencies, work)]
    return {
        "concurrency": concurrency,
        "requests": requests,
        "ok": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "seconds": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 3),
        "p50_s": round(_percentile(latencies, 0.5), 2),
        "p95_s": round(_percentile(latencies, 0.95), 2),
        "work_s": round(statistics.fmean(work), 2) if work else None,
        "llm_s": round(statistics.fmean(llm), 2) if llm else None,
        "queue_s": round(statistics.fmean(queue), 2) if queue else None,
        "server_rss_mb": round(peak / 2**20),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts (default 1,8)")
    parser.add_argument("--requests", type=int, default=16, help="requests per concurrency level (default 16)")
    parser.add_argument("--max-concurrency", type=int, default=1, help="the server's --max-concurrency (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not levels or min(levels) < 1 or args.requests < 1:
        parser.error("--concurrency needs positive integers and --requests at least 1")

    from tests.servers import agentvlm_process, free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve_args = ["serve", "--port", str(port), "--max-concurrency", str(args.max_concurrency),
                  "--max-queue", str(max(levels) + 4), "--timeout", "900"]
    rows: list[dict[str, Any]] = []
    with agentvlm_process(serve_args, f"{base}/healthz") as proc:
        warm = run_load(base, 1, len(QUESTIONS), proc.pid)  # models loaded, each photo perceived once
        print(f"warm-up: {warm['ok']} requests in {warm['seconds']} s (models loaded, perception cached)", file=sys.stderr)
        for level in levels:
            rows.append(run_load(base, level, args.requests, proc.pid))
            print(f"  concurrency {level}: done", file=sys.stderr)
    header = f"{'clients':>7} {'requests':>8} {'req/s':>6} {'p50 s':>6} {'p95 s':>6} {'errors':>6} {'RSS MB':>7} {'work s':>7} {'LLM s':>6} {'queue s':>7}"
    print(f"agentvlm serve, embedded default, --max-concurrency {args.max_concurrency}, {args.requests} requests per row")
    print(header)
    for r in rows:
        print(f"{r['concurrency']:>7} {r['requests']:>8} {r['requests_per_s']:>6.2f} {r['p50_s']:>6.2f} {r['p95_s']:>6.2f} "
              f"{r['errors']:>6} {r['server_rss_mb']:>7} {r['work_s'] or 0:>7.2f} {r['llm_s'] or 0:>6.2f} {r['queue_s'] or 0:>7.2f}")
    print("work s: the agent's time per answer (LLM s of it in llama.cpp); queue s: latency minus work, "
          "the wait for the one llama.cpp model")
    for r in rows:
        for sample in r["error_samples"]:
            print(f"error at {r['concurrency']} clients: {sample}")
    if args.json:
        Path(args.json).write_text(json.dumps({"max_concurrency": args.max_concurrency, "rows": rows}, indent=2))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
