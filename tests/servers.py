"""Real loopback servers for the HTTP backends: llama-cpp-python's OpenAI-compatible server, and a
recording server that answers with canned bytes (for checking requests and feeding broken replies).

Used by tests and benchmarks alike; nothing here listens beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from typing_extensions import Self

__all__ = ["CANNED_COMPLETION", "FileServer", "RecordingServer", "agentvlm_process", "answers", "closed_port", "free_port", "llama_server", "serving"]

CANNED_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "canned",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A red bus."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


@contextmanager
def serving(cmd: list[str], ready: Callable[[], bool], *, name: str, timeout: float, log: IO[Any] | None = None,
            env: dict[str, str] | None = None, cwd: str | None = None, stop_wait: float = 15.0) -> Iterator[subprocess.Popen[Any]]:
    """Run ``cmd`` until ``ready()`` says it serves, yield it, stop it afterwards (terminate, then kill).

    Its output goes to ``log`` when given (read back into the error when it exits or never gets ready).
    """
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if log is not None else subprocess.PIPE, cwd=cwd,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def output() -> str:
        if log is not None:
            log.seek(0)
            return str(log.read())[-3000:]
        return proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {output()}")
            if ready():
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready within {timeout:.0f}s: {output()}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def answers(url: str, accept: Callable[[int], bool] = lambda code: code == 200) -> Callable[[], bool]:
    """A ``ready`` check for ``serving``: ``url`` answers with a status ``accept`` takes."""

    def ready() -> bool:
        import httpx

        try:
            return accept(httpx.get(url, timeout=2.0).status_code)
        except httpx.HTTPError:
            return False

    return ready


@contextmanager
def llama_server(*, gguf: str | None = None, n_ctx: int = 2048, timeout: float = 120.0) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its ``/v1`` base URL."""
    if gguf is None:
        from agentvlm.models.llamacpp import resolve_gguf

        gguf = str(resolve_gguf("smollm2"))
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", str(n_ctx), "--model_alias", "smollm2", "--verbose", "False"]
    base = f"http://127.0.0.1:{port}/v1"
    with serving(cmd, answers(f"{base}/models"), name=f"llama_cpp.server on port {port}", timeout=timeout, stop_wait=10):
        yield base


class RecordingServer:
    """A loopback HTTP server that records every request and answers with ``reply``.

    ``reply`` is ``(status, body_bytes, content_type)``; set it between requests to
    simulate a server returning garbage, a truncated body or an error.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: tuple[int, bytes, str] = (200, json.dumps(CANNED_COMPLETION).encode(), "application/json")
        self.routes: dict[str, tuple[int, bytes, str]] = {}  # path -> reply, overriding ``reply``
        # replies for the next requests, in order, before ``routes`` and ``reply``
        self.script: list[tuple[int, bytes, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                owner.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "json": json.loads(raw) if raw else None})
                scripted = owner.script.pop(0) if owner.script else None
                status, body, ctype = scripted or owner.routes.get(self.path, owner.reply)
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def error(self, status: int, message: str, code: str | None = None) -> None:
        """Answer the next requests with an OpenAI-style error object."""
        err: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
        if code:
            err["code"] = code
        self.reply = (status, json.dumps({"error": err}).encode(), "application/json")


class FileServer:
    """A loopback HTTP server for image URLs: ``routes`` maps a path to ``(status, body, content_type)``.

    Special routes for the fetch guard's tests: ``redirects`` maps a path to a Location,
    ``slow`` paths drip their body a byte every ``drip`` seconds, and ``lying`` paths
    declare no length and send ``body`` forever-ish (up to 64 MB).
    """

    def __init__(self, *, drip: float = 0.5) -> None:
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.redirects: dict[str, str] = {}
        self.slow: set[str] = set()
        self.endless: set[str] = set()
        self.hits: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.hits.append(self.path)
                if self.path in owner.redirects:
                    self.send_response(302)
                    self.send_header("location", owner.redirects[self.path])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                status, body, ctype = owner.routes.get(self.path, (404, b"not found", "text/plain"))
                self.send_response(status)
                self.send_header("content-type", ctype)
                try:
                    if self.path in owner.endless:
                        self.send_header("connection", "close")
                        self.end_headers()
                        for _ in range(64 * 1024 * 1024 // max(len(body), 1)):
                            self.wfile.write(body)
                        return
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    if self.path in owner.slow:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(drip)
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up on purpose (a refused body) is not news

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def agentvlm_process(args: list[str], ready_url: str, *, timeout: float = 60.0, env: dict[str, str] | None = None,
                     status: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m agentvlm ARGS`` (a server) until ``ready_url`` answers (with ``status``, else
    anything below 500); stop it afterwards."""
    accept = (lambda code: code == status) if status is not None else (lambda code: code < 500)
    with serving([sys.executable, "-m", "agentvlm", *args], answers(ready_url, accept), name=f"agentvlm {' '.join(args)}",
                 timeout=timeout, env=env) as proc:
        yield proc
