"""The Python API: ``Agent(...).ask(image, question) -> Answer``."""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agentvlm.config import Config
from agentvlm.errors import ConfigError, InputError
from agentvlm.evidence.cache import PerceptionCache
from agentvlm.graph import Services, compile_graph, load_graph_spec
from agentvlm.graph.state import answer_of
from agentvlm.images import open_image
from agentvlm.models import ChatModel
from agentvlm.sessions import next_turn, turn_thread
from agentvlm.stopping import STOP, RunStopped
from agentvlm.tools import Tool, ToolKind
from agentvlm.types import Answer, ImageRef, Step

__all__ = ["Agent", "Event"]

ImageInput = str | os.PathLike[str] | ImageRef
MAX_QUESTION_CHARS = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # terminal escapes and NULs; tabs and newlines stay


class Event(BaseModel):
    """One item of ``Agent.stream``: a finished step, then the answer.

    With ``stream(..., progress=True)`` also ``start`` (``node`` began) and
    ``token`` (``text`` a streaming model produced inside ``node``; nodes emit
    them through LangGraph's stream writer as ``{"token": text}``).
    """

    kind: Literal["start", "step", "token", "answer"]
    step: Step | None = None
    answer: Answer | None = None
    node: str | None = None
    text: str | None = None


class Agent:
    """Answers questions about images with a perception-reasoning graph.

    Models and tools load on first use and are shared by every ``ask`` in the
    process; perception results are cached by image content.

    Example:
        >>> agent = Agent()  # the embedded CPU stack: YOLOv4-tiny, PP-OCR, SmolLM2
        >>> answer = agent.ask("photo.jpg", "How many people are in this picture?")  # doctest: +SKIP
        >>> print(answer.text, [e.label for e in answer.evidence])  # doctest: +SKIP
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        llm: ChatModel | str | None = None,
        graph: str | os.PathLike[str] | None = None,
        tools: dict[ToolKind, Tool] | None = None,
        cache: PerceptionCache | None = None,
        checkpointer: Any = None,
        vlm: Any = None,
        services: Services | None = None,
    ) -> None:
        """``services`` runs the agent on existing ones (their models, tools and caches; ``with_graph``);
        ``llm``, ``vlm``, ``tools`` and ``cache`` then do not apply, nor do the graph file's ``models:``."""
        config = services.config if services is not None else config or Config()
        updates: dict[str, Any] = {}
        if isinstance(llm, str):
            updates["llm"] = llm
        if graph is not None:
            updates["graph"] = str(graph)
        if updates:
            config = Config.build({**config.model_dump(), **updates})
        self.spec, self.graph_source = load_graph_spec(config.graph)
        # A graph's `models:` are defaults: a model named in the config or on the CLI wins.
        defaults = Config()
        graph_models = {
            role: model
            for role, model in self.spec.models.items()
            if getattr(config, role) == getattr(defaults, role) and not (role == "llm" and isinstance(llm, str)) and services is None
        }
        if graph_models:
            config = Config.build({**config.model_dump(), **graph_models}, source=self.graph_source)
        self.config = config
        if services is not None:
            self.services = services if config is services.config else services.with_config(config)
        else:
            self.services = Services(config, llm=llm if not isinstance(llm, (str, type(None))) else None, vlm=vlm, tools=tools, cache=cache)
        self.checkpointer = checkpointer
        """Persists conversations (``thread_id=``), e.g. ``agentvlm.sessions.open_saver(path)``."""
        self.graph = compile_graph(self.spec, self.graph_source, self.services, checkpointer=checkpointer)
        """The compiled LangGraph graph, for embedding in your own LangGraph application."""

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **overrides: Any) -> Agent:
        """An agent configured by a YAML file (keys as in ``Config``)."""
        return cls(Config.from_file(path), **overrides)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *, config: Config | None = None, **overrides: Any) -> Agent:
        """An agent running the graph defined in the YAML file ``path``."""
        return cls(config, graph=Path(path), **overrides)

    def with_graph(self, graph: str | os.PathLike[str], *, checkpointer: Any = None, cache: PerceptionCache | None = None) -> Agent:
        """An agent running ``graph`` on this agent's models, tools and caches (nothing loads twice).

        What a chat's ``/graph``, a server's several graphs and an eval's systems use; a
        graph file's own ``models:`` defaults do not apply, since the models are this
        agent's. ``cache`` gives it a perception cache of its own (an eval times each system's tools).
        """
        config = Config.build({**self.config.model_dump(), "graph": str(graph)}, source="graph")
        return Agent(services=self.services.with_config(config, cache=cache), checkpointer=checkpointer)

    def graph_input(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """The state to start ``agent.graph`` with, when you run it yourself or embed it as a subgraph.

        The images and the question are checked as ``ask`` checks them; the final state holds
        ``answer``, ``basis``, ``evidence`` and ``steps`` (keys of ``agentvlm.graph.GraphState``).

        Raises:
            InputError: A missing, unreadable or oversized image, or an empty question.

        Example:
            >>> agent = Agent()  # doctest: +SKIP
            >>> agent.graph.invoke(agent.graph_input("photo.jpg", "How many people?"))["answer"]  # doctest: +SKIP
        """
        return self._inputs(images, question, choices)

    def _inputs(self, images: ImageInput | Sequence[ImageInput], question: str, choices: Sequence[str] | None) -> dict[str, Any]:
        if not isinstance(question, str):
            raise InputError(f"the question must be text, got {type(question).__name__}; ask e.g. \"What does the sign say?\"")
        question = _CONTROL.sub(" ", question)
        if not question.strip():
            raise InputError("the question is empty; ask something about the image, e.g. \"What does the sign say?\"")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is {len(question):,} characters, over the limit of {MAX_QUESTION_CHARS:,}; "
                "ask a shorter question (put long text in an image or a search corpus)"
            )
        items = [images] if isinstance(images, (str, os.PathLike, ImageRef)) else list(images)
        if not items:
            raise InputError("no image given; pass at least one image path")
        limits = self.config.image_limits()
        refs = [i if isinstance(i, ImageRef) else open_image(i, limits=limits) for i in items]
        return {
            "started": time.time(),
            "question": question.strip(),
            "choices": list(choices or []),
            "images": refs,
            "evidence": [],
            "steps": [],
        }

    def ask(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None = None,
        thread_id: str | None = None,
    ) -> Answer:
        """Answer ``question`` about one image or several.

        Args:
            images: A path, an ``http(s)`` URL, a ``data:image/...`` URI, an ``ImageRef``,
                or a list of them. All are validated before any model runs.
            question: The question in plain language.
            choices: Options for a multiple-choice question; the answer is then a letter.
            thread_id: A conversation to continue (needs ``Agent(checkpointer=...)``): the
                reasoning sees its earlier turns, and this turn is saved once answered.

        Raises:
            InputError: A missing, unreadable or oversized image, or an empty question.
        """
        answer: Answer | None = None
        for event in self.stream(images, question, choices=choices, thread_id=thread_id):
            if event.answer is not None:
                answer = event.answer
        assert answer is not None  # stream always ends with the answer
        return answer

    def stream(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None = None,
        thread_id: str | None = None,
        progress: bool = False,
    ) -> Iterator[Event]:
        """Run the graph, yielding each finished step as it happens and the answer last.

        ``progress`` adds ``start`` and ``token`` events for live displays. Closing the
        iterator early (``close()``, or dropping it after a ``break``) stops the run: a
        llama.cpp call in flight ends within a token, other running nodes finish, no
        further node starts, and ``close()`` returns once the models are free. With
        ``thread_id`` that turn stays unfinished and later turns leave it out of the history.
        """
        stop = threading.Event()
        return self._run(images, question, choices=choices, thread_id=thread_id, progress=progress, stop=stop)

    def _run(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None,
        thread_id: str | None,
        progress: bool,
        stop: threading.Event,
    ) -> Iterator[Event]:
        """``stream``, ending without an answer as soon as it sees ``stop`` set (by its closing or by another thread)."""
        state = self._inputs(images, question, choices)
        run_config: dict[str, Any] = {"recursion_limit": 200}
        options: dict[str, Any] = {}
        if (thread_id is None) != (self.checkpointer is None):
            raise ConfigError(
                "a conversation needs both Agent(checkpointer=...) and thread_id=...: "
                "pass a LangGraph checkpointer (e.g. agentvlm.sessions.open_saver(path)) and a thread_id, or neither"
            )
        if thread_id is not None:
            n, state["history"] = next_turn(self.checkpointer, thread_id)
            run_config["configurable"] = {"thread_id": turn_thread(thread_id, n)}
            options["durability"] = "sync"  # the answer's checkpoint is on disk before it is yielded
        start = time.perf_counter()
        # "values" is the state after each step, merged by the graph's own reducers; "updates" gives the steps.
        modes = ["values", "updates", "tasks", "custom"] if progress else ["values", "updates"]
        # The graph runs in a context holding the stop event; LangGraph copies it into its worker threads.
        context = contextvars.copy_context()
        context.run(STOP.set, stop)
        chunks = context.run(self.graph.stream, state, run_config, stream_mode=modes, **options)
        final: dict[str, Any] = state
        finished = False
        try:
            while not stop.is_set():
                try:
                    mode, chunk = context.run(next, chunks)
                except StopIteration:
                    finished = True
                    break
                if mode == "values":
                    final = chunk
                elif mode == "updates":
                    for delta in chunk.values():
                        for step in (delta or {}).get("steps", []):
                            yield Event(kind="step", step=step)
                elif mode == "tasks" and "input" in chunk:
                    task_input = chunk["input"]
                    kind = task_input.get("perceive") if isinstance(task_input, dict) else None
                    yield Event(kind="start", node=f"{chunk['name']}:{kind}" if kind else chunk["name"])
                elif mode == "custom" and isinstance(chunk, dict) and "token" in chunk:
                    yield Event(kind="token", node=chunk.get("node"), text=str(chunk["token"]))
        except RunStopped:
            return  # a model saw the stop event mid-call
        finally:
            if not finished:
                stop.set()  # closed early or failed: the model calls in flight stop too
            context.run(chunks.close)  # waits for the nodes still running, starts no more
        if finished:
            yield Event(kind="answer", answer=self._answer(final, time.perf_counter() - start))

    def _answer(self, final: dict[str, Any], seconds: float) -> Answer:
        return answer_of(final, graph=self.spec.name, models=self.services.models(), seconds=seconds)

    async def aask(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None = None,
        thread_id: str | None = None,
    ) -> Answer:
        """``ask`` without blocking the event loop (models run in a worker thread); cancelling it stops the run."""
        answer: Answer | None = None
        async for event in self.astream(images, question, choices=choices, thread_id=thread_id):
            if event.answer is not None:
                answer = event.answer
        assert answer is not None  # a run that is not stopped ends with the answer
        return answer

    async def astream(
        self,
        images: ImageInput | Sequence[ImageInput],
        question: str,
        *,
        choices: Sequence[str] | None = None,
        thread_id: str | None = None,
        progress: bool = False,
    ) -> AsyncIterator[Event]:
        """``stream`` for asyncio: each event arrives as soon as its step finishes.

        The run goes on in a worker thread. Cancelling the consuming task, or closing the
        iterator after a ``break`` (CPython closes it as soon as the loop drops it; use
        ``contextlib.aclosing`` to close it at once wherever you keep a reference), stops
        the run as ``stream``'s ``close()`` does, and the close waits until the thread is
        done, so the models are free for the next request.

        Example:
            >>> async def first_step(agent: Agent) -> Event:  # doctest: +SKIP
            ...     async for event in agent.astream("photo.jpg", "What does the sign say?"):
            ...         return event  # the run stops here; the next ask starts at once
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        done = object()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is closed: nobody is waiting any more
                stop.set()

        def produce() -> None:
            try:
                run = self._run(images, question, choices=choices, thread_id=thread_id, progress=progress, stop=stop)
                for event in run:
                    put(event)
            except BaseException as exc:  # noqa: BLE001 (re-raised in the consumer)
                put(exc)
            finally:
                put(done)

        worker = threading.Thread(target=produce, name="agentvlm-astream", daemon=True)
        worker.start()
        finished = False
        try:
            while (item := await queue.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
            finished = True
        finally:
            if not finished:
                stop.set()
                while await queue.get() is not done:  # the run has ended and let go of the models
                    pass
            worker.join()  # only its return is left after ``done``
