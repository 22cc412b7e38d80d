"""List, show and delete chat sessions (kept under AGENTVLM_HOME or ~/.local/share/agentvlm)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentvlm.sessions import SessionStore, Turn

__all__ = ["HELP", "add_arguments", "run"]

HELP = "list, show or delete chat sessions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="the sessions, with their turn counts and last question")
    show = sub.add_parser("show", help="the turns of a session, finished or not")
    show.add_argument("name", metavar="NAME")
    delete = sub.add_parser("delete", help="remove a session and its traces")
    delete.add_argument("name", metavar="NAME")


def run(args: argparse.Namespace) -> int:
    from agentvlm.sessions import SessionStore

    store = SessionStore()
    if args.action == "list":
        names = store.names()
        if not names:
            print(f"no sessions in {store.root} (start one: agentvlm chat PHOTO --session NAME)")
        for name in names:
            turns = [t for thread in _threads(store, name) for t in thread]
            done = [t for t in turns if t.finished]
            last = f"  last: {done[-1].question}" if done else ""
            print(f"{name:<24} {len(done):3d} turn{'s' if len(done) != 1 else ' '}{last}")
        return 0
    if args.action == "show":
        folder = store.require(args.name)
        meta = store.read_meta(args.name)
        print(f"session {args.name} · graph {meta.get('graph', '?')} · {folder}")
        print("images: " + (", ".join(meta.get("images", [])) or "none"))
        for c, thread in enumerate(_threads(store, args.name), start=1):
            if c > 1:
                print(f"-- conversation {c} (after /reset)")
            for t in thread:
                images = f"  [{', '.join(t.images)}]" if t.images else ""
                print(f"{t.n:3d}. {t.question}{images}")
                print(f"     → {t.answer}" if t.finished else "     (not finished: cancelled or interrupted)")
        return 0
    store.delete(args.name)
    print(f"deleted session {args.name}")
    return 0


def _threads(store: SessionStore, name: str) -> list[list[Turn]]:
    """The turns of each conversation of session ``name``, read from its checkpoints."""
    from agentvlm.sessions import CHAT_THREAD, open_saver, turns

    saver = open_saver(store.folder(name) / "session.sqlite")
    try:
        threads = store.read_meta(name).get("threads") or [CHAT_THREAD]
        return [[t for t, _ in turns(saver, thread)] for thread in threads]
    finally:
        saver.conn.close()
