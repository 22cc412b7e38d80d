"""Reliability under load and over time: threads sharing one Agent, RSS over many asks, chats killed with SIGKILL.

* **threads**: ``--threads`` threads share one ``Agent`` for ``--questions`` questions
  (real photos, several question kinds); every answer must equal the one-thread answer
  to the same question, and no thread may raise.
* **memory**: ``--asks`` asks in one process; RSS after a warm-up against RSS at the end
  (target: growth < 50 MB).
* **kill -9**: ``--kills`` piped ``agentvlm chat --session`` processes, each killed with
  SIGKILL at a random moment; every session database must open (integrity check) and hold
  every turn whose answer the chat had printed.

Every loop is bounded in count and in time (``--budget`` seconds per part); nothing
listens beyond loopback. Full sizes (the issue's): ``--threads 8 --questions 200 --asks 1000 --kills 50``.
On 2 shared cores run smaller, e.g. ``--questions 24 --asks 60 --kills 6``, and say so.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "images"
PAIRS = [
    ("street_scene_pedestrians.jpg", "How many people are in this picture?"),
    ("street_scene_pedestrians.jpg", "Is there a car?"),
    ("sign_no_double_parking.jpg", "What does the sign say?"),
    ("sign_copy_centre_shop.jpg", "What does the sign say?"),
    ("label_book_and_groceries.png", "Is there a book?"),
    ("sign_sports_centre_directions.jpg", "Where is the sports centre?"),
]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def threads_part(agent: Any, threads: int, questions: int, budget: float) -> dict[str, Any]:
    reference = {pair: agent.ask(EXAMPLES / pair[0], pair[1]).text for pair in PAIRS}
    work = [PAIRS[i % len(PAIRS)] for i in range(questions)]
    deadline = time.monotonic() + budget
    errors: list[str] = []
    mismatches: list[str] = []
    done = 0
    lock = threading.Lock()

    def one(pair: tuple[str, str]) -> None:
        nonlocal done
        if time.monotonic() > deadline:
            return
        try:
            text = agent.ask(EXAMPLES / pair[0], pair[1]).text
        except Exception as exc:  # noqa: BLE001 (counted, that is the measurement)
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
            return
        with lock:
            done += 1
            if text != reference[pair]:
                mismatches.append(f"{pair[1]!r}: {text!r} != {reference[pair]!r}")

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, work))
    return {"asked": done, "of": questions, "errors": len(errors), "mismatches": len(mismatches),
            "seconds": round(time.monotonic() - start, 1), "examples": (errors + mismatches)[:3]}  # fmt: skip


def memory_part(agent: Any, asks: int, budget: float) -> dict[str, Any]:
    import gc

    warm = min(10, asks)
    for i in range(warm):
        pair = PAIRS[i % len(PAIRS)]
        agent.ask(EXAMPLES / pair[0], pair[1])
    gc.collect()
    before = rss_mb()
    deadline = time.monotonic() + budget
    done = 0
    for i in range(asks):
        if time.monotonic() > deadline:
            break
        pair = PAIRS[i % len(PAIRS)]
        agent.ask(EXAMPLES / pair[0], pair[1])
        done += 1
    gc.collect()
    after = rss_mb()
    return {"asks": done, "of": asks, "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
            "growth_mb": round(after - before, 1)}  # fmt: skip


def kill_part(kills: int, budget: float, seed: int) -> dict[str, Any]:
    from agentvlm.sessions import CHAT_THREAD, open_saver, turns

    rng = random.Random(seed)
    home = Path(tempfile.mkdtemp(prefix="agentvlm-kill-"))
    env = {**os.environ, "AGENTVLM_HOME": str(home), "PYTHONPATH": str(REPO)}
    questions = "".join(f"{q}\n" for _, q in PAIRS[:4])
    deadline = time.monotonic() + budget
    opened = missing = printed_total = finished_total = ran = 0
    problems: list[str] = []
    for k in range(kills):
        if time.monotonic() > deadline:
            break
        name = f"k{k}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentvlm", "chat", str(EXAMPLES / PAIRS[0][0]), "--session", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(questions)
        proc.stdin.flush()
        printed: list[str] = []
        reader = threading.Thread(target=printed.extend, args=(proc.stdout,))
        reader.start()
        time.sleep(rng.uniform(1.0, 25.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=5)
        ran += 1
        db = home / "sessions" / name / "session.sqlite"
        answers = [ln.strip() for ln in printed if ln.strip() and not ln.startswith(("agentvlm chat", "images:", "warning"))]
        printed_total += len(answers)
        if not db.exists():
            if answers:
                problems.append(f"{name}: no database but {len(answers)} printed answers")
                missing += len(answers)
            continue
        try:
            check = sqlite3.connect(str(db)).execute("PRAGMA integrity_check").fetchone()[0]
            saver = open_saver(db)
            done = [t for t, _ in turns(saver, CHAT_THREAD) if t.finished]
            saver.conn.close()
        except Exception as exc:  # noqa: BLE001 (a database that will not open is the failure measured)
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if check != "ok":
            problems.append(f"{name}: integrity_check says {check}")
            continue
        opened += 1
        finished_total += len(done)
        kept = {" ".join(t.answer.split()) for t in done}
        lost = [a for a in answers if a not in kept]
        missing += len(lost)
        if lost:
            problems.append(f"{name}: printed but not saved: {lost[:2]}")
    return {"killed": ran, "of": kills, "databases_opened": opened, "answers_printed": printed_total,
            "turns_saved": finished_total, "printed_but_lost": missing, "examples": problems[:3]}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--questions", type=int, default=200, help="questions shared by the threads")
    p.add_argument("--asks", type=int, default=1000, help="asks for the memory part")
    p.add_argument("--kills", type=int, default=50, help="chat processes killed with SIGKILL")
    p.add_argument("--budget", type=float, default=900.0, help="seconds at most per part")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--only", choices=["threads", "memory", "kill"], action="append", help="run only these parts")
    args = p.parse_args()
    parts = args.only or ["threads", "memory", "kill"]
    sys.path.insert(0, str(REPO))
    rows: list[tuple[str, str, str]] = []
    if "threads" in parts or "memory" in parts:
        from agentvlm import Agent, Config

        agent = Agent(Config(cache=False))  # the in-memory perception cache still serves repeats
        if "threads" in parts:
            r = threads_part(agent, args.threads, args.questions, args.budget)
            ok = r["errors"] == 0 and r["mismatches"] == 0 and r["asked"] == r["of"]
            result = (f"{r['asked']}/{r['of']} asked, {r['errors']} exceptions, "
                      f"{r['mismatches']} answers differing from one thread, {r['seconds']} s")
            rows.append((f"{args.threads} threads, one Agent", result, "ok" if ok else f"FAIL {r['examples']}"))
        if "memory" in parts:
            r = memory_part(agent, args.asks, args.budget)
            result = f"RSS {r['rss_before_mb']} -> {r['rss_after_mb']} MB (+{r['growth_mb']} MB)"
            rows.append((f"{r['asks']} asks, one process", result, "ok" if r["growth_mb"] < 50 and r["asks"] == r["of"] else "FAIL"))
    if "kill" in parts:
        r = kill_part(args.kills, args.budget, args.seed)
        ok = r["printed_but_lost"] == 0 and not r["examples"]
        result = (f"{r['databases_opened']} databases open (integrity ok), {r['answers_printed']} answers printed, "
                  f"{r['turns_saved']} turns saved, {r['printed_but_lost']} lost")
        rows.append((f"{r['killed']} chats killed -9", result, "ok" if ok else f"FAIL {r['examples']}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  {'result':<90}  verdict")
    for name, result, verdict in rows:
        print(f"{name:<{width}}  {result:<90}  {verdict}")
    return 0 if all(r[2] == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
