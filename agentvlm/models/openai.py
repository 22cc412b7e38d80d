"""Any OpenAI-compatible chat server as the reasoning LLM, the perception VLM, or both.

vLLM, Ollama, llama.cpp's server, LM Studio and OpenAI speak the same
``/v1/chat/completions`` protocol; one class covers them. Images travel as JPEG
data URLs, downscaled first (a 12-megapixel photo would be 5 MB of base64 and
most VLMs resize to under 1,000 px anyway).

Structured output asks for ``response_format: json_schema`` (strict); a server
that rejects it (a 4xx reply naming ``response_format`` or ``json_schema``) gets
``json_object`` with the schema (llama.cpp's dialect), then plain prompting, and
``structured()`` repairs whatever still fails to validate. Each step down is
logged once, as a warning on ``agentvlm.models.openai``, and kept for the
backend's lifetime. A 5xx is a server error: retried, then raised, never a
reason to downgrade.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from agentvlm.errors import ModelError
from agentvlm.models._http import ModelUnreachableError, OpenAIClient, _FormatRejected
from agentvlm.models.base import Completion, Message
from agentvlm.models.specs import ModelSpec
from agentvlm.models.vlm import (
    DescribeRequest,
    ImageLike,
    YesNoRequest,
    YesProbability,
    data_url,
    yes_or_no,
)
from agentvlm.prompts import render

__all__ = ["ModelUnreachableError", "OpenAIModel", "ollama_base_url"]

_SCHEMA_MODES = ("json_schema", "json_object", "prompt")
_log = logging.getLogger(__name__)


def ollama_base_url() -> str:
    """Ollama's OpenAI-compatible URL: ``$OLLAMA_HOST`` (``host:port`` or a URL) or the default port."""
    host = os.environ.get("OLLAMA_HOST", "").strip() or "127.0.0.1:11434"
    if "://" not in host:
        host = f"http://{host}"
    host = host.rstrip("/").replace("://0.0.0.0", "://127.0.0.1")
    if host.count(":") == 1:  # scheme only, no port
        host += ":11434"
    return host if host.endswith("/v1") else f"{host}/v1"


class OpenAIModel:
    """A model behind an OpenAI-compatible server; implements ``ChatModel`` and ``VisionModel``.

    Args:
        spec: ``openai:MODEL@BASE_URL`` or ``ollama:MODEL``.
        api_key_env: Environment variable holding the API key; sent only when set.
        timeout: Seconds to wait for one response.
        retries: Retries on connection errors, 408, 429 and 5xx, with exponential backoff.
        max_concurrency: Requests in flight at once from this process.
        image_max_side: Longest side, in pixels, images are downscaled to before sending.
        yes_samples: Answers sampled for ``yes_probability`` when the server gives no logprobs.

    Example:
        >>> llm = OpenAIModel(parse_spec("ollama:qwen2.5vl:3b"))  # doctest: +SKIP
        >>> llm.describe(["photo.jpg"], "What is in the picture?").text  # doctest: +SKIP
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        api_key_env: str | None = None,
        timeout: float | None = None,
        retries: int = 2,
        max_concurrency: int = 4,
        image_max_side: int = 1024,
        yes_samples: int = 8,
    ) -> None:
        self.spec = str(spec)
        self.model = spec.target
        base_url = spec.base_url or (ollama_base_url() if spec.backend == "ollama" else "")
        key_env = api_key_env or os.environ.get("AGENTVLM_API_KEY_ENV") or "OPENAI_API_KEY"
        timeout = timeout if timeout is not None else float(os.environ.get("AGENTVLM_MODEL_TIMEOUT", "120"))
        self.client = OpenAIClient(
            base_url, self.model, api_key=os.environ.get(key_env), key_env=key_env,
            timeout=timeout, retries=retries, max_concurrency=max_concurrency,
        )
        self.image_max_side = image_max_side
        self.yes_samples = yes_samples
        self._schema_mode = 0  # index into _SCHEMA_MODES; advances when the server rejects a format
        self._schema_lock = threading.Lock()
        self._logprobs: bool | None = None  # learnt from the first reply that was asked for logprobs

    # ---- ChatModel -------------------------------------------------------------------------

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        logprobs: int | None = None,
    ) -> Completion:
        """One chat completion; ``logprobs=N`` adds the top-N alternatives per token to ``detail``."""
        body = self._body([m.model_dump() for m in messages], max_tokens, temperature, seed)
        if logprobs:
            body.update(logprobs=True, top_logprobs=logprobs)
        return self._chat(body, schema)

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0, seed: int = 0
    ) -> Iterator[str]:
        """Yield the answer's text as the server generates it (server-sent events)."""
        body = {**self._body([m.model_dump() for m in messages], max_tokens, temperature, seed), "stream": True}
        for event in self.client.stream("/chat/completions", body):
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece

    def models(self) -> list[str]:
        """The model ids the server lists (``GET /models``)."""
        return [str(m.get("id")) for m in self.client.get("/models").get("data", [])]

    # ---- VisionModel -----------------------------------------------------------------------

    def describe(self, images: Sequence[ImageLike], prompt: str, *, max_tokens: int = 128) -> Completion:
        return self._chat(self._body([self._vision_message(images, prompt)], max_tokens, 0.0, 0), None)

    def describe_batch(self, requests: Sequence[DescribeRequest]) -> list[Completion]:
        """One request per item, sent concurrently (up to ``max_concurrency``): servers batch on their side."""
        return self._parallel([lambda r=r: self._describe(r) for r in requests])

    def _describe(self, request: DescribeRequest) -> Completion:
        body = self._body([self._vision_message(request.images, request.prompt)], request.max_tokens, request.temperature, request.seed)
        asked = request.logprobs and self._logprobs is not False
        if asked:
            body.update(logprobs=True, top_logprobs=1)
        out = self._chat(body, None)
        if asked and out.text:
            self._logprobs = bool(out.detail.get("token_logprobs"))
        return out

    @property
    def gives_logprobs(self) -> bool | None:
        """Whether the server returns logprobs (``None`` until a reply has said)."""
        return self._logprobs

    def yes_probability(self, images: Sequence[ImageLike], question: str) -> YesProbability:
        """P("Yes") from the first token's ``top_logprobs``; sampled answers where the server gives none."""
        message = self._vision_message(images, render("vlm_yesno", question=question)["user"])
        if self._logprobs is not False:
            body = {**self._body([message], 1, 0.0, 0), "logprobs": True, "top_logprobs": 10}
            out = self._chat(body, None)
            top = out.detail.get("logprobs") or []
            if top:
                self._logprobs = True
                mass = {"yes": 0.0, "no": 0.0}
                for alt in top[0]:
                    word = yes_or_no(alt["token"])
                    if word and alt["token"].strip().lower() == word:
                        mass[word] += math.exp(alt["logprob"])
                if mass["yes"] + mass["no"] > 0:
                    return YesProbability(p=mass["yes"] / (mass["yes"] + mass["no"]), method="logprobs")
            else:
                self._logprobs = False
        return self._sampled_yes(message)

    def yes_probability_batch(self, requests: Sequence[YesNoRequest]) -> list[YesProbability]:
        return self._parallel([lambda r=r: self.yes_probability(r.images, r.question) for r in requests])

    # ---- internals -------------------------------------------------------------------------

    def _sampled_yes(self, message: dict[str, Any]) -> YesProbability:
        answers = self._parallel(
            [lambda s=s: self._chat(self._body([message], 3, 1.0, s), None).text for s in range(self.yes_samples)]
        )
        votes = [yes_or_no(a) for a in answers]
        counted = [v for v in votes if v]
        p = counted.count("yes") / len(counted) if counted else 0.5
        return YesProbability(p=p, method="sampling", fallback=True, samples=len(answers))

    def _vision_message(self, images: Sequence[ImageLike], prompt: str) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": data_url(img, max_side=self.image_max_side)}} for img in images
        ]
        parts.append({"type": "text", "text": prompt})
        return {"role": "user", "content": parts}

    def _body(self, messages: list[dict[str, Any]], max_tokens: int, temperature: float, seed: int) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature, "seed": seed}

    def _chat(self, body: dict[str, Any], schema: dict[str, Any] | None) -> Completion:
        while True:
            request = dict(body)
            index = self._schema_mode
            mode = _SCHEMA_MODES[index] if schema is not None else None
            if mode == "json_schema":
                request["response_format"] = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
            elif mode == "json_object":
                request["response_format"] = {"type": "json_object", "schema": schema}
            elif mode == "prompt":
                hint = {"role": "system", "content": render("json_only", schema=json.dumps(schema))["system"]}
                request["messages"] = [hint, *body["messages"]]
            start = time.perf_counter()
            try:
                data = self.client.post("/chat/completions", request, images=_has_images(body))
            except _FormatRejected as exc:
                if mode is None or index == len(_SCHEMA_MODES) - 1:
                    raise ModelError(f"{self.spec}: the server rejected the request: {exc}") from exc
                self._downgrade(index, exc)
                continue
            return self._completion(data, time.perf_counter() - start)

    def _downgrade(self, rejected: int, exc: _FormatRejected) -> None:
        """Step down from the rejected format for good, logging it once (threads may race here)."""
        with self._schema_lock:
            if self._schema_mode != rejected:
                return  # another request already stepped down past it
            self._schema_mode = rejected + 1
        _log.warning(
            "%s: the server rejected response_format %s (HTTP %d: %s); using %s from now on",
            self.spec, _SCHEMA_MODES[rejected], exc.status, exc, _SCHEMA_MODES[rejected + 1],
        )

    def _completion(self, data: dict[str, Any], seconds: float) -> Completion:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ModelError(
                f"{self.client.base_url} for model {self.model} returned JSON that is not a chat completion "
                f"(no choices: {json.dumps(data)[:120]}); check that the URL is an OpenAI-compatible API"
            )
        choice, usage = choices[0], data.get("usage") or {}
        detail: dict[str, Any] = {}
        content = (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) else None
        if content:
            detail["token_logprobs"] = [float(tok.get("logprob", -math.inf)) for tok in content]
            detail["logprobs"] = [
                [{"token": t.get("token", ""), "logprob": float(t.get("logprob", -math.inf))} for t in (tok.get("top_logprobs") or [tok])]
                for tok in content
            ]
        return Completion(
            text=(choice.get("message") or {}).get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
            finish_reason=choice.get("finish_reason"),
            detail=detail,
        )

    def _parallel(self, jobs: list[Any]) -> list[Any]:
        if len(jobs) <= 1:
            return [job() for job in jobs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(jobs), 8)) as pool:
            return list(pool.map(lambda job: job(), jobs))

    def close(self) -> None:
        self.client.close()


def _has_images(body: dict[str, Any]) -> bool:
    return any(isinstance(m.get("content"), list) for m in body.get("messages", []))
