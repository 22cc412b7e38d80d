"""The graph end to end on real photos with the embedded stack: real detector, OCR and SmolLM2."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm import Agent, Answer, Config, InputError
from agentvlm.evidence.cache import PerceptionCache

SIGN = Path(__file__).resolve().parents[1] / "examples" / "images" / "sign_no_double_parking.jpg"
DIRECTIONS = Path(__file__).resolve().parents[1] / "examples" / "images" / "sign_sports_centre_directions.jpg"

pytestmark = pytest.mark.slow  # every test asks the real detector, OCR or LLM


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent(Config(cache=False))


def test_counts_the_two_people(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "How many people are in this picture?")
    assert re.search(r"\b(2|two)\b", answer.text, re.IGNORECASE), answer.text
    people = [e for e in answer.evidence if e.label == "person"]
    assert len(people) >= 2
    assert all(e.tool == "darknet" and e.box is not None for e in people)


def test_reads_the_sign(agent: Agent) -> None:
    answer = agent.ask(SIGN, "What does the sign say?")
    assert "DOUBLE PARKING" in answer.text.upper(), answer.text
    texts = [e for e in answer.evidence if e.kind == "text"]
    assert any("PROHIBITED" in (e.text or "") for e in texts)
    assert any(s.node == "perceive:ocr" for s in answer.steps)


def test_reads_a_direction_sign(agent: Agent) -> None:
    answer = agent.ask(DIRECTIONS, "What does the sign say?")
    assert "Sports Centre" in answer.text and "Car Parks" in answer.text, answer.text


def test_yes_no_question(agent: Agent, bus_jpg: Path) -> None:
    assert agent.ask(bus_jpg, "Is there a bus?").text.lower().startswith("yes")


def test_trace_records_every_step_with_its_calls(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "How many people are in this picture?")
    nodes = [s.node for s in answer.steps]
    assert nodes[:2] == ["split", "analyze"] and nodes[-2:] == ["route", "answer"] and "perceive:detect" in nodes
    assert (answer.basis, answer.model_calls) == ("program", 0)  # code counted: no model was asked
    reasoned = agent.ask(zidane_jpg, "Why are these men dressed like this?")
    nodes = [s.node for s in reasoned.steps]
    assert nodes[-3:] == ["verbalize", "reason", "answer"] and reasoned.model_calls >= 1
    reason = next(s for s in reasoned.steps if s.node == "reason")
    assert reason.calls[0].name == "llamacpp:smollm2" and reason.calls[0].detail["prompt_tokens"] > 0
    assert reasoned.seconds >= sum(s.seconds for s in reasoned.steps if not s.node.startswith("perceive")) * 0.9


def test_the_same_question_gives_the_same_answer(agent: Agent, bus_jpg: Path, zidane_jpg: Path) -> None:
    first = agent.ask(bus_jpg, "How many people are in this picture?")
    agent.ask(zidane_jpg, "What does the sign say?")  # something else in between
    again = agent.ask(bus_jpg, "How many people are in this picture?")
    assert first.text == again.text
    assert [e.model_dump() for e in first.evidence] == [e.model_dump() for e in again.evidence]


def test_second_question_on_the_same_image_reuses_perception(zidane_jpg: Path) -> None:
    agent = Agent(Config(cache=False), cache=PerceptionCache(None))
    first = agent.ask(zidane_jpg, "How many people are in this picture?")
    second = agent.ask(zidane_jpg, "Is there a tie?")
    assert first.tool_calls == 1
    assert second.tool_calls == 0
    detect = [c for s in second.steps for c in s.calls if c.name == "darknet"]
    assert detect and all(c.cached for c in detect)


def test_disk_cache_serves_a_new_process(tmp_path: Path, zidane_jpg: Path) -> None:
    config = Config(cache_dir=tmp_path)
    Agent(config).ask(zidane_jpg, "How many people are in this picture?")
    assert list((tmp_path / "perception").glob("*.json"))
    fresh = Agent(config, cache=PerceptionCache(tmp_path))
    assert fresh.ask(zidane_jpg, "How many people are in this picture?").tool_calls == 0


def test_state_holds_references_not_pixels(agent: Agent, zidane_jpg: Path) -> None:
    state = agent.graph.invoke(agent._inputs(zidane_jpg, "How many people?", None))
    blob = json.dumps(state, default=lambda o: o.model_dump() if hasattr(o, "model_dump") else str(o))
    assert len(blob) < 20_000
    assert state["images"][0].sha256 and state["images"][0].path.endswith("zidane.jpg")


def test_several_images_in_one_question(agent: Agent, zidane_jpg: Path, bus_jpg: Path) -> None:
    answer = agent.ask([zidane_jpg, bus_jpg], "Is there a bus?")
    assert answer.text.lower().startswith("yes")
    assert len(answer.images) == 2
    assert any(e.image == 1 and e.label == "bus" for e in answer.evidence)
    assert any(e.id.startswith("i1.") for e in answer.evidence)


def test_stream_yields_steps_then_the_answer(agent: Agent, bus_jpg: Path) -> None:
    events = list(agent.stream(bus_jpg, "How many people are in this picture?"))
    assert [e.kind for e in events][-1] == "answer"
    assert all(e.kind == "step" for e in events[:-1]) and len(events) >= 6


def test_async_variants(agent: Agent, bus_jpg: Path) -> None:
    async def run() -> tuple[Answer, list[str]]:
        answer = await agent.aask(bus_jpg, "Is there a bus?")
        kinds = [e.kind async for e in agent.astream(bus_jpg, "Is there a bus?")]
        return answer, kinds

    answer, kinds = asyncio.run(run())
    assert answer.text.lower().startswith("yes") and kinds[-1] == "answer"


def test_segmentation_when_the_question_asks_about_area(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "How much of the image does the person on the right cover?")
    masks = [e for e in answer.evidence if e.kind == "mask"]
    assert masks and all(0 < m.attributes["area"] < 1 for m in masks)
    assert any(s.node == "segment" and s.calls for s in answer.steps)


def test_empty_question_is_refused_before_work(agent: Agent, zidane_jpg: Path) -> None:
    with pytest.raises(InputError, match="question is empty"):
        agent.ask(zidane_jpg, "  ")


def test_cli_json_has_answer_evidence_and_trace(zidane_jpg: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--json", "--no-cache", str(zidane_jpg), "How many people are in this picture?"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    assert re.search(r"\b2\b", data["text"])
    ev = data["evidence"][0]
    assert {"tool", "box", "text", "score", "label"} <= set(ev)
    assert [s["node"] for s in data["steps"]][:2] == ["split", "analyze"]
    assert (data["graph"], data["form"], data["basis"], data["model_calls"]) == ("auto", "count", "program", 0)


def test_cli_plain_output_when_piped() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--no-cache", str(SIGN), "What does the sign say?"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert out.stdout.strip().upper().startswith("NOTICE DOUBLE PARKING")
    assert len(out.stdout.strip().splitlines()) == 1


class ScriptedLLM:
    """A model that always says the same thing: stands in for a broken server."""

    spec = "scripted:broken"

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, messages, **kwargs):  # type: ignore[no-untyped-def]
        from agentvlm.models import Completion

        return Completion(text=self.text)


def test_agent_from_objects_and_a_model_that_returns_garbage(zidane_jpg: Path) -> None:
    from agentvlm.tools.detect_darknet import DarknetDetector

    tools = {"detect": DarknetDetector(input_size=608)}
    counted = Agent(Config(cache=False), llm=ScriptedLLM("}}}} <garbage>"), tools=tools).ask(zidane_jpg, "How many people are in this picture?")
    assert counted.text.isdigit() and counted.basis == "program"  # the default graph counts in code: no model needed
    agent = Agent(Config(cache=False, graph="prism"), llm=ScriptedLLM("}}}} <garbage>"), tools=tools)
    answer = agent.ask(zidane_jpg, "Is there a tie in this picture?")  # two candidates: the model must choose
    assert (answer.text, answer.basis) == ("yes", "evidence")  # the detector saw a tie: the evidence's answer stands in
    assert {"person", "tie"} <= {e.label for e in answer.evidence}  # the perception work is kept
    assert any("the evidence's best answer 'yes' stands in" in (s.note or "") for s in answer.steps)
    reason = next(s for s in answer.steps if s.node == "reason")
    assert reason.note and "scripted:broken did not return a valid GroundedReply" in reason.note
