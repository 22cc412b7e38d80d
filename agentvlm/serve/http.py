"""The FastAPI app of ``agentvlm serve``: the OpenAI-compatible API, ``/v1/ask``, the web page.

Routes (all under a bearer token when ``api_key`` is set, except ``/`` and ``/healthz``, which
shows only ``{"status": "ok"}`` without the key)::

    GET  /                       the web page (no build step: HTML, JS and CSS package data)
    GET  /healthz                liveness, queue depth, graphs
    GET  /v1/models              the graphs, as OpenAI models
    POST /v1/chat/completions    OpenAI chat completions, streamed as server-sent events on request
    POST /v1/ask                 multipart upload or JSON; returns the Answer JSON
    GET  /v1/answers/{id}        a recent answer again
    GET  /v1/answers/{id}/images/{k}.png   its annotated image

Every request passes ``agentvlm.serve.guard.Guard`` first (host, key, cross-site, content
type, size). Answers and errors name uploaded files without the server's folders, and
annotated-image URLs are relative (or under ``base_url``), never built from ``Host``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from agentvlm.errors import AgentVLMError, ConfigError, InputError, MissingDependencyError
from agentvlm.serve import openai_api
from agentvlm.serve.guard import Guard, key_matches
from agentvlm.serve.inputs import PayloadTooLarge, image_ref
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

    # no /docs: Swagger UI loads from a CDN, a page that fails offline; /openapi.json describes the API
    app = FastAPI(title="agentvlm", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runner = runner
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Requested-With"])
    app.add_middleware(Guard, settings=settings)
    _error_handlers(app, runner)
    base = settings.base_url.rstrip("/") + "/" if settings.base_url else "/"

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return _web_file("index.html")

    @app.get("/web/{name}", include_in_schema=False)
    async def web(name: str) -> Response:
        return _web_file(name)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        if not key_matches(request.headers.get("authorization", ""), settings.api_key):
            return {"status": "ok"}
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
            "instance": runner.instance,
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
    async def chat_completions(body: openai_api.ChatRequest) -> Response:
        graph = runner.graph_name(body.model)
        chat = openai_api.conversation(body.messages)
        question = _question(settings, chat.question)
        for turn in chat.history:
            _text(" ".join(turn), "an earlier turn")
        admitted = contextlib.ExitStack()
        with contextlib.ExitStack() as failed:  # on an error before the answer starts, the folder goes now
            failed.enter_context(admitted)
            admitted.enter_context(runner.admit())
            folder = admitted.enter_context(runner.request_folder())
            refs = await _images(runner, folder, chat.images)
            if body.stream:
                failed.pop_all()  # the stream owns them now, until its last event
                return StreamingResponse(_sse(runner, admitted, graph, refs, question, chat.history, base), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                                         background=BackgroundTask(admitted.close))  # also when the stream never started
            answer = await runner.ask(graph, refs, question, history=chat.history)
        return _json(runner, openai_api.completion(answer, answer_id=runner.answer_id(answer), model=graph, base_url=base))

    @app.post("/v1/ask")
    async def ask(request: Request) -> Response:
        """Multipart (``image`` files, ``question``, ``graph``, ``choices``) or JSON
        (``{"image": "data:...", "question": ..., "graph": ..., "choices": [...]}``)."""
        fields = await _ask_fields(request)
        graph = runner.graph_name(fields.graph)
        question = _question(settings, fields.question)
        with runner.admit(), runner.request_folder() as folder:
            refs = await _images(runner, folder, fields.images, uploads=fields.uploads)
            answer = await runner.ask(graph, refs, question, choices=fields.choices or None)
        answer_id = runner.answer_id(answer)
        return _json(runner, {**json.loads(answer.model_dump_json()), **_links(answer, answer_id, base)})

    @app.get("/v1/answers/{answer_id}")
    async def get_answer(answer_id: str) -> Response:
        answer = await _answer(runner, answer_id)
        return _json(runner, {**json.loads(answer.model_dump_json()), **_links(answer, answer_id, base)})

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


def _error_handlers(app: FastAPI, runner: Runner) -> None:
    """Every refusal in OpenAI's error shape with one message, and no server path in it."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(AgentVLMError)
    async def _agentvlm_error(_: Request, exc: AgentVLMError) -> JSONResponse:
        status, kind, code = _status(exc)
        headers = {"Retry-After": "5"} if isinstance(exc, Busy) else None
        return JSONResponse(openai_api.error_body(runner.scrub(str(exc)), kind=kind, code=code), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(openai_api.error_body(_first_problem(exc.errors()), kind="invalid_request_error"), status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        message = "the request body is not valid JSON" if exc.detail == "There was an error parsing the body" else str(exc.detail)
        return JSONResponse(openai_api.error_body(message, kind=kind), status_code=exc.status_code, headers=exc.headers)


def _first_problem(errors: Sequence[Any]) -> str:
    """Pydantic's first complaint as one line: where, and what was wrong."""
    first: dict[str, Any] = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the body"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"invalid request: {where}: {first.get('msg', 'not valid')}{more}"


def _json(runner: Runner, body: dict[str, Any]) -> Response:
    return Response(runner.scrub(json.dumps(body)), media_type="application/json")


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


def _error_event(runner: Runner, exc: BaseException) -> str:
    if isinstance(exc, AgentVLMError):
        _, kind, code = _status(exc)
        body = openai_api.error_body(runner.scrub(str(exc)), kind=kind, code=code)
    else:
        body = openai_api.error_body(runner.scrub(f"internal error: {type(exc).__name__}: {exc}"), kind="server_error")
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
                    yield runner.scrub(openai_api.chunk(rid, graph, {"reasoning_content": openai_api.step_line(event.step)},
                                                        agentvlm={"step": json.loads(event.step.model_dump_json())}))
                if event.answer is not None:
                    answer = event.answer
                    yield openai_api.chunk(rid, graph, {"content": answer.text})
                    yield runner.scrub(openai_api.chunk(rid, graph, {}, finish="stop",
                                                        agentvlm=openai_api.extra(answer, runner.answer_id(answer), base)))
        except Exception as exc:  # noqa: BLE001 (the status line is sent already: report it in the stream)
            yield _error_event(runner, exc)
            return
        yield "data: [DONE]\n\n"


async def _images(runner: Runner, folder: Path, sources: list[str], *, uploads: list[tuple[bytes, str]] | None = None) -> list[ImageRef]:
    """Each image checked in memory, then kept in the request's ``folder``."""
    s = runner.settings
    count = len(sources) + len(uploads or [])
    if count == 0:
        raise InputError("no image given; send one as a data URI or a file upload")
    if count > s.max_images:
        raise InputError(f"{count} images in one question, over this server's limit of {s.max_images}")
    limits = s.config.image_limits().model_copy(update={"max_bytes": s.max_image_bytes})

    def load() -> list[ImageRef]:
        refs = [image_ref(src, folder, limits=limits) for src in sources]
        return refs + [image_ref(data, folder, limits=limits, name=f"the upload {name[:60]!r}") for data, name in uploads or []]

    return await asyncio.to_thread(load)


def _text(value: str, what: str) -> str:
    """``value`` if it is text the models can take: a lone surrogate (JSON's "\\ud800") is not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{what} is not valid text: {value[exc.start]!r} at character {exc.start} is half of a "
                         "UTF-16 surrogate pair; send UTF-8 text") from None
    return value


def _question(settings: ServeSettings, question: str) -> str:
    question = _text(question, "the question").strip()
    if not question:
        raise InputError("the question is empty; ask something about the image, e.g. \"What does the sign say?\"")
    if len(question) > settings.max_question_chars:
        raise InputError(f"the question is {len(question)} characters, over this server's limit of {settings.max_question_chars}")
    return question


class _AskFields(BaseModel):
    images: list[str] = Field(default_factory=list)
    uploads: list[tuple[bytes, str]] = Field(default_factory=list)
    question: str = ""
    graph: str | None = None
    choices: list[str] = Field(default_factory=list)


async def _ask_fields(request: Request) -> _AskFields:
    """The fields of ``POST /v1/ask``, each of the right type, or one message naming the wrong one."""
    runner: Runner = request.app.state.runner
    if _is_form(request):
        settings = runner.settings
        async with request.form(max_files=settings.max_images + 1, max_fields=32, max_part_size=settings.max_body_bytes) as form:
            uploads = [(await item.read(), item.filename or "") for item in form.getlist("image") if not isinstance(item, str)]
            question, graph = form.get("question"), form.get("graph")
            return _AskFields(images=[i for i in form.getlist("image") if isinstance(i, str)], uploads=uploads,
                              question=question if isinstance(question, str) else "", graph=graph if isinstance(graph, str) else None,
                              choices=[_text(c, "a choice") for c in form.getlist("choices") if isinstance(c, str)])
    return _json_fields(await request.body())


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind in ("multipart/form-data", "application/x-www-form-urlencoded")


def _json_fields(raw: bytes) -> _AskFields:
    example = "{\"image\": \"data:image/jpeg;base64,...\", \"question\": \"...\"}"
    try:
        data = json.loads(raw)
    except RecursionError:
        raise InputError("the JSON body is nested too deeply; POST /v1/ask takes a flat JSON object: " + example) from None
    except ValueError:
        raise InputError("POST /v1/ask takes multipart/form-data (image, question) or a JSON object: " + example) from None
    if not isinstance(data, dict):
        raise InputError("POST /v1/ask takes a JSON object: " + example)
    images = data.get("images") or data.get("image") or []
    images = [images] if isinstance(images, str) else images
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise InputError("\"image\" must be a data URI or URL string, or \"images\" a list of them")
    question, graph, choices = data.get("question") or "", data.get("graph"), data.get("choices") or []
    if not isinstance(question, str):
        raise InputError(f"\"question\" must be a string, not {type(question).__name__}")
    if graph is not None and not isinstance(graph, str):
        raise InputError(f"\"graph\" must be a graph name (a string; GET /v1/models lists them), not {type(graph).__name__}")
    if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
        raise InputError("\"choices\" must be a list of non-empty strings, e.g. [\"yes\", \"no\"]")
    return _AskFields(images=images, question=question, graph=graph, choices=[_text(c, "a choice") for c in choices])


def _links(answer: Answer, answer_id: str, base: str) -> dict[str, Any]:
    """Relative URLs (or under the configured ``base_url``): a forged ``Host`` cannot send the page's key elsewhere."""
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
