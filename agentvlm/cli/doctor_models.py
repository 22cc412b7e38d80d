"""``agentvlm doctor`` rows for the model backends and for each configured model.

A configured server model is probed with tiny requests: ``GET /models`` (reachable,
model listed), one token with ``logprobs`` (does ``yes_probability`` get real
probabilities or fall back to sampling), and, for a VLM, one token about a 32x32
image (does the model take images). A local ``hf:`` model is checked without
loading its weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

__all__ = ["backend_rows", "model_row"]

Row = tuple[str, str, bool, str]


def _ver(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def backend_rows() -> list[Row]:
    rows: list[Row] = [("backend", "openai", True, f"httpx {_ver('httpx')}; openai:MODEL@BASE_URL (vLLM, llama.cpp server, LM Studio, OpenAI)")]
    rows.append(_ollama())
    if find_spec("torch") is None or find_spec("transformers") is None:
        rows.append(("backend", "transformers", False, "torch and transformers are needed for hf: models: pip install 'agentvlm[torch]'"))
    else:
        import torch

        gpu = f"CUDA {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "CPU only (no CUDA device)"
        rows.append(("backend", "transformers", True, f"transformers {_ver('transformers')}, torch {_ver('torch')}; {gpu}; hf:REPO_OR_DIR"))
    return rows


def _ollama() -> Row:
    import httpx

    from agentvlm.models.openai import ollama_base_url

    url = ollama_base_url()
    try:
        models = httpx.get(f"{url}/models", timeout=1.0).json().get("data", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return ("backend", "ollama", False, f"no Ollama server at {url}; start it with `ollama serve` (or set OLLAMA_HOST)")
    names = ", ".join(str(m.get("id")) for m in models[:6]) or "no models pulled yet (ollama pull MODEL)"
    return ("backend", "ollama", True, f"server at {url}; models: {names}")


def model_row(role: str, spec: str, llamacpp: Callable[[str], tuple[bool, str]]) -> Row:
    from agentvlm.errors import AgentVLMError
    from agentvlm.models.specs import parse_spec

    group = f"model:{role}"
    try:
        parsed = parse_spec(spec)
        if parsed.backend == "llamacpp":
            ok, detail = llamacpp(spec)
            return (group, spec, ok and role == "llm", detail if role == "llm" else "llamacpp models are text-only; not a VLM")
        if parsed.backend == "hf":
            return (group, spec, *_hf(spec, role))
        return (group, spec, *_server(spec, role))
    except AgentVLMError as exc:
        return (group, spec, False, str(exc))


def _hf(spec: str, role: str) -> tuple[bool, str]:
    from agentvlm.models.specs import parse_spec
    from agentvlm.models.transformers import check_target

    target = check_target(parse_spec(spec))
    config_file = Path(target) / "config.json"
    if not config_file.exists():
        return True, f"hub id {target}: downloaded on first use (needs internet once); logprobs: yes (next-token logits)"
    config = json.loads(config_file.read_text())
    vision = "vision_config" in config
    ok = vision or role == "llm"
    return ok, f"local folder, {config.get('model_type', '?')}; vision: {'yes' if vision else 'no'}; logprobs: yes (next-token logits)"


def _server(spec: str, role: str) -> tuple[bool, str]:
    from agentvlm.errors import ModelError
    from agentvlm.models import Message, load_chat_model
    from agentvlm.models.openai import OpenAIModel

    model = load_chat_model(spec)
    assert isinstance(model, OpenAIModel)
    try:
        listed = model.models()
    except ModelError as exc:
        return False, f"unreachable: {exc}"
    parts = [f"reachable ({model.client.base_url}); model {'listed' if model.model in listed else 'not in GET /models'}"]
    try:
        out = model.complete([Message(role="user", content="Say OK")], max_tokens=1, logprobs=2)
        parts.append(f"logprobs: {'yes' if out.detail.get('logprobs') else 'no (yes_probability samples instead)'}")
    except ModelError as exc:
        return False, f"{parts[0]}; a 1-token request failed: {exc}"
    vision = True
    if role == "vlm":
        from PIL import Image

        try:
            model.describe([Image.new("RGB", (32, 32), "white")], "Say OK", max_tokens=1)
        except ModelError as exc:
            vision = False
            parts.append(f"vision: no ({str(exc)[:120]})")
        else:
            parts.append("vision: yes")
    return vision, "; ".join(parts)
