"""What nodes share: the configured models, tools and caches, and the two ways to use them.

``Services.run_tool`` is the one way to run a tool (cache, record, evidence ids,
the graph's choice of tool); ``Services.ask`` is the one way to ask the LLM for a
typed reply (render a prompt from ``prompts/``, call, validate, record every
attempt). Everything loads lazily, once, under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from agentvlm.config import Config
from agentvlm.errors import MissingDependencyError, ModelOutputError
from agentvlm.evidence.cache import PerceptionCache
from agentvlm.images import PixelCache
from agentvlm.models import ChatModel, Completion, Message, load_chat_model, structured
from agentvlm.prompts import render
from agentvlm.question.forms import cut_loop, echoes
from agentvlm.tools import Tool, ToolKind, load_tool_class, tool_kind
from agentvlm.types import Box, Call, Evidence, ImageRef

__all__ = ["Recorder", "Services"]

T = TypeVar("T", bound=BaseModel)


@dataclass
class Recorder:
    """Collects the model and tool calls a node makes, for the answer's trace."""

    calls: list[Call] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def model(self, name: str, completion: Completion, **detail: Any) -> None:
        """One model call; a failed attempt is recorded too, with ``error`` in its detail."""
        self.calls.append(
            Call(
                kind="model",
                name=name,
                seconds=round(completion.seconds, 4),
                detail={"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens, **detail},
            )
        )

    def vision(self, name: str, completion: Completion, **detail: Any) -> None:
        """One call to the perception VLM (``Answer.vlm_calls`` counts these)."""
        self.model(name, completion, vision=True, **detail)

    @contextmanager
    def tool(self, name: str, *, cached: bool = False, **detail: Any) -> Iterator[dict[str, Any]]:
        """Time a tool call; the caller may add to the yielded detail dict."""
        start = time.perf_counter()
        extra: dict[str, Any] = dict(detail)
        yield extra
        self.calls.append(Call(kind="tool", name=name, seconds=round(time.perf_counter() - start, 4), cached=cached, detail=extra))

    def note(self, text: str) -> None:
        self.notes.append(text)


class Services:
    """Models, tools and caches behind a graph. Nothing loads until a node asks for it.

    ``for_graph`` gives a compiled graph its own view (its budgets, the tools its
    nodes chose) over the same models, tools and caches, so two graphs sharing
    one ``Services`` never overwrite each other's settings.
    """

    def __init__(
        self,
        config: Config,
        *,
        llm: ChatModel | None = None,
        vlm: Any = None,
        tools: dict[ToolKind, Tool] | None = None,
        cache: PerceptionCache | None = None,
    ) -> None:
        self.config = config
        self.budgets: Any = None  # the graph's Budgets, in a graph's view (``for_graph``)
        self.choice: dict[str, str] = {}  # kind -> tool name chosen by the graph's nodes
        self.cache = cache if cache is not None else PerceptionCache(config.cache_dir if config.cache else None)
        given = {self._key(str(k)): v for k, v in (tools or {}).items()}
        self._shared = _Shared(llm, vlm, given)

    def for_graph(self, *, budgets: Any = None, tools: dict[str, str] | None = None) -> Services:
        """A view for one graph: its ``budgets`` and per-kind ``tools``, sharing everything else."""
        return self._view(self.config, self.cache, budgets, {**self.choice, **(tools or {})})

    def with_config(self, config: Config, *, cache: PerceptionCache | None = None) -> Services:
        """These models, tools and caches under another config (another graph; ``Agent.with_graph``),
        with its own perception ``cache`` when given."""
        return self._view(config, cache if cache is not None else self.cache, None, {})

    def _view(self, config: Config, cache: PerceptionCache, budgets: Any, choice: dict[str, str]) -> Services:
        view = object.__new__(Services)
        view.config, view.cache, view._shared, view.budgets, view.choice = config, cache, self._shared, budgets, choice
        return view

    def _key(self, kind: str, name: str | None = None) -> str:
        """Tools are kept per (kind, tool name), so the default and the same tool named explicitly are one instance."""
        return f"{kind}:{name or self.choice.get(kind) or self.config.tools.chosen(kind)}"

    @property
    def llm(self) -> ChatModel:
        shared = self._shared
        with shared.lock:
            if shared.llm is None:
                shared.llm = load_chat_model(self.config.llm)
            return shared.llm

    @property
    def vlm(self) -> Any:
        """The configured perception VLM (``agentvlm.models.vlm.VisionModel``), or ``None``."""
        if self.config.vlm is None:
            return None
        shared = self._shared
        with shared.lock:
            if shared.vlm is None:
                from agentvlm.models.specs import BACKENDS, parse_spec
                from agentvlm.models.vlm import load_vision_model

                one_client = self.config.vlm == self.config.llm and BACKENDS[parse_spec(self.config.vlm).backend].one_client
                shared.vlm = self.llm if one_client else load_vision_model(self.config.vlm)
            return shared.vlm

    def tool(self, kind: ToolKind, name: str | None = None) -> Tool:
        """The tool filling ``kind``: ``name``, else the graph's choice, else the config's."""
        tool_kind(kind)
        shared, key = self._shared, self._key(kind, name)
        with shared.lock:
            if key not in shared.tools:
                chosen = key.split(":", 1)[1]
                shared.tools[key] = load_tool_class(chosen)(**self.config.tools.options.get(chosen, {}))
            return shared.tools[key]

    def sized(self, tool: Tool, size: int) -> Tool | None:
        """``tool`` at another input size (``Tool.at_input_size``), made once per tool this holds."""
        shared = self._shared
        with shared.lock:
            owner = next((k for k, v in shared.tools.items() if v is tool), None)
            if owner is None:
                return tool.at_input_size(size)
            key = f"{owner}@{size}"
            if key not in shared.sized:
                shared.sized[key] = tool.at_input_size(size)
            return shared.sized[key]

    @property
    def pixels(self) -> PixelCache:
        """Decoded images, shared by the tools of every graph on these services."""
        return self._shared.pixels

    def owned(self, key: str, make: Callable[[], Any]) -> Any:
        """State a package keeps per ``Services`` (the retrieval package's search cache), made once
        by ``make`` and shared by every graph's view; ``graph/`` need not know the package."""
        shared = self._shared
        with shared.lock:
            if key not in shared.owned:
                shared.owned[key] = make()
            return shared.owned[key]

    def tool_params(self, tool: Tool, **overrides: Any) -> Any:
        return tool.params(**{**self.config.tools.params.get(tool.name, {}), **overrides})

    def run_tool(
        self,
        kind: ToolKind,
        images: Sequence[ImageRef],
        rec: Recorder,
        *,
        prompts: dict[int, list[Evidence]] | None = None,
        params: dict[str, Any] | None = None,
        region: Box | None = None,
        only: Sequence[int] | None = None,
        tag: str = "",
        tool: Tool | None = None,
        role: str | None = None,
        ids: bool = True,
    ) -> list[Evidence]:
        """Run the ``kind`` tool on ``images`` through the perception cache; the one way tools run.

        Evidence ids are ``det0``, ``ocr3`` (``i1.det0`` on the second image), from the
        kind's prefix; ``tag`` prefixes them (``r2.det0``) so repeated looks in a loop
        never collide; ``ids=False`` leaves ids to the caller (recall numbers its own).
        ``tool`` runs that tool object (a resized or mirrored detector) in the kind's place;
        ``only`` limits the run to those image indexes; ``role`` goes in the trace. A
        failing tool becomes a note and the answer uses the rest; a missing dependency raises.
        """
        runner = tool or self.tool(kind)
        p = self.tool_params(runner, **(params or {}))
        prefix_of = tool_kind(kind).prefix
        found: list[Evidence] = []
        for index, image in enumerate(images):
            if only is not None and index not in only:
                continue
            image_prompts = (prompts or {}).get(index)
            if prompts is not None and not image_prompts:
                continue
            extra = [(e.id, e.box.xyxyn if e.box else None) for e in image_prompts or []]
            key = runner.cache_key(image, p, region, extra=extra or None)
            with self._shared.flight(key):  # parallel steps asking for the same run wait for one, then hit the cache
                result = self._run_once(runner, key, image, index, p, region, image_prompts, rec, role, params)
            if result is None:
                continue
            if not ids:
                found += [ev.model_copy(update={"image": index}) for ev in result]
                continue
            prefix = tag + (prefix_of if index == 0 else f"i{index}.{prefix_of}")
            found += [ev.model_copy(update={"id": f"{prefix}{n}", "image": index}) for n, ev in enumerate(result)]
        return found

    def _run_once(self, runner: Tool, key: str, image: ImageRef, index: int, p: Any, region: Box | None,
                  prompts: list[Evidence] | None, rec: Recorder, role: str | None, params: dict[str, Any] | None) -> list[Evidence] | None:  # fmt: skip
        """One tool run through the cache, recorded; ``None`` (noted) when the tool failed."""
        hit = self.cache.get(key)
        detail = {"image": image.short_hash, **({"role": role} if role else {})}
        with rec.tool(runner.name, cached=hit is not None, **detail) as out:
            try:
                result = hit if hit is not None else runner.run(image, p, region=region, prompts=prompts, cache=self.pixels)
            except Exception as exc:  # a failing tool becomes a note; the answer uses the rest
                if isinstance(exc, MissingDependencyError):
                    raise
                out["error"] = f"{type(exc).__name__}: {exc}"[:300]
                rec.note(f"{runner.name} failed on image {index + 1} ({out['error']}); answering without it")
                return None
            out["found"] = len(result)
            if params:
                out["params"] = params
            if region is not None:
                out["region"] = [round(v, 3) for v in region.xyxyn]
        if hit is None:
            self.cache.put(key, result)
        return list(result)

    @overload
    def ask(self, prompt: str, output: type[T], *, rec: Recorder, role: str, max_tokens: int = ..., **variables: Any) -> T: ...
    @overload
    def ask(self, prompt: str, output: None, *, rec: Recorder, role: str, max_tokens: int = ..., **variables: Any) -> str: ...

    def ask(
        self,
        prompt: str,
        output: type[T] | None,
        *,
        rec: Recorder,
        role: str,
        max_tokens: int = 64,
        **variables: Any,
    ) -> T | str:
        """Render ``prompts/<prompt>.yaml`` and ask the LLM; the one way models are asked.

        With ``output``, the reply must validate as it under its JSON schema (one retry
        with the error shown); without, the reply is free text: one whose first line repeats
        the prompt's instructions, whole or in part (``question.forms.echoes``), is no reply (""),
        and one that loops is cut where the loop starts (``question.forms.cut_loop``). Every attempt is
        recorded, failed ones too, so budgets and ``Answer.model_calls`` count them;
        a reply that never validates raises ``ModelOutputError`` after recording.
        """
        llm = self.llm
        parts = render(prompt, **variables)
        messages = [Message(role="system", content=parts["system"]), Message(role="user", content=parts["user"])]
        if output is None:
            completion = llm.complete(messages, max_tokens=max_tokens)
            rec.model(llm.spec, completion, role=role)
            first = next((line.strip() for line in completion.text.splitlines() if line.strip()), "")
            if echoes(first, parts["system"]):
                rec.note(f"the model repeated its instructions ({first[:60]!r}); no answer from it")
                return ""
            text = cut_loop(completion.text)
            if text != completion.text:
                rec.note(f"the model's reply looped; kept {text[-60:]!r}")
            return text
        attempts: list[Completion] = []
        try:
            value, _ = structured(llm, messages, output, max_tokens=max_tokens, attempts=attempts)
        except ModelOutputError:
            for c in attempts:
                rec.model(llm.spec, c, role=role, error="invalid output")
            raise
        for c in attempts[:-1]:
            rec.model(llm.spec, c, role=role, error="invalid output, retried")
        rec.model(llm.spec, attempts[-1], role=role)
        return value

    def over_budget(self, state: Any) -> str | None:
        """Which of the graph's budgets this run has spent, in words, or ``None``."""
        b = self.budgets
        if b is None:
            return None
        if b.rounds is not None and state.get("round", 0) >= b.rounds:
            return f"round budget of {b.rounds} spent"
        if b.seconds is not None and "started" in state and time.time() - state["started"] >= b.seconds:
            return f"time budget of {b.seconds:g} s spent"
        calls = sum(1 for step in state.get("steps", []) for c in step.calls if c.kind == "model")
        if b.model_calls is not None and calls >= b.model_calls:
            return f"model-call budget of {b.model_calls} spent"
        return None

    def models(self) -> dict[str, str]:
        out = {"llm": self.config.llm}
        if self.config.vlm:
            out["vlm"] = self.config.vlm
        return out


class _Shared:
    """What every view of one ``Services`` shares, under one lock."""

    def __init__(self, llm: ChatModel | None, vlm: Any, tools: dict[str, Tool]) -> None:
        self.lock = threading.RLock()
        self.llm = llm
        self.vlm: Any = vlm
        self.tools = tools
        self.sized: dict[str, Tool | None] = {}
        self.owned: dict[str, Any] = {}
        self.pixels = PixelCache()
        self._flights: dict[str, list[Any]] = {}  # cache key -> [lock, waiters]; emptied as runs finish

    @contextmanager
    def flight(self, key: str) -> Iterator[None]:
        """Hold ``key`` while one run fills it, so a parallel step wanting the same run waits and hits the cache."""
        with self.lock:
            entry = self._flights.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self.lock:
                entry[1] -= 1
                if entry[1] == 0:
                    self._flights.pop(key, None)
