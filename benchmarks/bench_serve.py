"""Load on `agentvlm serve`: N concurrent OpenAI clients on loopback, a bounded number of requests.

    python benchmarks/bench_serve.py                          # concurrency 1 and 8, 16 requests each, then the refusals
    python benchmarks/bench_serve.py --concurrency 1,4,8 --requests 24 --max-concurrency 2 --json out.json
    python benchmarks/bench_serve.py --series cross-site,malformed --refusals 400   # no model runs: about a minute

Two more series send requests the server must refuse without running a model, from 8
clients at once: ``cross-site`` (what another web page could send: text/plain JSON, foreign
``Origin``, a rebinding ``Host``, a form post without a custom header) and ``malformed``
(a non-string graph, non-string choices, 100,000 nested brackets, a NUL in a filename, a
lone surrogate, a 1 MB junk upload). Each prints a row: requests answered with a 4xx, the
server alive afterwards, its RSS before and after, and files left in its temporary folder.

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


_REFUSALS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "cross-site": [
        ("/v1/ask", {"content": b'{"image": "data:image/png;base64,aGk=", "question": "Hi"}', "headers": {"Content-Type": "text/plain"}}),
        ("/v1/ask", {"files": {"image": ("a.jpg", b"junk")}, "data": {"question": "Hi"}, "headers": {"Origin": "http://evil.example"}}),
        ("/v1/ask", {"files": {"image": ("a.jpg", b"junk")}, "data": {"question": "Hi"}}),
        ("/v1/chat/completions", {"json": {"messages": []}, "headers": {"Origin": "https://evil.example"}}),
        ("/v1/chat/completions", {"json": {"messages": []}, "headers": {"Host": "rebind.example:8000"}}),
    ],
    "malformed": [
        ("/v1/ask", {"json": {"image": "data:image/png;base64,aGk=", "question": "Which?", "graph": [1]}}),
        ("/v1/ask", {"json": {"image": "data:image/png;base64,aGk=", "question": "Which?", "choices": [{"a": 1}, None]}}),
        ("/v1/ask", {"content": b"[" * 100_000, "headers": {"Content-Type": "application/json"}}),
        ("/v1/chat/completions", {"content": b"[" * 100_000, "headers": {"Content-Type": "application/json"}}),
        ("/v1/ask", {"content": b'--XX\r\nContent-Disposition: form-data; name="image"; filename="a\x00.jpg"\r\n\r\njunk\r\n--XX--\r\n',
                     "headers": {"Content-Type": "multipart/form-data; boundary=XX", "X-Requested-With": "bench"}}),
        ("/v1/ask", {"content": b'{"image": "data:image/png;base64,aGk=", "question": "What \\ud800?"}', "headers": {"Content-Type": "application/json"}}),
        ("/v1/ask", {"files": {"image": ("junk.jpg", b"\x00" * 2**20)}, "data": {"question": "What?"}, "headers": {"X-Requested-With": "bench"}}),
    ],
}


def run_refusals(base: str, series: str, requests: int, server_pid: int, tmp: Path) -> dict[str, Any]:
    """``requests`` requests of ``series`` from 8 clients; each must be answered with a 4xx and leave nothing behind."""
    import httpx
    import psutil

    proc = psutil.Process(server_pid)
    rss_before = proc.memory_info().rss
    kinds = _REFUSALS[series]
    statuses: list[int] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        path, args = kinds[n % len(kinds)]
        try:
            status = httpx.post(f"{base}{path}", timeout=60, **args).status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            statuses.append(status)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    alive = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    return {
        "series": series,
        "requests": requests,
        "answered_4xx": sum(400 <= s < 500 for s in statuses),
        "other": sorted({s for s in statuses if not 400 <= s < 500}),
        "alive": alive,
        "seconds": round(wall, 2),
        "rss_before_mb": round(rss_before / 2**20, 1),
        "rss_after_mb": round(proc.memory_info().rss / 2**20, 1),
        "files_left": sum(1 for p in tmp.rglob("*") if p.is_file()),
    }


def _print_refusals(rows: list[dict[str, Any]]) -> None:
    print(f"{'series':>10} {'requests':>8} {'4xx':>5} {'other':>8} {'alive':>5} {'s':>6} {'RSS before MB':>13} {'RSS after MB':>12} {'files left':>10}")
    for r in rows:
        print(f"{r['series']:>10} {r['requests']:>8} {r['answered_4xx']:>5} {','.join(map(str, r['other'])) or '-':>8} {'yes' if r['alive'] else 'NO':>5} "
              f"{r['seconds']:>6.1f} {r['rss_before_mb']:>13.1f} {r['rss_after_mb']:>12.1f} {r['files_left']:>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts (default 1,8)")
    parser.add_argument("--requests", type=int, default=16, help="requests per concurrency level (default 16)")
    parser.add_argument("--max-concurrency", type=int, default=1, help="the server's --max-concurrency (default 1)")
    parser.add_argument("--series", default="load,cross-site,malformed", help="which series (default load,cross-site,malformed)")
    parser.add_argument("--refusals", type=int, default=300, help="requests per refusal series (default 300)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    series = [s.strip() for s in args.series.split(",") if s.strip()]
    if not levels or min(levels) < 1 or args.requests < 1 or args.refusals < 1:
        parser.error("--concurrency needs positive integers, --requests and --refusals at least 1")
    if not set(series) <= {"load", *_REFUSALS}:
        parser.error(f"--series takes load, {', '.join(_REFUSALS)}")

    import tempfile

    from tests.servers import agentvlm_process, free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve_args = ["serve", "--port", str(port), "--max-concurrency", str(args.max_concurrency),
                  "--max-queue", str(max(levels) + 4), "--timeout", "900"]
    rows: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, \
            agentvlm_process(serve_args, f"{base}/healthz", env={"TMPDIR": tmp}) as proc:
        for name in [s for s in series if s != "load"]:  # before any model loads: RSS is the bare server's
            refused.append(run_refusals(base, name, args.refusals, proc.pid, Path(tmp)))
            print(f"  {name}: done", file=sys.stderr)
        if "load" in series:
            warm = run_load(base, 1, len(QUESTIONS), proc.pid)  # models loaded, each photo perceived once
            print(f"warm-up: {warm['ok']} requests in {warm['seconds']} s (models loaded, perception cached)", file=sys.stderr)
            for level in levels:
                rows.append(run_load(base, level, args.requests, proc.pid))
                print(f"  concurrency {level}: done", file=sys.stderr)
    if refused:
        print(f"agentvlm serve, requests it must refuse (8 clients, {args.refusals} per series)")
        _print_refusals(refused)
    if not rows:
        if args.json:
            Path(args.json).write_text(json.dumps({"refusals": refused}, indent=2))
        return 1 if any(r["answered_4xx"] != r["requests"] or not r["alive"] or r["files_left"] for r in refused) else 0
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
        Path(args.json).write_text(json.dumps({"max_concurrency": args.max_concurrency, "rows": rows, "refusals": refused}, indent=2))
    bad_refusals = any(r["answered_4xx"] != r["requests"] or not r["alive"] or r["files_left"] for r in refused)
    return 1 if any(r["errors"] for r in rows) or bad_refusals else 0


if __name__ == "__main__":
    sys.exit(main())
