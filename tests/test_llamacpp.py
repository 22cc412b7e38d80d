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
    # Usage is the backend's to report; whether SmolLM2 says anything to this prompt is the model's business.
    assert out.prompt_tokens > 5 and out.completion_tokens <= 24 and out.finish_reason in ("stop", "length")


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
def test_enum_schema_is_kept_on_the_first_try(llm) -> None:  # type: ignore[no-untyped-def]
    # Which value a 135M model picks is its business; that the grammar holds it to the enum is the backend's.
    reply_type = create_model("Reply", answer=(Literal["2", "3"], ...))
    msgs = [Message(role="user", content="Facts:\nThere are 2 people.\nQuestion: How many people are there?")]
    counting = _Counting(llm)
    reply, completion = structured(counting, msgs, reply_type)
    assert reply.answer in ("2", "3") and len(counting.calls) == 1
    assert json.loads(completion.text) == {"answer": reply.answer}


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


class _RecordingLlama:
    """Stands in for llama_cpp.Llama inside the backend and keeps the sampling options of each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def reset(self) -> None: ...

    def set_seed(self, seed: int) -> None: ...

    def create_chat_completion(self, **kwargs: object) -> dict[str, object]:
        self.calls.append(kwargs)
        return {"choices": [{"message": {"content": '{"tools": [], "count": 1}'}, "finish_reason": "stop"}]}


def test_free_text_runs_under_a_repeat_penalty_and_json_under_a_checked_grammar(llm) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    fake = _RecordingLlama()
    llm._llm = fake
    try:
        llm.complete(Q, max_tokens=8)
        llm.complete(Q, schema=Plan.model_json_schema(), max_tokens=8)
    finally:
        llm._llm = None
    free, constrained = fake.calls
    assert float(free["repeat_penalty"]) > 1.0 and "grammar" not in free  # type: ignore[arg-type]
    assert "repeat_penalty" not in constrained and "response_format" not in constrained
    assert "root ::=" in constrained["grammar"]._grammar  # type: ignore[attr-defined]


def test_a_schema_whose_grammar_would_not_parse_is_refused_before_llama_cpp(llm) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    from agentvlm.errors import ModelOutputError

    fake = _RecordingLlama()
    llm._llm = fake
    quoted = {"type": "object", "properties": {"answer": {"enum": ['false: "there are three people']}}}
    try:
        with pytest.raises(ModelOutputError, match="no constrained answer, invalid grammar"):
            llm.complete(Q, schema=quoted)
    finally:
        llm._llm = None
    assert fake.calls == []
