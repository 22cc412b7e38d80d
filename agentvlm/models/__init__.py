"""Model backends. ``load_chat_model(spec)`` returns one shared instance per spec per process.

``agentvlm.models.vlm.load_vision_model(spec)`` does the same for the perception VLM.
"""

from __future__ import annotations

import threading
from importlib import import_module

from agentvlm.errors import ConfigError
from agentvlm.models.base import ChatModel, Completion, Message, structured
from agentvlm.models.specs import BACKENDS, DEFAULT_LLM, RESERVED, ModelSpec, parse_spec

__all__ = [
    "BACKENDS",
    "DEFAULT_LLM",
    "RESERVED",
    "ChatModel",
    "Completion",
    "Message",
    "ModelSpec",
    "load_chat_model",
    "parse_spec",
    "structured",
]

_loaded: dict[str, ChatModel] = {}
_lock = threading.Lock()


def load_chat_model(spec: str) -> ChatModel:
    """The model named by ``spec``, constructed once per process and shared by every node and agent."""
    parsed = parse_spec(spec)
    key = str(parsed)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if parsed.backend in RESERVED:
            raise ConfigError(
                f"the '{parsed.backend}' backend ({RESERVED[parsed.backend]}) is reserved but not available in "
                f"this version; known backends: {', '.join(BACKENDS)}"
            )
        module, _, cls = BACKENDS[parsed.backend].partition(":")
        model: ChatModel = getattr(import_module(module), cls)(parsed)
        _loaded[key] = model
        return model
