"""Conversations that survive a crash: every finished turn is a LangGraph checkpoint in SQLite.

A conversation ``thread_id`` runs turn ``n`` on its own LangGraph thread
``{thread_id}#{n}``. Each turn therefore starts from a clean state (no evidence,
steps or loop counters leak from the last question) and its input carries
``history``, the finished turns before it, which the reason prompt shows. A turn
is finished once its ``answer`` is checkpointed; a cancelled or killed turn
leaves an unfinished thread that later turns skip.

On disk (``AGENTVLM_HOME``, else ``$XDG_DATA_HOME/agentvlm``, else
``~/.local/share/agentvlm``)::

    sessions/NAME/session.sqlite   checkpoints (WAL, synchronous=FULL: a commit survives a power cut)
    sessions/NAME/meta.json        graph and images of the conversation
    sessions/NAME/traces/          turn-001.json (the Answer) and turn-001-i0.png (annotated image)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentvlm.errors import InputError

__all__ = [
    "CHAT_THREAD",
    "SessionStore",
    "Turn",
    "data_home",
    "next_turn",
    "open_saver",
    "turn_thread",
    "turns",
]

CHAT_THREAD = "chat"
"""The conversation id the CLI uses inside each session's own database."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")  # \Z: "$" would let a final newline through


def data_home() -> Path:
    """Where agentvlm keeps user data: sessions and the chat's input history (private: 0700/0600)."""
    from agentvlm.paths import data_home as home

    return home()


class Turn(BaseModel):
    """One question and its answer, as the conversation remembers it."""

    n: int = Field(ge=1)
    question: str
    answer: str = ""
    images: list[str] = Field(default_factory=list)
    finished: bool = False

    def record(self) -> dict[str, Any]:
        """The compact form carried in the next turn's ``history``."""
        return {"question": self.question, "answer": self.answer, "images": self.images}


def turn_thread(thread_id: str, n: int) -> str:
    return f"{thread_id}#{n}"


def _values(checkpointer: Any, thread: str) -> dict[str, Any] | None:
    found = checkpointer.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
    if found is None:
        return None
    values: dict[str, Any] = found.checkpoint.get("channel_values", {})
    return values


def turns(checkpointer: Any, thread_id: str, *, with_values: bool = False) -> list[tuple[Turn, dict[str, Any]]]:
    """Every started turn of a conversation, in order, with its last checkpointed state.

    The state is only returned when ``with_values`` (it holds the turn's evidence and steps).
    """
    out: list[tuple[Turn, dict[str, Any]]] = []
    n = 1
    while (values := _values(checkpointer, turn_thread(thread_id, n))) is not None:
        turn = Turn(
            n=n,
            question=str(values.get("question", "")),
            answer=str(values.get("answer", "")),
            images=[Path(getattr(i, "path", str(i))).name for i in values.get("images", [])],
            finished=bool(values.get("answer")),
        )
        out.append((turn, values if with_values else {}))
        n += 1
    return out


def next_turn(checkpointer: Any, thread_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The next turn's number and the ``history`` its input carries (finished turns only)."""
    started = turns(checkpointer, thread_id)
    return len(started) + 1, [t.record() for t, _ in started if t.finished]


def open_saver(path: Path) -> Any:
    """A LangGraph ``SqliteSaver`` on ``path`` that commits each checkpoint durably.

    WAL lets a reader (``agentvlm sessions show``) look while a chat writes;
    ``synchronous=FULL`` syncs the log on every commit, so a finished turn
    survives ``kill -9`` and a power cut.
    """
    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError as exc:
        from agentvlm.errors import MissingDependencyError

        raise MissingDependencyError("langgraph-checkpoint-sqlite", purpose="chat sessions") from exc
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agentvlm.paths import FILE_MODE, private_dir

    private_dir(path.parent)
    _private_file(path, FILE_MODE)  # SQLite gives its -wal and -shm files the database's mode
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        from agentvlm.errors import StorageError

        raise StorageError(f"cannot open the session database {path}: {exc}; "
                           "free some space or point AGENTVLM_HOME at a writable folder") from None
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=_state_types()))


def _private_file(path: Path, mode: int) -> None:
    from agentvlm.errors import StorageError

    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, mode))
        os.chmod(path, mode)
    except OSError as exc:
        raise StorageError(f"cannot write the session database {path}: {exc.strerror or exc}; "
                           "point AGENTVLM_HOME at a writable folder") from None


def _state_types() -> list[tuple[str, str]]:
    """The pydantic types graph state holds, allowed back out of a checkpoint (nothing else is)."""
    import importlib

    allowed: list[tuple[str, str]] = []
    for module_name in ("agentvlm.types", "agentvlm.graph.state", "agentvlm.question.analysis"):
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module_name:
                allowed.append((module_name, name))
    return allowed


class SessionStore:
    """The named sessions under ``root`` (default ``data_home() / "sessions"``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_home() / "sessions"

    def folder(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InputError(
                f"bad session name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, not starting with a symbol)"
            )
        return self.root / name

    def exists(self, name: str) -> bool:
        return (self.folder(name) / "session.sqlite").exists()

    def require(self, name: str) -> Path:
        """The folder of an existing session, or an error listing the ones there are."""
        if not self.exists(name):
            known = self.names()
            hint = f"known sessions: {', '.join(known[:10])}" if known else "there are no sessions yet"
            raise InputError(f"no session named {name!r} in {self.root}; {hint} (start one: agentvlm chat PHOTO --session {name})")
        return self.folder(name)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "session.sqlite").exists())

    def delete(self, name: str) -> None:
        shutil.rmtree(self.require(name))

    def read_meta(self, name: str) -> dict[str, Any]:
        path = self.folder(name) / "meta.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        except (OSError, ValueError):
            return {}

    def write_meta(self, name: str, meta: dict[str, Any]) -> None:
        """Replace ``meta.json`` atomically (write, fsync, rename)."""
        from agentvlm.paths import write_private

        write_private(self.folder(name) / "meta.json", json.dumps(meta, indent=2))

    def copy(self, saver: Any, source: Path, name: str) -> Path:
        """Copy a session (its open database through SQLite's backup API, and its traces) to ``name``."""
        dest = self.folder(name)
        if self.exists(name):
            raise InputError(f"a session named {name!r} exists already; choose another name or delete it: agentvlm sessions delete {name}")
        from agentvlm.paths import FILE_MODE, private_dir

        private_dir(dest)
        _private_file(dest / "session.sqlite", FILE_MODE)
        with saver.lock:
            target = sqlite3.connect(str(dest / "session.sqlite"))
            try:
                saver.conn.backup(target)
            finally:
                target.close()
        if (source / "traces").is_dir():
            shutil.copytree(source / "traces", dest / "traces", dirs_exist_ok=True)
        if (source / "meta.json").exists():
            shutil.copy2(source / "meta.json", dest / "meta.json")
        return dest
