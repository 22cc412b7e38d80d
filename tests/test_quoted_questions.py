"""Questions with quotes and backslashes: candidate answers built from them once went into llama.cpp's
grammar as literals, the grammar failed to parse and the process died (exit 139), killing a server for
every user. Each way in (ask, eval, serve, chat) answers them, and the process goes on answering."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentvlm import Agent, Config
from agentvlm.graph.nodes import grounded_reply
from agentvlm.models import Completion
from agentvlm.models.grammar import check_gbnf
from tests.servers import agentvlm_process, free_port

QUOTED = [
    'Is the statement true or false: "There are three people in the picture."',
    'Is the sign "red\\" or "blue"?',
]
PLAIN = "How many people are in this picture?"
NASTY = ['false: "there are three people', 'a \\"b\\"', "c\\", "\n]|[ ::= #", "\u00e9\x00"]
AGENTVLM = str(Path(sys.executable).parent / "agentvlm")


@pytest.fixture(scope="module")
def photo(examples_dir: Path) -> Path:
    return examples_dir / "street_scene_pedestrians.jpg"


def test_no_candidate_text_reaches_the_grammar() -> None:
    pytest.importorskip("llama_cpp")
    from agentvlm.models.grammar import schema_grammar

    reply = grounded_reply(NASTY)
    gbnf = schema_grammar(reply.model_json_schema())
    assert not any(c.strip() and c in gbnf for c in NASTY), gbnf
    assert reply.model_validate_json('{"answer": "2"}').model_dump()["answer"] == NASTY[1]  # the key maps back
    with pytest.raises(ValueError, match="answer must be one of"):
        reply.model_validate_json(json.dumps({"answer": NASTY[0]}))


def test_option_letters_stay_letters() -> None:
    reply = grounded_reply(["A", "B", "C"])
    assert reply.model_json_schema()["properties"]["answer"]["enum"] == ["A", "B", "C"]
    assert reply.model_validate_json('{"answer": "B"}').model_dump()["answer"] == "B"


class _Unconstrainable:
    """A model double whose backend cannot constrain a reply (what a grammar that fails the check raises)."""

    spec = "scripted:no-grammar"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def complete(self, messages: Any, *, schema: dict[str, Any] | None = None, **kwargs: Any) -> Completion:
        from agentvlm.errors import ModelOutputError

        self.calls.append((schema or {}).get("title", "text"))
        if schema is not None:
            raise ModelOutputError(f"{self.spec}: no constrained answer, invalid grammar at line 1")
        return Completion(text="false")


@pytest.mark.slow
def test_a_grammar_that_fails_falls_back_to_free_text_then_the_form(photo: Path) -> None:
    llm = _Unconstrainable()
    answer = Agent(Config(cache=False, graph="prism"), llm=llm).ask(photo, QUOTED[0])
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "no constrained answer" in notes and "answering in free text" in notes
    assert "GroundedReply" in llm.calls and llm.calls[-1] == "text"
    assert answer.form == "alternative" and answer.text  # one of the options, or the form's guess


def _ask(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentvlm", *args], check=False, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("question", QUOTED)
def test_ask_answers_a_quoted_question(photo: Path, question: str) -> None:
    result = _ask("ask", "--json", "--no-cache", str(photo), question)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    answer = json.loads(result.stdout)
    assert answer["text"] and answer["form"] == "alternative"


@pytest.mark.slow
def test_eval_runs_through_quoted_questions(photo: Path, tmp_path: Path) -> None:
    items = [{"id": f"q{i}", "image": str(photo), "question": q, "answer": "false"} for i, q in enumerate([*QUOTED, PLAIN])]
    dataset = tmp_path / "quoted.jsonl"
    dataset.write_text("".join(json.dumps(item) + "\n" for item in items))
    result = _ask("eval", str(dataset), "--no-cache", "--out", str(tmp_path / "run"), timeout=600)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "3 questions asked" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_server_answers_the_request_after_a_quoted_question(photo: Path) -> None:
    pytest.importorskip("uvicorn", reason="agentvlm serve needs pip install 'agentvlm[serve]'")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    image = "data:image/jpeg;base64," + base64.b64encode(photo.read_bytes()).decode()
    with agentvlm_process(["serve", "--port", str(port)], f"{base}/healthz", timeout=120) as proc:
        for question in [*QUOTED, PLAIN]:
            reply = httpx.post(f"{base}/v1/ask", json={"image": image, "question": question}, timeout=300)
            assert reply.status_code == 200, reply.text
            assert reply.json()["text"]
        assert proc.poll() is None


@pytest.mark.slow
def test_chat_answers_quoted_questions_and_goes_on(photo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AGENTVLM_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [AGENTVLM, "chat", str(photo)], input="\n".join([*QUOTED, PLAIN, "/quit"]) + "\n",
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert len([line for line in out.stdout.splitlines() if line.strip()]) == 3, out.stdout


def test_the_grammar_check_rejects_what_crashed_llama_cpp() -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    raw = json_schema_to_gbnf(json.dumps({"type": "object", "properties": {"answer": {"enum": NASTY[:1]}}}))
    with pytest.raises(ValueError, match="invalid grammar"):
        check_gbnf(raw)
