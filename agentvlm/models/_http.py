"""HTTP plumbing for OpenAI-compatible servers: retries, a concurrency limit, and errors that say what to check.

Every failure becomes one ``ModelError`` naming the server, the model and the fix;
the ``httpx`` exception stays attached as ``__cause__`` for debugging.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from agentvlm.errors import ModelError

__all__ = ["ModelUnreachableError", "OpenAIClient"]

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_IMAGE_WORDS = re.compile(r"image|vision|multimodal|mmproj|image_url|multi-modal", re.IGNORECASE)
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json schema", re.IGNORECASE)
# llama-cpp-python's server answers a request that fails its validation with HTTP 500 and
# pydantic's report; one that points at response_format is a refusal, not a crash.
_VALIDATION_AT_FORMAT = re.compile(
    r"validation error.*'loc': \('body', 'response_format'", re.DOTALL
)


class ModelUnreachableError(ModelError):
    """The server cannot be reached at all: a setup problem, never worth answering around."""


class OpenAIClient:
    """A thread-safe JSON client for one server and model, with bounded retries and backoff.

    Connection errors, 408, 429 and 5xx are retried ``retries`` times with
    exponential backoff (0.5 s, 1 s, 2 s... plus jitter); at most
    ``max_concurrency`` requests are in flight at once, so eight parallel graph
    branches cannot overload a single-slot llama.cpp server.
    """

    def __init__(
        self, base_url: str, model: str, *, api_key: str | None, key_env: str, timeout: float, retries: int, max_concurrency: int
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.key_env = key_env
        self.timeout = timeout
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def close(self) -> None:
        self._http.close()

    def _where(self) -> str:
        return f"{self.base_url} for model {self.model}"

    def post(self, path: str, body: dict[str, Any], *, images: bool = False) -> dict[str, Any]:
        """POST ``body`` and return the decoded JSON reply; ``images`` says the body carries images."""
        response = self._send("POST", path, body, images=images)
        return self._decode(response)

    def get(self, path: str) -> dict[str, Any]:
        return self._decode(self._send("GET", path, None))

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """POST with ``stream: true`` and yield each server-sent event's JSON payload."""
        with self._slots:
            try:
                with self._http.stream("POST", path, json=body) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._raise_for(response)
                    for line in response.iter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            return
                        try:
                            yield json.loads(data)
                        except json.JSONDecodeError as exc:
                            raise ModelError(
                                f"{self._where()} sent a stream event that is not JSON ({data[:80]!r}); "
                                "check that the URL is an OpenAI-compatible API (it usually ends in /v1)"
                            ) from exc
            except httpx.TransportError as exc:
                raise self._transport_error(exc) from exc

    def _send(self, method: str, path: str, body: dict[str, Any] | None, *, images: bool = False) -> httpx.Response:
        delay = 0.5
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self._slots:
                    response = self._http.request(method, path, json=body)
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                if last:
                    raise self._transport_error(exc) from exc
            except httpx.TransportError as exc:  # timeouts are not retried: the model is slow, not away
                raise self._transport_error(exc) from exc
            else:
                if response.status_code not in _RETRY_STATUS or last or _rejects_format(response):
                    if response.status_code >= 400:
                        self._raise_for(response, images=images)
                    return response
                retry_after = response.headers.get("retry-after", "")
                if retry_after.replace(".", "", 1).isdigit():
                    delay = max(delay, min(float(retry_after), 30.0))
            time.sleep(delay * (1 + random.random() / 4))
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _transport_error(self, exc: httpx.TransportError) -> ModelError:
        if isinstance(exc, httpx.TimeoutException):
            return ModelError(
                f"{self._where()} did not answer within {self.timeout:g}s; the model may still be loading or be too "
                "slow for this request: raise the timeout, lower max_tokens, or use a smaller model"
            )
        if isinstance(exc, httpx.ConnectError):
            reason = "connection refused" if "refused" in str(exc).lower() else str(exc) or type(exc).__name__
            return ModelUnreachableError(f"cannot reach {self._where()}: {reason}; is the server running? check the URL")
        return ModelError(
            f"{self._where()} broke off the response ({type(exc).__name__}: {exc}); "
            "the server may have crashed or run out of memory: check its log"
        )

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(
                f"{self._where()} returned a response that is not JSON or is cut short "
                f"(HTTP {response.status_code}, {len(response.content)} bytes, starting {response.text[:60]!r}); "
                "check that the URL is an OpenAI-compatible API (it usually ends in /v1)"
            ) from exc
        if not isinstance(data, dict):
            raise ModelError(f"{self._where()} returned JSON that is not an object ({str(data)[:60]!r}); check the URL")
        return data

    def _raise_for(self, response: httpx.Response, *, images: bool = False) -> None:
        message = _error_message(response)
        status = response.status_code
        where = self._where()
        if status in (401, 403):
            fix = f"set {self.key_env} to a valid API key" if "Authorization" not in self._http.headers else f"check the key in {self.key_env}"
            raise ModelError(f"{self.base_url} refused the request for model {self.model} (HTTP {status}: {message}); {fix}")
        if status == 404 or "model_not_found" in message or re.search(r"model .*(not found|does not exist)", message, re.IGNORECASE):
            raise ModelError(
                f"model '{self.model}' is not served at {self.base_url} (HTTP {status}: {message}); "
                f"{self._known_models()}check the model name in the spec"
            )
        if _rejects_format(response, message):
            raise _FormatRejected(message, status=status)
        # A text-only model's server rarely says "no vision": llama.cpp's fails on the list-shaped content.
        if status in (400, 422, 500) and (_IMAGE_WORDS.search(message) or images):
            raise ModelError(
                f"model {self.model} at {self.base_url} does not accept images (HTTP {status}: {message}); "
                "use a vision model there (e.g. one started with its --mmproj projector), or pass it as --llm, not --vlm"
            )
        raise ModelError(f"{where} failed with HTTP {status}: {message}")

    def _known_models(self) -> str:
        try:
            response = self._http.get("/models", timeout=min(self.timeout, 5.0))
            ids = [m.get("id", "?") for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, AttributeError):
            return ""
        if not ids:
            return ""
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        return f"the server has: {shown}; "


class _FormatRejected(ModelError):
    """The server refused the ``response_format`` (``_rejects_format``); the caller tries a weaker one."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _rejects_format(response: httpx.Response, message: str | None = None) -> bool:
    """Whether the server refused the request's ``response_format``, so a weaker one may follow.

    Only a client error naming the format says so (and llama-cpp-python's 500 carrying a
    validation error at ``response_format``, a client error in a server error's clothes).
    Any other 5xx that mentions json_schema is the server failing: retried, then raised.
    """
    status = response.status_code
    message = _error_message(response) if message is None else message
    if not _FORMAT_WORDS.search(message):
        return False
    if 400 <= status < 500:
        return status not in _RETRY_STATUS
    return status == 500 and _VALIDATION_AT_FORMAT.search(message) is not None


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200].strip() or response.reason_phrase
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        text = err.get("message") or err.get("detail") or err.get("code") or json.dumps(err)[:200]
        code = err.get("code")
        return f"{text} ({code})" if isinstance(code, str) and code not in str(text) else str(text)[:300]
    return str(err)[:300]
