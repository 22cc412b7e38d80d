"""One agent per graph, a bounded queue in front of them, and the answers kept for their images.

``Runner`` is what every front end (HTTP, OpenAI, MCP, Ray) calls: it admits a question
or refuses it at once (``Busy``, HTTP 429), runs ``Agent.stream`` in a worker thread
with a deadline, and carries a stateless client's earlier turns into the agent's own
conversation mechanism (``thread_id`` history) through an in-memory checkpointer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentvlm.errors import AgentVLMError, ConfigError
from agentvlm.serve.settings import ServeSettings
from agentvlm.types import Answer, ImageRef

if TYPE_CHECKING:
    from agentvlm.agent import Agent, Event

__all__ = ["Busy", "Runner", "SharedAnswers", "TimedOut", "UnknownModel", "annotated_png"]


class SharedAnswers(Protocol):
    """Answers and their annotated images kept where every replica can read them (Ray Serve).

    A replica may be asked for an image of an answer another replica gave.
    """

    def put(self, key: str, answer_json: str, pngs: list[bytes]) -> None: ...

    def answer(self, key: str) -> str | None: ...

    def png(self, key: str, k: int) -> bytes | None: ...


class Busy(AgentVLMError):
    """Every slot and queue place is taken (HTTP 429): retry later."""


class UnknownModel(ConfigError):
    """A request named a graph this server does not have (HTTP 404)."""


class TimedOut(AgentVLMError):
    """The answer took longer than the server's timeout (HTTP 504)."""


class Runner:
    """Agents by graph name (built on first use, sharing models and the perception cache)."""

    def __init__(self, settings: ServeSettings, *, shared: SharedAnswers | None = None) -> None:
        from agentvlm.graph import builtin_graphs, load_graph_spec

        self.settings = settings
        self.shared = shared
        config = settings.config
        default_spec, _ = load_graph_spec(config.graph)
        self.default_graph = default_spec.name
        self.graphs: dict[str, str] = {name: name for name in builtin_graphs()}
        self.graphs[self.default_graph] = config.graph  # a graph file given with --graph
        self._agents: dict[str, Agent] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="agentvlm-serve")
        self._slots: asyncio.Semaphore | None = None
        self.running = 0
        self.answered = 0
        self.pending = 0  # admitted and not yet finished: running or waiting for a slot
        self.answers: OrderedDict[str, Answer] = OrderedDict()
        self._answers_lock = threading.Lock()
        self.instance = uuid.uuid4().hex[:12]  # tells replicas apart in /healthz, where a pid would say too much
        self._tmp = Path(tempfile.mkdtemp(prefix="agentvlm-serve-"))
        self.uploads = self._tmp / "images"
        self._tmp_path = re.compile("(?:" + "|".join(re.escape(str(p)) for p in {self._tmp, self._tmp.resolve()}) + r")/(?:[^/\s'\"]+/)*")

    @property
    def queued(self) -> int:
        return max(self.pending - self.running, 0)

    def descriptions(self) -> dict[str, str]:
        from agentvlm.graph import load_graph_spec

        return {name: load_graph_spec(source)[0].description for name, source in self.graphs.items()}

    def graph_name(self, model: str | None) -> str:
        """The graph a request's ``model`` names; empty, ``agentvlm`` or ``default`` mean the default."""
        if not model or model in ("agentvlm", "default"):
            return self.default_graph
        if model not in self.graphs:
            raise UnknownModel(f"unknown model (graph) {model!r}; GET /v1/models lists them: {', '.join(self.graphs)}")
        return model

    def agent(self, graph: str) -> Agent:
        from langgraph.checkpoint.memory import InMemorySaver

        from agentvlm.agent import Agent

        with self._lock:
            if graph not in self._agents:
                if self._agents:  # one set of models and one cache for every graph
                    first = next(iter(self._agents.values()))
                    self._agents[graph] = first.with_graph(self.graphs[graph], checkpointer=InMemorySaver())
                else:
                    self._agents[graph] = Agent(self.settings.config, graph=self.graphs[graph], checkpointer=InMemorySaver())
            return self._agents[graph]

    @contextlib.contextmanager
    def request_folder(self) -> Iterator[Path]:
        """A folder for one request's images, removed afterwards unless a kept answer shows them.

        The answer's annotated images are drawn from these files on request; they go when
        the answer leaves the ``keep_answers`` window (or the server stops).
        """
        folder = self.uploads / uuid.uuid4().hex
        try:
            yield folder
        finally:
            with self._answers_lock:
                shown = any(folder in _folder_of(answer, self.uploads) for answer in self.answers.values())
            if not shown:
                shutil.rmtree(folder, ignore_errors=True)

    def scrub(self, text: str) -> str:
        """``text`` with this server's temporary folders cut from its paths (a file's name is kept)."""
        return self._tmp_path.sub("", text)

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Take a queue place or raise ``Busy`` now, before any response starts."""
        s = self.settings
        if self.pending >= s.max_concurrency + s.max_queue:
            raise Busy(
                f"the server is busy: {self.running} questions running and {self.queued} waiting "
                f"(limit {s.max_concurrency} + {s.max_queue}); retry in a few seconds"
            )
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def stream(
        self,
        graph: str,
        images: Sequence[ImageRef],
        question: str,
        *,
        choices: Sequence[str] | None = None,
        history: Sequence[tuple[str, str]] = (),
    ) -> AsyncIterator[Event]:
        """``Agent.stream`` for one admitted request: steps as they finish, then the answer.

        Raises ``TimedOut`` past the deadline; the run then stops after its current node.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_concurrency)
        deadline = time.monotonic() + self.settings.timeout_s
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.settings.timeout_s)
        except asyncio.TimeoutError:
            raise TimedOut(self._late()) from None
        self.running += 1
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        done = object()
        thread_id = uuid.uuid4().hex
        history = list(history)[-self.settings.max_history_turns :] if self.settings.max_history_turns else []

        def produce() -> None:
            run: Iterator[Event] | None = None
            agent: Agent | None = None
            try:
                agent = self.agent(graph)  # here, not in the event loop: a second graph's agent loads the shared models
                _seed(agent, thread_id, history)
                run = agent.stream(list(images), question, choices=choices, thread_id=thread_id)
                for event in run:
                    loop.call_soon_threadsafe(events.put_nowait, event)
                    if stop.is_set():
                        break
            except BaseException as exc:  # noqa: BLE001 (handed to the consumer)
                loop.call_soon_threadsafe(events.put_nowait, exc)
            finally:
                if run is not None:
                    getattr(run, "close", lambda: None)()  # a generator: stops the graph after the running node
                if agent is not None:
                    _forget(agent, thread_id, len(history) + 1)
                loop.call_soon_threadsafe(events.put_nowait, done)

        slots = self._slots

        def release(_: Any) -> None:
            self.running -= 1
            slots.release()

        future = loop.run_in_executor(self._pool, produce)
        future.add_done_callback(release)  # the slot is free once the thread is, not before
        try:
            while True:
                try:
                    item = await asyncio.wait_for(events.get(), timeout=max(deadline - time.monotonic(), 0.001))
                except asyncio.TimeoutError:
                    raise TimedOut(self._late()) from None
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                if item.answer is not None:
                    await asyncio.to_thread(self.remember, item.answer)
                yield item
        finally:
            stop.set()

    async def ask(self, graph: str, images: Sequence[ImageRef], question: str, **kwargs: Any) -> Answer:
        answer: Answer | None = None
        async for event in self.stream(graph, images, question, **kwargs):
            answer = event.answer or answer
        if answer is None:
            raise AgentVLMError("the graph finished without an answer")
        return answer

    def _late(self) -> str:
        return f"no answer within this server's timeout of {self.settings.timeout_s:g} s; ask something simpler or raise --timeout"

    def answer_id(self, answer: Answer) -> str:
        with self._answers_lock:
            return next((k for k, v in self.answers.items() if v is answer), "")

    def remember(self, answer: Answer) -> str:
        """Keep ``answer`` for ``GET /v1/answers/{id}`` (and in ``shared``, images drawn now)."""
        key = uuid.uuid4().hex
        if self.shared is not None:
            self.shared.put(key, answer.model_dump_json(), [annotated_png(answer, k) for k in range(len(answer.images))])
        with self._answers_lock:
            self.answered += 1
            self.answers[key] = answer
            while len(self.answers) > self.settings.keep_answers:
                _, old = self.answers.popitem(last=False)
                for folder in _folder_of(old, self.uploads):
                    shutil.rmtree(folder, ignore_errors=True)
        return key

    def recall(self, key: str) -> Answer | None:
        """A recent answer by id, from this process or the shared store."""
        with self._answers_lock:
            found = self.answers.get(key)
        if found is None and self.shared is not None and (text := self.shared.answer(key)) is not None:
            found = Answer.model_validate_json(text)
        return found

    def png(self, key: str, k: int) -> bytes | None:
        """The ``k``-th annotated image of answer ``key``: drawn here, or the shared store's copy."""
        with self._answers_lock:
            local = self.answers.get(key)
        if local is not None:
            return annotated_png(local, k)
        return self.shared.png(key, k) if self.shared is not None else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._tmp, ignore_errors=True)


def _folder_of(answer: Answer, uploads: Path) -> set[Path]:
    """The request folders under ``uploads`` that hold ``answer``'s images."""
    return {Path(ref.path).parent for ref in answer.images if Path(ref.path).parent.parent == uploads}


def _seed(agent: Agent, thread_id: str, history: Sequence[tuple[str, str]]) -> None:
    """Write a stateless client's earlier turns as finished turns of ``thread_id``.

    ``Agent`` reads a conversation's history from its checkpointer (``agentvlm.sessions``);
    an OpenAI client sends the whole conversation each time instead, so each earlier
    turn becomes a checkpoint holding its question and answer.
    """
    from agentvlm.sessions import turn_thread

    for n, (question, answer) in enumerate(history, 1):
        agent.graph.update_state(
            {"configurable": {"thread_id": turn_thread(thread_id, n)}},
            {"question": question, "answer": answer, "images": [], "history": []},
            as_node=agent.spec.finish,
        )


def _forget(agent: Agent, thread_id: str, turns: int) -> None:
    from agentvlm.sessions import turn_thread

    for n in range(1, turns + 1):
        agent.checkpointer.delete_thread(turn_thread(thread_id, n))


def annotated_png(answer: Answer, k: int, *, max_side: int | None = None, jpeg: bool = False) -> bytes:
    """The ``k``-th image of ``answer`` with its evidence drawn, as PNG (or JPEG) bytes.

    ``max_side`` scales it down first: MCP clients cap a message at about 1 MB.
    """
    import cv2

    from agentvlm.trace import annotate

    bgr = annotate(answer, k)[:, :, ::-1]
    h, w = bgr.shape[:2]
    if max_side and max(h, w) > max_side:
        scale = max_side / max(h, w)
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg" if jpeg else ".png", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85] if jpeg else [])
    if not ok:
        raise AgentVLMError("could not encode the annotated image")
    return bytes(buf)
