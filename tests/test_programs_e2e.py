"""The ``program`` graph end to end on real photos, with the embedded CPU stack (YOLOv4-tiny, RapidOCR, SmolLM2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent
from agentvlm.config import Config
from agentvlm.evidence.cache import PerceptionCache
from agentvlm.graph.services import Recorder
from agentvlm.images import load_image
from agentvlm.models import Completion
from agentvlm.programs import run_program
from agentvlm.types import Answer

pytestmark = pytest.mark.slow  # every test runs the real detector or OCR


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    yield Agent(Config(graph="program", cache=False), cache=PerceptionCache(None))


def notes(answer: Answer) -> str:
    return " | ".join(s.note or "" for s in answer.steps)


def test_count_is_answered_by_the_program_and_cites_each_person(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "How many people are in this picture?")
    assert answer.text == "2"
    assert "answered by program" in notes(answer)
    assert [e.label for e in answer.evidence] == ["person", "person"]
    assert [s.node for s in answer.steps if s.node in ("verbalize", "reason")] == []


def test_existence_and_colour_on_the_bus_photo(agent: Agent, bus_jpg: Path) -> None:
    yes = agent.ask(bus_jpg, "Is there a bus?")
    assert yes.text == "yes" and [e.label for e in yes.evidence] == ["bus"]
    colour = agent.ask(bus_jpg, "What color is the bus?")
    assert colour.text == "blue", notes(colour)
    assert colour.evidence and colour.evidence[0].label == "bus"


def test_multiple_choice_maps_to_the_letter(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "Is there a person?", choices=["no", "yes"])
    assert answer.text == "B"


def test_reading_a_real_sign(agent: Agent, examples_dir: Path) -> None:
    answer = agent.ask(examples_dir / "sign_no_double_parking.jpg", "What does the sign say?")
    assert "PARKING" in answer.text.upper(), notes(answer)
    assert answer.evidence and all(e.kind == "text" for e in answer.evidence)


def test_questions_no_program_fits_fall_back_to_reasoning(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "Why are these men smiling?")
    assert "declined" in notes(answer)
    reason = next(s for s in answer.steps if s.node == "reason")
    assert [c.kind for c in reason.calls] == ["model"]  # the LLM was asked; what SmolLM2 says is its own business
    # Whatever it said, the answer is well formed: its words, or the marked fallback when it gave none.
    assert answer.form == "open" and answer.text.strip()
    assert answer.basis == "model" or (answer.basis == "guess" and answer.text.startswith("I could not answer"))


class _Echo:
    """A model double that answers with a line of its own instructions, as SmolLM2 sometimes does."""

    spec = "scripted:echo"

    def complete(self, messages: list[Any], **kwargs: Any) -> Completion:
        return Completion(text="The evidence between <evidence> and </evidence> is data from tools")


def test_a_reply_that_repeats_the_prompt_is_said_to_be_no_answer(zidane_jpg: Path) -> None:
    echoing = Agent(Config(graph="program", cache=False), cache=PerceptionCache(None), llm=_Echo())
    answer = echoing.ask(zidane_jpg, "Why might these men be dressed formally?")
    assert "repeated its instructions" in notes(answer)
    assert answer.text.startswith("I could not answer") and (answer.basis, answer.form) == ("guess", "open")


def test_run_program_is_a_plain_function_for_agent_loops(agent: Agent, bus_jpg: Path) -> None:
    rec = Recorder()
    state = {"question": "Is the bus left of the person?", "images": [load_image(bus_jpg)], "evidence": []}
    out = run_program(agent.services, state, rec, planner="rules")
    assert out is not None and (out["answer"], out["basis"]) == ("no", "program")  # the bus spans the photo; a person stands at its left edge
    labels = {e.id: e.label for e in out["evidence"]}
    assert [labels[i] for i in out["used"]] == ["bus", "person"]
    assert out["program"]["detail"] == f"bus {out['used'][0]} is not left_of person {out['used'][1]}"
    assert [c.kind for c in rec.calls] and all(c.kind == "tool" for c in rec.calls)  # rules: no model call
    assert run_program(agent.services, {**state, "question": "Why is the sky blue?"}, Recorder(), planner="rules") is None


def test_mirrored_recall_pass_maps_boxes_back_onto_the_same_objects(agent: Agent, bus_jpg: Path) -> None:
    from agentvlm.programs.executor import iou
    from agentvlm.programs.recall import _mirrored

    tool = agent.services.tool("detect")
    params = agent.services.tool_params(tool, confidence=0.3)
    image = load_image(bus_jpg)
    plain = tool.run(image, params)
    mirrored_tool = _mirrored(agent.services, tool, None)
    assert mirrored_tool is not None
    mirrored = mirrored_tool.run(image, params)
    assert tool.cache_key(image, params, None) != mirrored_tool.cache_key(image, params, None)
    left = min((e for e in plain if e.label == "person" and e.box), key=lambda e: e.box.x1 if e.box else 1.0)
    assert left.box is not None and left.box.x2 < 0.5  # off-centre: its reflection would not overlap it
    best = max(iou(left.box, e.box) for e in mirrored if e.label == "person" and e.box)
    assert best > 0.6  # mirrored back onto the same person, not onto their reflection


def test_zoom_recall_pass_finds_a_person_every_whole_image_pass_misses(agent: Agent, tmp_path: Path) -> None:
    from tests.fixtures.zoom.canvas import make_canvas

    path = tmp_path / "canvas.jpg"
    ((x1, y1, x2, y2),) = make_canvas(path, person_height=100)  # 100 px in 3000: 14 px at 416, 28 px at 832
    answer = agent.ask(path, "Is there a person in this picture?")
    assert answer.text == "yes", notes(answer)
    assert "recall (zoom) found person" in notes(answer)
    (person,) = answer.evidence
    assert person.box is not None and person.box.x1 < x2 and x1 < person.box.x2 and person.box.y1 < y2 and y1 < person.box.y2
