"""The state behind ``agentvlm chat``: its agent, images, session folder and the answer in flight.

Kept apart from the terminal code so the piped and interactive modes share it.
A session without a name lives in a temporary folder removed at exit (``/save NAME``
keeps it); a named one lives under ``agentvlm.sessions.data_home()``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Generator
from contextlib import closing
from pathlib import Path
from typing import Any

from agentvlm.errors import ImageError, InputError, StorageError
from agentvlm.sessions import Turn

__all__ = ["ChatSession", "Turn"]


class ChatSession:
    """One chat: the agent bound to a session's checkpointer, the images, the last answer.

    Only one answer runs at a time; a cancelled one keeps running its current node
    in a worker thread and stops after it, and ``wait_idle`` waits for that.
    """

    def __init__(self, config: Any, *, name: str | None, images: list[str], graph_given: bool, store: Any = None) -> None:
        from agentvlm.images import open_image
        from agentvlm.sessions import CHAT_THREAD, SessionStore

        self.store = store or SessionStore()
        self.name = name
        self.warnings: list[str] = []
        self.resumed = name is not None and self.store.exists(name)
        self.folder = self.store.folder(name) if name else Path(tempfile.mkdtemp(prefix="agentvlm-chat-"))
        self.meta: dict[str, Any] = self.store.read_meta(name) if self.resumed and name else {}
        if self.resumed and not graph_given and self.meta.get("graph"):
            config = type(config).build({**config.model_dump(), "graph": self.meta["graph"]}, source=f"session {name}")
        self.config = config
        refs = [open_image(p, limits=config.image_limits()) for p in images]  # fail before any model loads
        self.images: list[Any] = []
        for path in self.meta.get("images", []):
            try:
                self._add(open_image(path, limits=config.image_limits()))
            except ImageError as exc:
                self.warnings.append(f"image of the session left out: {exc}")
        for ref in refs:
            self._add(ref)
        self.meta.setdefault("created", dt.datetime.now().isoformat(timespec="seconds"))
        self.meta.setdefault("threads", [CHAT_THREAD])
        self.last: Any = None
        self.last_files: Any = None
        self.worker: threading.Thread | None = None
        try:
            self._open()
            self._write_meta()
        except StorageError as exc:
            # A read-only or full AGENTVLM_HOME: chat on in a temporary folder, and say so.
            self.warnings.append(f"{exc}; this chat goes on without saving (nothing is kept after /quit)")
            self.name, self.resumed = None, False
            self.folder = Path(tempfile.mkdtemp(prefix="agentvlm-chat-"))
            self._open()
            self._write_meta()

    # -- storage -------------------------------------------------------------------------

    def _open(self) -> None:
        from agentvlm.agent import Agent
        from agentvlm.sessions import open_saver

        self.saver = open_saver(self.folder / "session.sqlite")
        self.agent = Agent(self.config, checkpointer=self.saver)

    def _write_meta(self) -> None:
        self.meta.update(graph=self.config.graph, images=[r.path for r in self.images])
        if self.name:
            self.store.write_meta(self.name, self.meta)
        else:
            from agentvlm.paths import write_private

            write_private(self.folder / "meta.json", json.dumps(self.meta, indent=2))

    @property
    def thread(self) -> str:
        return str(self.meta["threads"][-1])

    @property
    def label(self) -> str:
        return f"session {self.name}" if self.name else "a temporary session (/save NAME keeps it)"

    def turns(self) -> list[Turn]:
        """The turns of the current conversation, finished or not."""
        from agentvlm.sessions import turns

        return [t for t, _ in turns(self.saver, self.thread)]

    def close(self) -> None:
        self.wait_idle()
        self.saver.conn.close()
        if not self.name:
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- commands ------------------------------------------------------------------------

    def _add(self, ref: Any) -> bool:
        if any(r.sha256 == ref.sha256 for r in self.images):
            return False
        self.images.append(ref)
        return True

    def add_image(self, path: str) -> tuple[Any, bool]:
        from agentvlm.images import open_image

        if not path.strip():
            raise InputError("give the image's path: /image PATH")
        ref = open_image(path.strip(), limits=self.config.image_limits())
        added = self._add(ref)
        self._write_meta()
        return ref, added

    def set_graph(self, graph: str) -> None:
        self.wait_idle()
        type(self.config).build({**self.config.model_dump(), "graph": graph}, source="/graph")  # a bad name fails here
        self.agent = self.agent.with_graph(graph, checkpointer=self.saver)
        self.config = self.agent.config
        self._write_meta()

    def reset(self) -> None:
        """Start a new conversation in this session: earlier turns stay on disk, out of the prompt."""
        self.wait_idle()
        threads = self.meta["threads"]
        threads.append(f"chat{len(threads) + 1}")
        self.last = self.last_files = None
        self._write_meta()

    def save_as(self, name: str) -> Path:
        """Copy this session to ``name`` and go on there."""
        self.wait_idle()
        dest = self.store.copy(self.saver, self.folder, name)
        old_folder, was_named = self.folder, self.name is not None
        self.saver.conn.close()
        self.name, self.folder = name, dest
        self._open()
        self._write_meta()
        if not was_named:
            shutil.rmtree(old_folder, ignore_errors=True)
        return dest

    # -- answering -----------------------------------------------------------------------

    def wait_idle(self, notify: Callable[[], None] | None = None) -> None:
        """Wait for a cancelled answer's worker to stop (it finishes its running node first)."""
        if self.worker is not None and self.worker.is_alive():
            if notify:
                notify()
            self.worker.join()
        self.worker = None

    def start(self, question: str, sink: Callable[[Any], None], *, progress: bool) -> threading.Event:
        """Answer ``question`` in a worker thread; ``sink`` gets each event, an exception, then ``None``.

        Set the returned event to cancel: the worker stops after the running node and the
        turn stays unfinished (the next turn's history leaves it out).
        """
        if not self.images:
            raise InputError("no image yet: add one with /image PATH")
        self.wait_idle()
        cancel = threading.Event()
        images, thread = list(self.images), self.thread

        def work() -> None:
            try:
                stream: Generator[Any, None, None] = self.agent.stream(images, question, thread_id=thread, progress=progress)  # type: ignore[assignment]
                with closing(stream):
                    for event in stream:
                        if cancel.is_set():
                            return
                        sink(event)
            except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
                sink(exc)
            finally:
                sink(None)

        self.worker = threading.Thread(target=work, name="agentvlm-answer", daemon=True)
        self.worker.start()
        return cancel

    def finish(self, answer: Any) -> Any:
        """Remember a finished answer and write its trace (JSON and annotated images) into the session."""
        from agentvlm.trace import write_trace

        self.last = answer
        n = len(self.turns())
        try:
            self.last_files = write_trace(answer, self.folder / "traces", f"{self.thread}-{n:03d}")
        except OSError as exc:  # StorageError included: the answer stands, its trace is not kept
            self.last_files = None
            self.warnings.append(f"trace of this answer not saved: {exc}")
        return self.last_files

    def pop_warnings(self) -> list[str]:
        """Warnings not shown yet (storage that failed), for the chat to print once."""
        out, self.warnings = self.warnings, []
        return out
