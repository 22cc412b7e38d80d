"""What nodes share: the configured models, tools and perception cache, created lazily, once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agentvlm.config import Config
from agentvlm.models import ChatModel, Completion, load_chat_model
from agentvlm.perception.cache import PerceptionCache
from agentvlm.tools import Tool, ToolKind, load_tool_class
from agentvlm.types import Call

__all__ = ["Recorder", "Services"]


@dataclass
class Recorder:
    """Collects the model and tool calls a node makes, for the answer's trace."""

    calls: list[Call] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def model(self, name: str, completion: Completion, **detail: Any) -> None:
        self.calls.append(
            Call(
                kind="model",
                name=name,
                seconds=round(completion.seconds, 4),
                detail={"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens, **detail},
            )
        )

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
    """Models, tools and the cache behind a graph. Nothing loads until a node asks for it."""

    def __init__(
        self,
        config: Config,
        *,
        llm: ChatModel | None = None,
        tools: dict[ToolKind, Tool] | None = None,
        cache: PerceptionCache | None = None,
    ) -> None:
        self.config = config
        self._llm = llm
        self._vlm: Any = None
        self.budgets: Any = None  # the graph's Budgets, set when it is compiled
        self._tools: dict[str, Tool] = {str(k): v for k, v in (tools or {}).items()}
        self.cache = cache if cache is not None else PerceptionCache(config.cache_dir if config.cache else None)
        self._lock = threading.Lock()

    @property
    def llm(self) -> ChatModel:
        with self._lock:
            if self._llm is None:
                self._llm = load_chat_model(self.config.llm)
            return self._llm

    @property
    def vlm(self) -> Any:
        """The configured perception VLM (``agentvlm.models.vlm.VisionModel``), or ``None``."""
        if self.config.vlm is None:
            return None
        with self._lock:
            if self._vlm is None:
                from agentvlm.models.vlm import load_vision_model

                self._vlm = load_vision_model(self.config.vlm)
            return self._vlm

    def tool(self, kind: ToolKind, name: str | None = None) -> Tool:
        """The tool filling ``kind``: the configured one, or the registered tool ``name``."""
        key = f"{kind}:{name}" if name else kind
        with self._lock:
            if key not in self._tools:
                chosen = name or getattr(self.config.tools, kind)
                options = self.config.tools.options.get(chosen, {})
                self._tools[key] = load_tool_class(chosen)(**options)
            return self._tools[key]

    def tool_params(self, tool: Tool, **overrides: Any) -> Any:
        return tool.params(**{**self.config.tools.params.get(tool.name, {}), **overrides})

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
