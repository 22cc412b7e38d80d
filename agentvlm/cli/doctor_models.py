"""``agentvlm doctor`` rows for the model backends and for each configured model.

A configured server model is probed with tiny requests: ``GET /models`` (reachable,
model listed), then one token with ``logprobs``. For an LLM that request is text;
for a VLM it carries a 64x64 image, as the graph's requests do, so one request says
whether the model takes images and whether the server returns logprobs with them
(some drop logprobs for multimodal requests; confidence is then sampled, which is
slower). A local ``hf:`` model is checked without loading its weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentvlm.models.openai import OpenAIModel

__all__ = ["backend_rows", "model_row"]

Row = tuple[str, str, bool, str]

_SAMPLED = "no (confidence is sampled instead: slower)"
_LLAMACPP_VLM = (
    "vision: no; llamacpp: models run text-only in this process; serve the VLM with "
    "`llama-server -m MODEL.gguf --mmproj MMPROJ.gguf` and pass --vlm openai:MODEL@http://127.0.0.1:8080/v1"
)


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
            return (group, spec, False, _LLAMACPP_VLM) if role == "vlm" else (group, spec, *llamacpp(spec))
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
    logprobs = "logprobs with images" if role == "vlm" else "logprobs"
    if not config_file.exists():
        return True, f"hub id {target}: downloaded on first use (needs internet once); {logprobs}: yes (next-token logits)"
    config = json.loads(config_file.read_text())
    vision = "vision_config" in config
    if role == "vlm" and not vision:
        return False, (
            f"local folder, {config.get('model_type', '?')}; vision: no (its config.json has no vision_config); "
            "use an image-text-to-text model there, or pass it as --llm, not --vlm"
        )
    return True, f"local folder, {config.get('model_type', '?')}; vision: {'yes' if vision else 'no'}; {logprobs}: yes (next-token logits)"


def _server(spec: str, role: str) -> tuple[bool, str]:
    from agentvlm.errors import ModelError
    from agentvlm.models import Message, load_chat_model
    from agentvlm.models.openai import OpenAIModel

    model = load_chat_model(spec)
    if not isinstance(model, OpenAIModel):  # pragma: no cover - load_chat_model's contract for openai:/ollama:
        return False, f"{spec} did not load as a server model ({type(model).__name__})"
    try:
        listed = model.models()
    except ModelError as exc:
        return False, f"unreachable: {exc}"
    reached = f"reachable ({model.client.base_url}); model {'listed' if model.model in listed else 'not in GET /models'}"
    if role == "vlm":
        return _vision(model, reached)
    try:
        out = model.complete([Message(role="user", content="Say OK")], max_tokens=1, logprobs=2)
    except ModelError as exc:
        return False, f"{reached}; a 1-token request failed: {exc}"
    return True, f"{reached}; logprobs: {'yes' if out.detail.get('logprobs') else _SAMPLED}"


def _vision(model: OpenAIModel, reached: str) -> tuple[bool, str]:
    """One token about a small image, with logprobs: the shape of the graph's VLM requests."""
    from PIL import Image

    from agentvlm.errors import ModelError
    from agentvlm.models.vlm import data_url

    image = {"type": "image_url", "image_url": {"url": data_url(Image.new("RGB", (64, 64), "white"))}}
    text = {"type": "text", "text": "Is this image white? Answer yes or no."}
    body = {
        "model": model.model, "messages": [{"role": "user", "content": [image, text]}],
        "max_tokens": 1, "temperature": 0.0, "logprobs": True, "top_logprobs": 2,
    }  # fmt: skip
    try:
        data = model.client.post("/chat/completions", body, images=True)
    except ModelError as exc:
        if "does not accept images" in str(exc):
            return False, f"{reached}; vision: no: {exc}"
        return False, f"{reached}; a 1-token request with an image failed: {exc}"
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False, f"{reached}; the request with an image returned no chat completion; check that the URL is an OpenAI-compatible API"
    choice = choices[0]
    logprobs = choice.get("logprobs")
    returned = isinstance(logprobs, dict) and bool(logprobs.get("content"))
    return True, f"{reached}; vision: yes; logprobs with images: {'yes' if returned else _SAMPLED}"
