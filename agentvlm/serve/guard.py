"""The checks every request of ``agentvlm serve`` passes before a body is read or a model touched.

In order: the ``Host`` header names this server (a DNS-rebinding page names its own
domain: 421); the bearer key on ``/v1`` (401); a browser's cross-site POST (403: a
foreign ``Origin``, or a form post with neither a same-origin ``Origin`` nor a header
a page cannot send cross-site without CORS); the content type (415: a ``text/plain``
body is what a cross-site page can send without asking); the body size (413).
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentvlm.serve import openai_api
from agentvlm.serve.settings import ServeSettings

__all__ = ["Guard", "key_matches"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_JSON_ROUTES = frozenset({"/v1/chat/completions"})
_FORM_ROUTES = frozenset({"/v1/ask"})
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def key_matches(authorization: str, api_key: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``api_key`` (always, on a server without one)."""
    if api_key is None:
        return True
    token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    return hmac.compare_digest(token.encode(), api_key.encode())


def _hostname(host: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Guard:
    """Refuse before any body is read or model touched; see the module docstring for the order."""

    def __init__(self, app: ASGIApp, *, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = LOOPBACK_NAMES | set(settings.trusted_hosts)
        self.origins = {o.rstrip("/").lower() for o in settings.cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message, code, extra = refusal
            await send_error(send, status, message, "invalid_request_error", code, extra)
            return
        await _Limited(self.app, self.settings.max_body_bytes)(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str, dict[str, str] | None] | None:
        host = headers.get("host", "")
        if host and "*" not in self.hosts and _hostname(host) not in self.hosts and host.lower() not in self.hosts:
            message = (f"this server does not answer to the host {host[:80]!r}; if that name is yours, start it with "
                       f"--trusted-host {_hostname(host)[:80]}")
            return 421, message, "untrusted_host", None
        path: str = scope.get("path", "")
        method = scope.get("method", "")
        if path.startswith("/v1/") and method != "OPTIONS" and not key_matches(headers.get("authorization", ""), self.settings.api_key):
            why = "a wrong API key" if headers.get("authorization") else "no API key"
            return (401, f"{why}: send the server's key as 'Authorization: Bearer KEY' (agentvlm serve --api-key)",
                    "invalid_api_key", {"WWW-Authenticate": "Bearer"})
        if method != "POST":
            return None
        return self._cross_site(path, headers) or self._content_type(path, headers) or self._too_large(headers)

    def _same_origin(self, origin: str, host: str) -> bool:
        return urlsplit(origin).netloc.lower() == host.lower() or origin.rstrip("/").lower() in self.origins

    def _cross_site(self, path: str, headers: dict[str, str]) -> tuple[int, str, str, None] | None:
        origin, host = headers.get("origin"), headers.get("host", "")
        if origin is not None and not self._same_origin(origin, host):
            message = f"a cross-site request from {origin[:80]!r} is refused; start the server with --cors-origin {origin[:80]} to let that page call it"
            return 403, message, "cross_site_request", None
        form = _media_type(headers) in _FORMS
        vouched = origin is not None or "x-requested-with" in headers or "authorization" in headers
        if form and not vouched:
            message = ("a form post needs an 'X-Requested-With' header (any value) or the bearer key, so that other web pages "
                       "cannot post it: curl -H 'X-Requested-With: curl' -F image=@photo.jpg ...")
            return 403, message, "cross_site_request", None
        return None

    def _content_type(self, path: str, headers: dict[str, str]) -> tuple[int, str, str, None] | None:
        media = _media_type(headers)
        is_json = media == "application/json" or media.endswith("+json")
        if path in _JSON_ROUTES and not is_json:
            return 415, f"POST {path} takes 'Content-Type: application/json', not {media or 'none'!r}", "unsupported_media_type", None
        if path in _FORM_ROUTES and not (is_json or media in _FORMS):
            return (415, f"POST {path} takes multipart/form-data (image, question) or application/json, not {media or 'none'!r}",
                    "unsupported_media_type", None)
        return None

    def _too_large(self, headers: dict[str, str]) -> tuple[int, str, str, None] | None:
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.settings.max_body_bytes:
            return 413, too_large(int(length), self.settings.max_body_bytes), "request_too_large", None
        return None


class _Limited:
    """Cut a body with no ``Content-Length`` at the limit and answer 413 instead of the app."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        over = False
        sent_error = False

        async def limited() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def replacing(message: Message) -> None:
            nonlocal sent_error
            if not over:
                await send(message)
            elif not sent_error:
                sent_error = True
                await send_error(send, 413, too_large(received, self.max_body), "invalid_request_error", "request_too_large")

        await self.app(scope, limited, replacing)
        if over and not sent_error:
            await send_error(send, 413, too_large(received, self.max_body), "invalid_request_error", "request_too_large")


def too_large(size: int, limit: int) -> str:
    return (f"the request body is over this server's limit of {limit / 2**20:.1f} MiB ({size / 2**20:.1f} MiB sent); "
            "send a smaller image, or start the server with a larger --max-body-mb")


async def send_error(send: Send, status: int, message: str, kind: str, code: str, headers: dict[str, str] | None = None) -> None:
    """An OpenAI-shaped error straight to the client, the app never called."""
    body = json.dumps(openai_api.error_body(message, kind=kind, code=code)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
