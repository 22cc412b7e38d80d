"""The FastAPI app of ``agentvlm serve``: the OpenAI-compatible API, ``/v1/ask``, the web page.

Routes (all under a bearer token when ``api_key`` is set, except ``/`` and ``/healthz``)::

    GET  /                       the web page (no build step: HTML, JS and CSS package data)
    GET  /healthz                liveness, queue depth, graphs
    GET  /v1/models              the graphs, as OpenAI models
    POST /v1/chat/completions    OpenAI chat completions, streamed as server-sent events on request
    POST /v1/ask                 multipart upload or JSON; returns the Answer JSON
    GET  /v1/answers/{id}        a recent answer again
    GET  /v1/answers/{id}/images/{k}.png   its annotated image
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import uuid
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentvlm.errors import AgentVLMError, ConfigError, InputError, MissingDependencyError
from agentvlm.serve import openai_api
from agentvlm.serve.inputs import PayloadTooLarge, image_file
from agentvlm.serve.runner import Busy, Runner, TimedOut, UnknownModel
from agentvlm.serve.settings import ServeSettings
from agentvlm.types import Answer, ImageRef

__all__ = ["create_app"]

_WEB_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}


def create_app(settings: ServeSettings | None = None, *, runner: Runner | None = None) -> FastAPI:
    """The HTTP app; run it with uvicorn, or mount it in your own ASGI server.

    Example:
        >>> import uvicorn  # doctest: +SKIP
        >>> uvicorn.run(create_app(ServeSettings(api_key="s3cret")), port=8000)  # doctest: +SKIP
    """
    settings = settings or ServeSettings()
    runner = runner or Runner(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.close()

    app = FastAPI(title="agentvlm", version=_version(), lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.runner = runner
    app.add_middleware(_Guard, api_key=settings.api_key, max_body=settings.max_body_bytes)

    @app.exception_handler(AgentVLMError)
    async def _agentvlm_error(_: Request, exc: AgentVLMError) -> JSONResponse:
        status, kind, code = _status(exc)
        headers = {"Retry-After": "5"} if isinstance(exc, Busy) else None
        return JSONResponse(openai_api.error_body(str(exc), kind=kind, code=code), status_code=status, headers=headers)

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return _web_file("index.html")

    @app.get("/web/{name}", include_in_schema=False)
    async def web(name: str) -> Response:
        return _web_file(name)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "default_graph": runner.default_graph,
            "graphs": list(runner.graphs),
            "running": runner.running,
            "queued": runner.queued,
            "answered": runner.answered,
            "max_concurrency": settings.max_concurrency,
            "max_queue": settings.max_queue,
            "auth": settings.api_key is not None,
            "pid": os.getpid(),
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        descriptions = await asyncio.to_thread(runner.descriptions)
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "agentvlm", "description": text, "default": name == runner.default_graph}
                for name, text in descriptions.items()
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: openai_api.ChatRequest, request: Request) -> Response:
        graph = runner.graph_name(body.model)
        chat = openai_api.conversation(body.messages)
        refs = await _images(runner, chat.images)
        question = _question(settings, chat.question)
        base = str(request.base_url)
        admitted = contextlib.ExitStack()
        admitted.enter_context(runner.admit())
        if not body.stream:
            with admitted:
                answer = await runner.ask(graph, refs, question, history=chat.history)
            return JSONResponse(openai_api.completion(answer, answer_id=runner.answer_id(answer), model=graph, base_url=base))
        return StreamingResponse(_sse(runner, admitted, graph, refs, question, chat.history, base), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/v1/ask")
    async def ask(request: Request) -> dict[str, Any]:
        """Multipart (``image`` files, ``question``, ``graph``, ``choices``) or JSON
        (``{"image": "data:...", "question": ..., "graph": ..., "choices": [...]}``)."""
        fields = await _ask_fields(request, settings)
        graph = runner.graph_name(fields.get("graph"))
        refs = await _images(runner, fields["images"], uploads=fields.get("uploads", []))
        question = _question(settings, fields.get("question") or "")
        with runner.admit():
            answer = await runner.ask(graph, refs, question, choices=fields.get("choices") or None)
        answer_id = runner.answer_id(answer)
        return {**json.loads(answer.model_dump_json()), **_links(answer, answer_id, str(request.base_url))}

    @app.get("/v1/answers/{answer_id}")
    async def get_answer(answer_id: str, request: Request) -> dict[str, Any]:
        answer = await _answer(runner, answer_id)
        return {**json.loads(answer.model_dump_json()), **_links(answer, answer_id, str(request.base_url))}

    @app.get("/v1/answers/{answer_id}/images/{k}.png")
    async def annotated(answer_id: str, k: int) -> Response:
        answer = await _answer(runner, answer_id)
        if not 0 <= k < len(answer.images):
            raise _NotFound(f"answer {answer_id} has {len(answer.images)} image(s); k must be 0..{len(answer.images) - 1}")
        png = await asyncio.to_thread(runner.png, answer_id, k)
        if png is None:
            raise _NotFound(f"the annotated image of answer {answer_id} is gone; ask again")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    return app


class _NotFound(AgentVLMError):
    pass


def _status(exc: AgentVLMError) -> tuple[int, str, str | None]:
    if isinstance(exc, Busy):
        return 429, "rate_limit_error", "server_busy"
    if isinstance(exc, TimedOut):
        return 504, "timeout", "timeout"
    if isinstance(exc, PayloadTooLarge):
        return 413, "invalid_request_error", "image_too_large"
    if isinstance(exc, _NotFound):
        return 404, "not_found_error", "not_found"
    if isinstance(exc, UnknownModel):
        return 404, "invalid_request_error", "model_not_found"
    if isinstance(exc, (InputError, ConfigError)):
        return 400, "invalid_request_error", None
    if isinstance(exc, MissingDependencyError):
        return 501, "server_error", "missing_dependency"
    return 502, "server_error", None


def _error_event(exc: BaseException) -> str:
    if isinstance(exc, AgentVLMError):
        _, kind, code = _status(exc)
        body = openai_api.error_body(str(exc), kind=kind, code=code)
    else:
        body = openai_api.error_body(f"internal error: {type(exc).__name__}: {exc}", kind="server_error")
    return f"data: {json.dumps(body)}\n\n"


async def _sse(runner: Runner, admitted: contextlib.ExitStack, graph: str, refs: list[ImageRef], question: str,
               history: list[tuple[str, str]], base: str) -> AsyncIterator[str]:
    """Steps as ``reasoning_content`` chunks (each also in ``agentvlm.step``), the answer, then [DONE]."""
    rid = uuid.uuid4().hex
    with admitted:
        yield openai_api.chunk(rid, graph, {"role": "assistant", "content": ""})
        try:
            async for event in runner.stream(graph, refs, question, history=history):
                if event.step is not None:
                    yield openai_api.chunk(rid, graph, {"reasoning_content": openai_api.step_line(event.step)},
                                           agentvlm={"step": json.loads(event.step.model_dump_json())})
                if event.answer is not None:
                    answer = event.answer
                    yield openai_api.chunk(rid, graph, {"content": answer.text})
                    yield openai_api.chunk(rid, graph, {}, finish="stop",
                                           agentvlm=openai_api.extra(answer, runner.answer_id(answer), base))
        except Exception as exc:  # noqa: BLE001 (the status line is sent already: report it in the stream)
            yield _error_event(exc)
            return
        yield "data: [DONE]\n\n"


async def _images(runner: Runner, sources: list[str], *, uploads: list[tuple[bytes, str]] | None = None) -> list[ImageRef]:
    from agentvlm.images import load_image

    s = runner.settings
    count = len(sources) + len(uploads or [])
    if count == 0:
        raise InputError("no image given; send one as a data URI or a file upload")
    if count > s.max_images:
        raise InputError(f"{count} images in one question, over this server's limit of {s.max_images}")

    def load() -> list[ImageRef]:
        paths = [image_file(src, runner.uploads, max_bytes=s.max_image_bytes) for src in sources]
        paths += [image_file(data, runner.uploads, max_bytes=s.max_image_bytes, suffix=suffix) for data, suffix in uploads or []]
        return [load_image(p, max_pixels=s.config.max_pixels) for p in paths]

    return await asyncio.to_thread(load)


def _question(settings: ServeSettings, question: str) -> str:
    question = question.strip()
    if not question:
        raise InputError("the question is empty; ask something about the image, e.g. \"What does the sign say?\"")
    if len(question) > settings.max_question_chars:
        raise InputError(f"the question is {len(question)} characters, over this server's limit of {settings.max_question_chars}")
    return question


async def _ask_fields(request: Request, settings: ServeSettings) -> dict[str, Any]:
    kind = request.headers.get("content-type", "")
    if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_files=settings.max_images + 1, max_fields=32, max_part_size=settings.max_body_bytes)
        uploads: list[tuple[bytes, str]] = []
        sources: list[str] = []
        for item in form.getlist("image"):
            if isinstance(item, str):
                sources.append(item)
            else:
                uploads.append((await item.read(), os.path.splitext(item.filename or "")[1]))
        return {"images": sources, "uploads": uploads, "question": form.get("question"), "graph": form.get("graph"),
                "choices": [str(c) for c in form.getlist("choices")]}
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise InputError("POST /v1/ask takes multipart/form-data (image, question) or a JSON object") from None
    if not isinstance(data, dict):
        raise InputError("POST /v1/ask takes a JSON object: {\"image\": \"data:image/jpeg;base64,...\", \"question\": \"...\"}")
    images = data.get("images") or data.get("image") or []
    images = [images] if isinstance(images, str) else images
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise InputError("\"image\" must be a data URI string, or \"images\" a list of them")
    return {"images": images, "question": str(data.get("question") or ""), "graph": data.get("graph"), "choices": data.get("choices")}


def _links(answer: Answer, answer_id: str, base: str) -> dict[str, Any]:
    return {"answer_id": answer_id, "annotated_images": [f"{base}v1/answers/{answer_id}/images/{k}.png" for k in range(len(answer.images))]}


async def _answer(runner: Runner, answer_id: str) -> Answer:
    answer = await asyncio.to_thread(runner.recall, answer_id)
    if answer is None:
        raise _NotFound(f"no recent answer {answer_id!r}; the server keeps the last {runner.settings.keep_answers}")
    return answer


def _web_file(name: str) -> Response:
    if name not in _WEB_FILES:
        return JSONResponse(openai_api.error_body(f"no such page {name!r}", kind="not_found_error"), status_code=404)
    data = resources.files("agentvlm.serve").joinpath("web", name).read_bytes()
    return Response(data, media_type=_WEB_FILES[name], headers={"Cache-Control": "no-cache"})


def _version() -> str:
    from agentvlm import __version__

    return __version__


class _Guard:
    """Refuse before any body is read or model touched: a wrong key (401), a body over the limit (413)."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body: int) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")
        if self.api_key is not None and path.startswith("/v1/") and scope.get("method") != "OPTIONS":
            given = headers.get("authorization", "")
            token = given[7:].strip() if given[:7].lower() == "bearer " else ""
            if not hmac.compare_digest(token.encode(), self.api_key.encode()):
                why = "a wrong API key" if token else "no API key"
                await _send_error(send, 401, f"{why}: send the server's key as 'Authorization: Bearer KEY' (agentvlm serve --api-key)",
                                  "invalid_request_error", "invalid_api_key", {"WWW-Authenticate": "Bearer"})
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _send_error(send, 413, self._too_large(int(length)), "invalid_request_error", "request_too_large")
            return
        received = 0
        over = False

        async def limited() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # a chunked body with no length: cut it, answer 413 instead of the app
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        sent_error = False

        async def replacing(message: Message) -> None:
            nonlocal sent_error
            if not over:
                await send(message)
            elif not sent_error:
                sent_error = True
                await _send_error(send, 413, self._too_large(received), "invalid_request_error", "request_too_large")

        await self.app(scope, limited, replacing)
        if over and not sent_error:
            await _send_error(send, 413, self._too_large(received), "invalid_request_error", "request_too_large")

    def _too_large(self, size: int) -> str:
        return (f"the request body is over this server's limit of {self.max_body / 2**20:.1f} MiB ({size / 2**20:.1f} MiB sent); "
                "send a smaller image, or start the server with a larger --max-body-mb")


async def _send_error(send: Send, status: int, message: str, kind: str, code: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(openai_api.error_body(message, kind=kind, code=code)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
