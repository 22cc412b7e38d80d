"""The OpenAI chat-completions wire format: a conversation in, an ``Answer`` out.

An OpenAI client sends the whole conversation every time. The last user message is the
question, its ``image_url`` parts the images (a follow-up without images asks about
the most recent ones sent); earlier user/assistant pairs become the agent's history.
The evidence, steps and annotated-image URLs travel in an extra ``agentvlm`` field that
OpenAI clients ignore; streamed steps also go out as ``reasoning_content``, which chat
front ends show as the model's thinking.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentvlm.errors import InputError
from agentvlm.types import Answer, Step

__all__ = ["ChatRequest", "Conversation", "chunk", "completion", "conversation", "error_body", "step_line"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of ``POST /v1/chat/completions`` agentvlm reads; the rest (temperature, ...) are ignored."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class Conversation(BaseModel):
    question: str
    images: list[str]
    history: list[tuple[str, str]]


def _parts(message: ChatMessage) -> tuple[str, list[str]]:
    if message.content is None:
        return "", []
    if isinstance(message.content, str):
        return message.content.strip(), []
    texts: list[str] = []
    images: list[str] = []
    for part in message.content:
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str):
                raise InputError("an image_url part needs {\"image_url\": {\"url\": \"data:image/jpeg;base64,...\"}}")
            images.append(url)
        else:
            raise InputError(f"unsupported message part type {kind!r}; send 'text' and 'image_url' parts")
    return " ".join(t.strip() for t in texts if t.strip()), images


def conversation(messages: list[ChatMessage]) -> Conversation:
    """Split a chat into the question, its images and the earlier (question, answer) turns."""
    if messages[-1].role != "user":
        raise InputError(f"the last message must be the user's question, not a {messages[-1].role!r} message")
    question, images = _parts(messages[-1])
    if not question:
        raise InputError("the last user message has no text; ask a question about the image, e.g. \"What does the sign say?\"")
    earlier = [_parts(m) if m.role in ("user", "assistant") else ("", []) for m in messages[:-1]]
    if not images:  # a follow-up asks about the latest images sent
        images = next((imgs for m, (_, imgs) in zip(reversed(messages[:-1]), reversed(earlier)) if m.role == "user" and imgs), [])
    history: list[tuple[str, str]] = []
    asked: str | None = None
    for message, (text, _) in zip(messages[:-1], earlier):
        if message.role == "user":
            asked = text
        elif message.role == "assistant" and asked is not None:
            history.append((asked, text))
            asked = None
    if not images:
        raise InputError("no image in the conversation; add an image_url part (a data:image/...;base64 URI) to a user message")
    return Conversation(question=question, images=images, history=history)


def step_line(step: Step) -> str:
    calls = ", ".join(f"{c.name}{' (cached)' if c.cached else ''}" for c in step.calls)
    note = f" — {step.note}" if step.note else ""
    return f"✓ {step.node} {step.seconds:.2f}s{(' [' + calls + ']') if calls else ''}{note}\n"


def extra(answer: Answer, answer_id: str, base_url: str) -> dict[str, Any]:
    """The ``agentvlm`` field: the whole ``Answer`` and where its annotated images are."""
    return {
        "answer_id": answer_id,
        "answer": json.loads(answer.model_dump_json()),
        "annotated_images": [f"{base_url}v1/answers/{answer_id}/images/{k}.png" for k in range(len(answer.images))],
    }


def _usage(answer: Answer) -> dict[str, int]:
    prompt = sum(int(c.detail.get("prompt_tokens", 0)) for s in answer.steps for c in s.calls if c.kind == "model")
    done = sum(int(c.detail.get("completion_tokens", 0)) for s in answer.steps for c in s.calls if c.kind == "model")
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}


def completion(answer: Answer, *, answer_id: str, model: str, base_url: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{answer_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(answer),
        "agentvlm": extra(answer, answer_id, base_url),
    }


def chunk(request_id: str, model: str, delta: dict[str, Any], *, finish: str | None = None, **fields: Any) -> str:
    """One server-sent event of a streamed completion."""
    body = {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **fields,
    }
    return f"data: {json.dumps(body)}\n\n"


def error_body(message: str, *, kind: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape, which its clients turn into ``BadRequestError`` and friends."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
