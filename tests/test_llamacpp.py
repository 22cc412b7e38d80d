"""The llama.cpp backend on the real SmolLM2-135M: constrained output, repeatability, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, create_model

from agentvlm import ConfigError, ModelError
from agentvlm.models import Completion, Message, load_chat_model, structured

Q = [Message(role="user", content="Name three colours of a traffic light.")]


@pytest.fixture(scope="module")
def llm():  # type: ignore[no-untyped-def]
    return load_chat_model("llamacpp:smollm2")


@pytest.mark.slow
def test_one_model_per_services_shared_by_its_graphs() -> None:
    from agentvlm.config import Config
    from agentvlm.graph.services import Services

    services = Services(Config(cache=False))
    assert services.llm is services.llm and services.for_graph(budgets=None).llm is services.llm
    assert Services(Config(cache=False)).llm is not services.llm  # another agent, its own model


@pytest.mark.slow
def test_plain_completion_reports_usage(llm) -> None:  # type: ignore[no-untyped-def]
    out = llm.complete(Q, max_tokens=24)
    assert out.text.strip() and out.prompt_tokens > 5 and 0 < out.completion_tokens <= 24


@pytest.mark.slow
def test_same_prompt_same_answer_whatever_came_before(llm) -> None:  # type: ignore[no-untyped-def]
    first = llm.complete(Q, max_tokens=24).text
    llm.complete([Message(role="user", content="Write a haiku about buses.")], max_tokens=24)
    assert llm.complete(Q, max_tokens=24).text == first


class Plan(BaseModel):
    tools: list[Literal["detect", "ocr", "segment"]]
    count: int


class _Counting:
    """Passes calls through to a model and keeps the keyword arguments of each."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model, self.spec, self.calls = model, model.spec, []

    def complete(self, messages, **kwargs) -> Completion:  # type: ignore[no-untyped-def]
        self.calls.append(kwargs)
        return self.model.complete(messages, **kwargs)


@pytest.mark.slow
def test_schema_output_always_parses(llm) -> None:  # type: ignore[no-untyped-def]
    msgs = [Message(role="user", content=q) for q in ("What does the sign say?", "How many dogs?", "Describe it.")]
    for m in msgs:
        counting = _Counting(llm)
        reply, completion = structured(counting, [m], Plan, max_tokens=64)
        # The grammar makes the first reply valid: no retry, and the reply is the model's JSON as written.
        assert [c["schema"] for c in counting.calls] == [Plan.model_json_schema()], m.content
        assert json.loads(completion.text) == reply.model_dump(), completion.text


@pytest.mark.slow
def test_enum_schema_copies_from_the_evidence(llm) -> None:  # type: ignore[no-untyped-def]
    reply_type = create_model("Reply", answer=(Literal["2", "3"], ...))
    msgs = [Message(role="user", content="Facts:\nThere are 2 people.\nQuestion: How many people are there?")]
    reply, _ = structured(llm, msgs, reply_type)
    assert reply.answer == "2"


class _Garbage:
    """A scripted model that never returns JSON, as a broken server or model would."""

    spec = "scripted:garbage"

    def complete(self, messages, **kwargs) -> Completion:  # type: ignore[no-untyped-def]
        return Completion(text=";;;; not json")


def test_garbage_from_a_model_becomes_one_clear_error() -> None:
    with pytest.raises(ModelError, match=r"scripted:garbage did not return a valid Plan after 2 tries; last output: ';;;; not json'"):
        structured(_Garbage(), Q, Plan)


def test_not_a_gguf_file(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ConfigError, match="is not a GGUF model file"):
        load_chat_model(f"llamacpp:{fake}")
