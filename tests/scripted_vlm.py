"""A scripted vision model behind a real OpenAI-compatible server on loopback.

No VLM weights can be had here, so the VLM paths are tested against this: it speaks
``/v1/chat/completions`` (images as data URIs, ``logprobs``/``top_logprobs``,
``response_format``) and ``/v1/models``, decodes every image it is sent, and answers
with whatever the test's ``script`` says for that request. Tests then check what it
received (which prompt, which crop) and what reached the user.

    with ScriptedVLM(lambda seen: "red" if "colour" in seen.prompt else "no") as vlm:
        Agent(Config(vlm=vlm.spec)).ask(photo, "What colour is the bus?")
        assert vlm.seen[0].images[0].size == (1024, 683)

Used by tests and by ``benchmarks/bench_vlm_graph.py``; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from typing_extensions import Self

__all__ = ["Reply", "ScriptedVLM", "Seen"]

_TOKEN = re.compile(r"\s*\S+")


@dataclass
class Seen:
    """One chat request as the server received it.

    Attributes:
        prompt: The text parts of the last user message, joined.
        images: The images it carried, decoded (PIL images; ``.size`` is (width, height)).
        body: The request body as sent, image data replaced by ``<image>``.
    """

    prompt: str
    images: list[Any]
    body: dict[str, Any]

    @property
    def logprobs(self) -> bool:
        return bool(self.body.get("logprobs"))


@dataclass
class Reply:
    """What the server answers one request with.

    Attributes:
        text: The assistant's message.
        p: The probability of each token of ``text`` reported as logprobs (when asked for);
            for a one-token yes/no question, P(first word) against the other word.
        status: An HTTP status; >= 400 answers with an OpenAI-style error object.
        message: That error object's message, e.g. "image input is not supported".
        delay: Seconds to wait before answering (a hanging server).
    """

    text: str = ""
    p: float = 0.9
    status: int = 200
    message: str = "scripted failure"
    delay: float = 0.0


Script = Callable[[Seen], "Reply | str"]


@dataclass
class ScriptedVLM:
    """The server. ``script`` maps each request to a ``Reply`` (or a plain string, at ``p=0.9``).

    Args:
        script: Decides the reply from what was received.
        logprobs: Whether the server returns logprobs when asked (vLLM, llama.cpp do; some servers don't).
        model: The model id it serves.
    """

    script: Script | str = "yes"
    logprobs: bool = True
    model: str = "scripted-vlm"
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": owner.model, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                seen = _received(body)
                with owner._lock:
                    owner.seen.append(seen)
                reply = owner.reply_to(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status >= 400:
                    self._send(reply.status, {"error": {"message": reply.message, "type": "server_error"}})
                    return
                self._send(200, owner.completion(body, reply))

        class Server(ThreadingHTTPServer):
            daemon_threads = True  # a hanging reply must not hold up the test's exit

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a slow reply is not an error here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self.spec = f"openai:{self.model}@{self.url}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_to(self, seen: Seen) -> Reply:
        out = self.script if isinstance(self.script, str) else self.script(seen)
        return Reply(text=out) if isinstance(out, str) else out

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = reply.text
        limit = int(body.get("max_tokens") or 0)
        tokens = _TOKEN.findall(text)
        if limit and len(tokens) > limit:
            tokens = tokens[:limit]
            text = "".join(tokens)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        if self.logprobs and body.get("logprobs"):
            top = int(body.get("top_logprobs") or 0)
            content = []
            for n, tok in enumerate(tokens):
                lp = math.log(max(reply.p, 1e-9))
                alts = [{"token": tok, "logprob": lp}]
                other = {"yes": "No", "no": "Yes"}.get(tok.strip().lower()) if n == 0 else None
                if other and reply.p < 1.0:
                    alts.append({"token": other, "logprob": math.log(1.0 - reply.p)})
                content.append({"token": tok, "logprob": lp, "top_logprobs": alts[:max(top, 1)] if top else []})
            choice["logprobs"] = {"content": content}
        return {
            "id": f"chatcmpl-{len(self.seen)}", "object": "chat.completion", "created": int(time.time()), "model": self.model,
            "choices": [choice],
            "usage": {"prompt_tokens": 20, "completion_tokens": len(tokens), "total_tokens": 20 + len(tokens)},
        }

    def prompts(self) -> list[str]:
        return [s.prompt for s in self.seen]


def _received(body: dict[str, Any]) -> Seen:
    from PIL import Image

    images: list[Any] = []
    texts: list[str] = []
    shown: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        kept = []
        for part in parts:
            if part.get("type") == "image_url":
                url = str((part.get("image_url") or {}).get("url", ""))
                if url.startswith("data:"):
                    images.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
                kept.append({"type": "image_url", "image_url": {"url": "<image>"}})
            else:
                if message.get("role") == "user":
                    texts.append(str(part.get("text", "")))
                kept.append(part)
        shown.append({**message, "content": kept})
    return Seen(prompt="\n".join(texts), images=images, body={**body, "messages": shown})
