"""Questions with several parts, through the default graph on real photos: each part is answered from the
evidence that decides it, in its own form, and the answers are composed in the order asked.

The café photo and the menu are the ones ``test_auto_graph`` builds (a real photograph under a
rendered sign; a rendered chalkboard read by the real OCR).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm import Agent, Config
from agentvlm.parts import chains
from agentvlm.question.parts import Part
from tests.test_auto_graph import cafe, menu  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STREET = REPO / "examples" / "images" / "street_scene_pedestrians.jpg"


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent(Config(cache=False))


def _notes(answer: object) -> str:
    return " | ".join(s.note or "" for s in answer.steps)  # type: ignore[attr-defined]


def test_two_parts_get_two_answers_each_in_its_form(agent: Agent) -> None:
    answer = agent.ask(STREET, "How many people are in this picture, and is anyone on a bicycle?")
    assert [p.form for p in answer.parts] == ["count", "yes_no"] and answer.form == "parts"
    count, bike = answer.parts
    assert count.text.isdigit() and int(count.text) >= 4 and bike.text in ("yes", "no")
    assert answer.text == f"{count.text}; {bike.text}"
    assert (count.basis, bike.basis) == ("program", "program") and answer.basis == "program"
    assert answer.model_calls == 0  # both parts decided by programs
    assert count.evidence and all(e.startswith("p1.") for e in count.evidence)
    assert {e.id for e in answer.evidence} >= set(count.evidence)
    nodes = [s.node for s in answer.steps]
    assert nodes[0] == "split" and "part 1/program" in nodes and "part 2/program" in nodes and nodes[-2:] == ["compose", "answer"]


def test_a_part_that_computes_with_an_earlier_answer_is_code(agent: Agent) -> None:
    answer = agent.ask(STREET, "How many people are in the picture? And how many would there be if three more joined?")
    first, second = answer.parts
    assert second.text == str(int(first.text) + 3) and second.depends_on == 1 and second.basis == "program"
    assert f"{first.text} + 3 = {second.text}" in _notes(answer)
    assert answer.model_calls == 0


def test_a_part_that_refers_to_what_an_earlier_one_found_gets_its_answer(agent: Agent, menu: Path) -> None:  # noqa: F811
    answer = agent.ask(menu, "What is the cheapest drink and how much is it?")
    found, price = answer.parts
    assert price.depends_on == 1 and found.text.lower() in price.question.lower()
    prices = {"latte": "$3.20", "cappuccino": "$3.50", "tea": "$2.10", "muffin": "$1.70"}
    assert price.text == prices[found.text.lower()], (found, price)


def test_parts_about_different_things_each_use_their_own_evidence(agent: Agent, cafe: Path) -> None:  # noqa: F811
    answer = agent.ask(cafe, "Is there a cup on the table, and what time does the cafe open?")
    cup, opens = answer.parts
    assert cup.form == "yes_no" and cup.text in ("yes", "no")
    assert opens.form == "read" and opens.text.upper().replace(" ", "") == "7AM" and opens.basis == "program"


def test_a_part_that_cannot_be_decided_is_a_guess_and_sinks_nothing(agent: Agent) -> None:
    answer = agent.ask(STREET, "How many people are in this picture, and what is the man thinking about?")
    count, thought = answer.parts
    assert count.basis == "program" and count.text.isdigit()
    assert thought.basis in ("guess", "model") and answer.basis == thought.basis
    assert answer.text.startswith(f"{count.text}; ")


def test_a_question_of_one_part_runs_as_before(agent: Agent) -> None:
    answer = agent.ask(STREET, "How many people are in this picture?")
    assert not answer.parts and answer.form == "count"
    assert [s.node for s in answer.steps][:2] == ["split", "analyze"] and answer.model_calls == 0


def test_chains_keep_a_dependent_part_after_the_one_it_uses() -> None:
    parts = [Part(text="A?"), Part(text="B?"), Part(text="C?", depends_on=0, uses="value"), Part(text="D?", depends_on=2, uses="subject")]
    assert chains(parts) == [[0, 2, 3], [1]]


def test_parts_stream_as_steps(agent: Agent) -> None:
    events = list(agent.stream(STREET, "Is there a car, and how many people are there?"))
    steps = [e.step.node for e in events if e.kind == "step"]
    assert "split" in steps and steps.count("parts") == 2 and "compose" in steps
    assert events[-1].answer is not None and len(events[-1].answer.parts) == 2


def test_a_yaml_graph_can_use_the_splitter(tmp_path: Path) -> None:
    graph = tmp_path / "parts_then_prism.yaml"
    graph.write_text(
        "name: parts-prism\n"
        "nodes:\n"
        "  split: {type: split, params: {llm: false}}\n"
        "  parts: {type: parts, params: {graph: program}}\n"
        "  compose: {type: compose}\n"
        "  analyze: {type: analyze, params: {llm: false}}\n"
        "  plan: {type: plan, params: {planner: rules}}\n"
        "  perceive: {type: perceive}\n"
        "  segment: {type: segment}\n"
        "  verbalize: {type: verbalize}\n"
        "  reason: {type: reason}\n"
        "  answer: {type: answer}\n"
        "entry: split\n"
        "edges:\n"
        "  - {from: split, router: by_parts, to: {one: analyze, parts: parts}}\n"
        "  - {from: parts, to: compose}\n"
        "  - {from: compose, to: answer}\n"
        "  - {from: analyze, to: plan}\n"
        "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n"
        "  - {from: perceive, to: segment}\n"
        "  - {from: segment, to: verbalize}\n"
        "  - {from: verbalize, to: reason}\n"
        "  - {from: reason, to: answer}\n"
        "finish: answer\n"
    )
    answer = Agent(Config(graph=str(graph), cache=False)).ask(STREET, "Is there a car, and is there a bus?")
    assert [p.form for p in answer.parts] == ["yes_no", "yes_no"] and all(p.text in ("yes", "no") for p in answer.parts)


def test_json_and_the_chat_trace_show_the_parts() -> None:
    question = "How many people are in this picture, and is there a car?"
    out = subprocess.run([sys.executable, "-m", "agentvlm", "ask", "--json", str(STREET), question],
                         capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert data["form"] == "parts" and [p["n"] for p in data["parts"]] == [1, 2]
    assert data["text"] == "; ".join(p["text"] for p in data["parts"])
    chat = subprocess.run([sys.executable, "-m", "agentvlm", "chat", str(STREET)], input=f"{question}\n/trace\n/quit\n",
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    assert "part 1: How many people are in this picture? ->" in chat.stdout and "part 2: Is there a car? ->" in chat.stdout
