"""The OpenAI-compatible backend against llama-cpp-python's real server, and against a recording
loopback server for what that server cannot show (image parts on the wire, broken replies)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel, Field

from agentvlm import ConfigError, ModelError
from agentvlm.images import load_image
from agentvlm.models import Message, load_chat_model, parse_spec, structured
from agentvlm.models.openai import OpenAIModel, ollama_base_url
from agentvlm.models.vlm import load_vision_model
from tests.extras import require_extra
from tests.servers import CANNED_COMPLETION, RecordingServer, closed_port, llama_server

Q = [Message(role="user", content="Name three colours of a traffic light.")]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    require_extra("server")
    with llama_server() as base:
        yield base


@pytest.fixture()
def recorder() -> Iterator[RecordingServer]:
    with RecordingServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def llm(server: str) -> OpenAIModel:
    model = load_chat_model(f"openai:smollm2@{server}")
    assert isinstance(model, OpenAIModel)
    return model


@pytest.mark.slow
def test_plain_answer_with_usage(llm: OpenAIModel) -> None:
    out = llm.complete(Q, max_tokens=16)
    # Usage is the backend's to report; whether SmolLM2 says anything to this prompt is the model's business.
    assert out.prompt_tokens > 5 and out.completion_tokens <= 16 and out.finish_reason in ("stop", "length")
    from agentvlm.config import Config
    from agentvlm.graph.services import Services

    services = Services(Config(llm=llm.spec, vlm=llm.spec, cache=False))
    assert services.vlm is services.llm  # one client when both roles name the same server


class Plan(BaseModel):
    tools: list[Literal["detect", "ocr", "segment"]] = Field(max_length=3)
    count: int


class _Counting:
    """Passes calls through to a model and keeps the keyword arguments of each."""

    def __init__(self, model: OpenAIModel) -> None:
        self.model, self.spec, self.calls = model, model.spec, []  # type: ignore[var-annotated]

    def complete(self, messages, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append(kwargs)
        return self.model.complete(messages, **kwargs)


@pytest.mark.slow
def test_schema_output_parses_even_from_a_135m_model(llm: OpenAIModel) -> None:
    for question in ("What does the sign say?", "How many dogs?"):
        counting = _Counting(llm)
        reply, completion = structured(counting, [Message(role="user", content=question)], Plan, max_tokens=64)
        # The server's grammar makes the first reply valid: no retry, and the reply is the model's JSON as written.
        assert [c["schema"] for c in counting.calls] == [Plan.model_json_schema()], question
        assert json.loads(completion.text) == reply.model_dump(), completion.text


@pytest.mark.slow
def test_logprobs_when_asked(llm: OpenAIModel) -> None:
    out = llm.complete(Q, max_tokens=3, logprobs=4)
    top = out.detail["logprobs"]
    assert len(top) == out.completion_tokens and all(1 <= len(alts) <= 4 for alts in top)
    assert all(alt["logprob"] <= 0 for alts in top for alt in alts)


@pytest.mark.slow
def test_streaming_gives_the_same_text_as_a_plain_call(llm: OpenAIModel) -> None:
    pieces = list(llm.stream(Q, max_tokens=12))
    assert len(pieces) > 1
    assert "".join(pieces) == llm.complete(Q, max_tokens=12).text


@pytest.mark.slow
def test_tiny_timeout_is_one_clear_error(server: str) -> None:
    slow = OpenAIModel(parse_spec(f"openai:smollm2@{server}"), timeout=0.001, retries=0)
    with pytest.raises(ModelError, match=r"did not answer within 0.001s; .*raise the timeout"):
        slow.complete(Q, max_tokens=64)


def test_server_down_names_url_model_and_what_to_check() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    down = OpenAIModel(parse_spec(f"openai:qwen@{url}"), retries=1)
    with pytest.raises(ModelError, match=rf"cannot reach {url} for model qwen: connection refused; is the server running\? check the URL"):
        down.complete(Q)


@pytest.mark.slow
def test_images_sent_to_a_text_only_model(server: str, bus_jpg: Path) -> None:
    text_only = OpenAIModel(parse_spec(f"openai:smollm2@{server}"))
    with pytest.raises(ModelError, match=r"model smollm2 at .* does not accept images .*use a vision model"):
        text_only.describe([load_image(bus_jpg)], "What is this?")


def test_image_parts_follow_the_chat_completions_format(recorder: RecordingServer, bus_jpg: Path) -> None:
    vlm = OpenAIModel(parse_spec(f"openai:llava@{recorder.base_url}"), image_max_side=256)
    crop = np.full((40, 60, 3), 200, dtype=np.uint8)
    out = vlm.describe([load_image(bus_jpg), crop], "Describe the image.", max_tokens=32)
    assert out.text == "A red bus." and out.prompt_tokens == 12
    req = recorder.requests[-1]
    assert req["method"] == "POST" and req["path"] == "/v1/chat/completions"
    body = req["json"]
    assert body["model"] == "llava" and body["max_tokens"] == 32
    (message,) = body["messages"]
    assert message["role"] == "user"
    first, second, text = message["content"]
    assert text == {"type": "text", "text": "Describe the image."}
    for part in (first, second):
        assert part["type"] == "image_url" and set(part["image_url"]) == {"url"}
        head, _, b64 = part["image_url"]["url"].partition(",")
        assert head == "data:image/jpeg;base64"
        img = Image.open(io.BytesIO(base64.b64decode(b64)))
        assert img.format == "JPEG" and max(img.size) <= 256
    assert Image.open(io.BytesIO(base64.b64decode(first["image_url"]["url"].partition(",")[2]))).size == (192, 256)  # bus.jpg is 810x1080
    assert "authorization" not in {k.lower() for k in req["headers"]}  # no key set, none sent


def test_api_key_comes_from_the_named_variable(recorder: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}"), api_key_env="MY_KEY").complete(Q)
    assert recorder.requests[-1]["headers"]["Authorization"] == "Bearer sk-test"


def test_json_schema_request_shape(recorder: RecordingServer) -> None:
    recorder.reply = (200, json.dumps({**CANNED_COMPLETION, "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"tools": [], "count": 2}'}, "finish_reason": "stop"}]}).encode(), "application/json")
    reply, _ = structured(OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}")), Q, Plan)
    assert reply.count == 2
    fmt = recorder.requests[-1]["json"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == Plan.model_json_schema()


def _plan_reply() -> tuple[int, bytes, str]:
    message = {"role": "assistant", "content": '{"tools": [], "count": 2}'}
    choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
    return 200, json.dumps({**CANNED_COMPLETION, "choices": choices}).encode(), "application/json"


def _formats(recorder: RecordingServer) -> list[str | None]:
    return [(r["json"].get("response_format") or {}).get("type") for r in recorder.requests]


def test_a_server_error_naming_json_schema_never_downgrades_the_format(
    recorder: RecordingServer,
) -> None:
    llm = OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}"), retries=1)
    recorder.error(500, "json_schema grammar worker crashed")
    with pytest.raises(ModelError, match=r"failed with HTTP 500: json_schema grammar worker"):
        structured(llm, Q, Plan)
    assert _formats(recorder) == ["json_schema", "json_schema"]  # retried as before, then raised
    recorder.reply = _plan_reply()
    reply, _ = structured(llm, Q, Plan)
    assert reply.count == 2 and _formats(recorder)[-1] == "json_schema"


_LLAMA_CPP_PYTHON_500 = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, 'response_format type must be one of "text" or "json_object", but got: json_schema'),
        (422, "Unsupported response_format: json_schema"),
        (500, _LLAMA_CPP_PYTHON_500),  # llama-cpp-python's server: its validation errors are 500s
    ],
    ids=["llama.cpp-400", "unsupported-422", "llama-cpp-python-500"],
)
def test_a_clear_format_rejection_downgrades_once_and_says_so(
    recorder: RecordingServer, caplog: pytest.LogCaptureFixture, status: int, message: str
) -> None:
    llm = OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}"), retries=2)
    recorder.error(status, message)
    recorder.script, recorder.reply = [recorder.reply], _plan_reply()  # refuse the first only
    with caplog.at_level("WARNING", logger="agentvlm.models.openai"):
        assert structured(llm, Q, Plan)[0].count == 2
        assert structured(llm, Q, Plan)[0].count == 2
    assert _formats(recorder) == ["json_schema", "json_object", "json_object"]  # not retried
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and f"rejected response_format json_schema (HTTP {status}" in notes[0]
    assert "using json_object from now on" in notes[0]


def test_yes_probability_from_top_logprobs(recorder: RecordingServer) -> None:
    alts = [{"token": "Yes", "logprob": np.log(0.6)}, {"token": " no", "logprob": np.log(0.2)}, {"token": "Maybe", "logprob": np.log(0.2)}]
    choice = {"index": 0, "message": {"role": "assistant", "content": "Yes"}, "finish_reason": "length",
              "logprobs": {"content": [{"token": "Yes", "logprob": alts[0]["logprob"], "top_logprobs": alts}]}}
    recorder.reply = (200, json.dumps({**CANNED_COMPLETION, "choices": [choice]}).encode(), "application/json")
    yes = OpenAIModel(parse_spec(f"openai:vlm@{recorder.base_url}")).yes_probability([np.zeros((8, 8, 3), np.uint8)], "Is it dark?")
    assert yes.method == "logprobs" and not yes.fallback and yes.p == pytest.approx(0.75)
    body = recorder.requests[-1]["json"]
    assert body["logprobs"] is True and body["max_tokens"] == 1


def test_yes_probability_falls_back_to_sampling_without_logprobs(recorder: RecordingServer) -> None:
    vlm = OpenAIModel(parse_spec(f"openai:vlm@{recorder.base_url}"), yes_samples=4)
    recorder.reply = (200, json.dumps({**CANNED_COMPLETION, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes."}, "finish_reason": "stop"}]}).encode(), "application/json")
    yes = vlm.yes_probability([np.zeros((8, 8, 3), np.uint8)], "Is it dark?")
    assert (yes.method, yes.fallback, yes.samples, yes.p) == ("sampling", True, 4, 1.0)
    assert [r["json"]["temperature"] for r in recorder.requests[-4:]] == [1.0] * 4


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ((200, b"<html>nginx default page</html>", "text/html"), r"not JSON or is cut short .*ends in /v1"),
        ((200, json.dumps(CANNED_COMPLETION).encode()[:40], "application/json"), r"not JSON or is cut short"),
        ((200, b'{"object": "list", "data": []}', "application/json"), r"not a chat completion"),
    ],
    ids=["html", "truncated", "no-choices"],
)
def test_garbage_replies_are_one_clear_error(recorder: RecordingServer, reply: tuple[int, bytes, str], message: str) -> None:
    recorder.reply = reply
    with pytest.raises(ModelError, match=message):
        OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}")).complete(Q)


def test_unknown_model_lists_what_the_server_has(recorder: RecordingServer) -> None:
    recorder.error(404, "The model `gpt-5-nano` does not exist.", code="model_not_found")
    recorder.routes["/v1/models"] = (200, b'{"object": "list", "data": [{"id": "qwen2.5-vl"}, {"id": "llama3"}]}', "application/json")
    with pytest.raises(ModelError, match=r"model 'gpt-5-nano' is not served at .* the server has: qwen2.5-vl, llama3; check the model name"):
        OpenAIModel(parse_spec(f"openai:gpt-5-nano@{recorder.base_url}")).complete(Q)


def test_overloaded_server_is_retried_then_reported(recorder: RecordingServer) -> None:
    recorder.error(503, "server busy")
    with pytest.raises(ModelError, match=r"failed with HTTP 503: server busy"):
        OpenAIModel(parse_spec(f"openai:gpt@{recorder.base_url}"), retries=2).complete(Q)
    assert len(recorder.requests) == 3


def test_ollama_shorthand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert ollama_base_url() == "http://127.0.0.1:11434/v1"
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:8000")
    assert ollama_base_url() == "http://127.0.0.1:8000/v1"
    assert OpenAIModel(parse_spec("ollama:qwen2.5vl:3b")).model == "qwen2.5vl:3b"
    assert parse_spec("ollama:llava@http://gpu:11434/v1").base_url == "http://gpu:11434/v1"


def test_llamacpp_cannot_be_the_vlm() -> None:
    with pytest.raises(ConfigError, match="text-only and cannot be the VLM"):
        load_vision_model("llamacpp:smollm2")


@pytest.mark.slow
def test_cli_with_a_closed_port_exits_2_with_one_line(bus_jpg: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    proc = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--no-cache", "--llm", f"openai:x@{url}", str(bus_jpg), "Why is the bus here?"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach {url} for model x: connection refused" in lines[0]


@pytest.mark.slow
def test_cli_answers_through_the_server(server: str, bus_jpg: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--json", "--no-cache", "--llm", f"openai:smollm2@{server}", str(bus_jpg), "Why is the bus stopped here?"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["text"] and answer["models"]["llm"] == f"openai:smollm2@{server}"
    assert any(c["name"] == f"openai:smollm2@{server}" for s in answer["steps"] for c in s["calls"])
