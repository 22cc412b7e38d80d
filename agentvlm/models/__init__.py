"""Model backends. ``load_chat_model(spec)`` makes the model a spec names.

``agentvlm.models.vlm.load_vision_model(spec)`` does the same for the perception VLM.
Each call makes a new instance (weights load on first use); ``Services`` keeps
the one its graphs share, so no model outlives the agent that loaded it.
"""

from __future__ import annotations

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
    "check_model",
    "load_chat_model",
    "parse_spec",
    "structured",
]

def load_chat_model(spec: str) -> ChatModel:
    """A new instance of the model named by ``spec`` (``Services`` keeps and shares it)."""
    parsed = parse_spec(spec)
    if parsed.backend in RESERVED:
        raise ConfigError(
            f"the '{parsed.backend}' backend ({RESERVED[parsed.backend]}) is reserved but not available in "
            f"this version; known backends: {', '.join(BACKENDS)}"
        )
    module, _, cls = BACKENDS[parsed.backend].chat.partition(":")
    model: ChatModel = getattr(import_module(module), cls)(parsed)
    return model


def check_model(spec: str) -> None:
    """Raise ``ConfigError`` with the fix where ``spec`` names a local model that is not there: a missing
    file, one without the GGUF header, a missing ``hf:`` folder. Commands call it at start, so a broken
    setting fails before a question that needs no model hides it. Cheap: it reads four bytes, loads no
    weights and reaches no server (a server that does not answer is reported when first used and by
    ``agentvlm doctor``)."""
    parsed = parse_spec(spec)
    if parsed.backend == "llamacpp":
        from agentvlm.models.llamacpp import ALIASES, resolve_gguf

        if parsed.target not in ALIASES:
            resolve_gguf(parsed.target)
    elif parsed.backend == "hf":
        from agentvlm.models.transformers import check_target

        check_target(parsed)
