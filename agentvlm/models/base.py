"""The interface between the graph and language models: messages in, a completion out.

A backend is one file with a class satisfying ``ChatModel`` plus one line in
``agentvlm.models.specs.BACKENDS``.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field, ValidationError

from agentvlm.errors import ModelOutputError
from agentvlm.prompts import render

__all__ = ["ChatModel", "Completion", "Message", "structured"]

T = TypeVar("T", bound=BaseModel)


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Completion(BaseModel):
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class ChatModel(Protocol):
    """A text model the reasoning side talks to.

    ``schema``, when given, is a JSON schema the output must follow; backends
    that can constrain decoding to it (llama.cpp grammars, vLLM guided decoding)
    must, so a small model cannot break the format.
    """

    spec: str

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> Completion: ...


def structured(
    model: ChatModel,
    messages: list[Message],
    output: type[T],
    *,
    max_tokens: int = 256,
    retries: int = 1,
    attempts: list[Completion] | None = None,
) -> tuple[T, Completion]:
    """Ask ``model`` for an instance of ``output`` under its JSON schema, validating the result.

    A reply that does not validate is retried once with the validation error
    appended, then raises ``ModelOutputError`` naming the model and what came back.
    Every completion, failed ones included, is appended to ``attempts`` when given
    (``Services.ask`` records them all).
    """
    schema = output.model_json_schema()
    convo = list(messages)
    last = ""
    for attempt in range(retries + 1):
        completion = model.complete(convo, schema=schema, max_tokens=max_tokens, temperature=0.0, seed=attempt)
        if attempts is not None:
            attempts.append(completion)
        last = completion.text
        try:
            return output.model_validate(json.loads(last)), completion
        except (json.JSONDecodeError, ValidationError) as exc:
            convo = [*messages, Message(role="assistant", content=last),
                     Message(role="user", content=render("json_retry", problem=str(exc).splitlines()[0])["user"])]
    raise ModelOutputError(
        f"{model.spec} did not return a valid {output.__name__} after {retries + 1} tries; "
        f"last output: {last[:200]!r}. Try a larger model or raise max_tokens."
    )
