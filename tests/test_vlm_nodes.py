"""The VLM perception nodes (describe, ask_vlm) with the tiny VLM through a whole graph and the Agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentvlm import Agent, Config
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import Plan
from agentvlm.look.nodes import NO_VLM_NOTE, make_ask_vlm, make_describe
from agentvlm.images import load_image
from tests.tiny_vlm import tiny_vlm_dir  # noqa: F401  (fixture)

pytest.importorskip("transformers")

GRAPH = """
name: describe-then-reason
nodes:
  plan: {type: plan, params: {planner: rules}}
  describe: {type: describe, params: {max_tokens: 8}}
  verbalize: {type: verbalize}
  reason: {type: reason}
  answer: {type: answer}
entry: plan
edges:
  - {from: plan, to: describe}
  - {from: describe, to: verbalize}
  - {from: verbalize, to: reason}
  - {from: reason, to: answer}
finish: answer
"""


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("graphs") / "describe.yaml"
    path.write_text(GRAPH)
    return path


def test_describe_adds_a_statement_beside_the_tools(tiny_vlm_dir: Path, graph_file: Path, bus_jpg: Path) -> None:  # noqa: F811
    spec = f"hf:{tiny_vlm_dir}"
    agent = Agent(Config(vlm=spec, graph=str(graph_file), cache=False))
    answer = agent.ask(bus_jpg, "Is there a bus?")
    statements = [e for e in answer.evidence if e.kind == "statement"]
    assert len(statements) == 1 and statements[0].tool == spec and statements[0].id == "vlm0" and statements[0].text
    step = next(s for s in answer.steps if s.node == "describe")
    assert [c.name for c in step.calls] == [spec] and step.calls[0].detail["role"] == "describe"
    assert answer.models["vlm"] == spec


def test_without_a_vlm_the_trace_says_so(graph_file: Path, bus_jpg: Path) -> None:
    answer = Agent(Config(graph=str(graph_file), cache=False)).ask(bus_jpg, "Is there a bus?")
    step = next(s for s in answer.steps if s.node == "describe")
    assert step.note == NO_VLM_NOTE and not step.calls
    assert not [e for e in answer.evidence if e.kind == "statement"]


def test_the_plan_instruction_drives_the_description(tiny_vlm_dir: Path, bus_jpg: Path, zidane_jpg: Path) -> None:  # noqa: F811
    services = Services(Config(vlm=f"hf:{tiny_vlm_dir}", cache=False))
    seen: list[str] = []
    vlm = services.vlm
    original = vlm.describe_batch

    def spy(requests):  # type: ignore[no-untyped-def]
        seen.extend(r.prompt for r in requests)
        return original(requests)

    vlm.describe_batch = spy
    try:
        state = {"question": "Is there a bus?", "images": [load_image(bus_jpg), load_image(zidane_jpg)],
                 "plan": Plan(instruction="Describe the image, especially the bus.", targets=["bus"])}
        rec = Recorder()
        update = make_describe(services, max_tokens=4)(state, rec)  # type: ignore[arg-type]
    finally:
        del vlm.describe_batch
    assert seen == ["Describe the image, especially the bus."] * 2
    assert [e.id for e in update["evidence"] if e.text] == [e.id for e in update["evidence"]]
    assert {e.image for e in update["evidence"]} <= {0, 1} and len(rec.calls) == 2


def test_ask_vlm_asks_about_each_target_with_a_probability(tiny_vlm_dir: Path, bus_jpg: Path) -> None:  # noqa: F811
    services = Services(Config(vlm=f"hf:{tiny_vlm_dir}", cache=False))
    state = {"question": "Is there a bus or a person?", "images": [load_image(bus_jpg)],
             "plan": Plan(targets=["bus", "person"])}
    rec = Recorder()
    update = make_ask_vlm(services, max_tokens=6)(state, rec)  # type: ignore[arg-type]
    assert [c.detail["target"] for c in rec.calls] == ["bus", "person"]
    assert all(0.0 <= c.detail["p_yes"] <= 1.0 and c.detail["method"] == "logits" for c in rec.calls)
    for ev in update.get("evidence", []):
        assert ev.kind == "statement" and ev.label in {"bus", "person"} and ev.score is not None


def test_ask_vlm_without_targets_or_vlm_adds_nothing(bus_jpg: Path) -> None:
    rec = Recorder()
    assert make_ask_vlm(Services(Config(cache=False)))({"images": [load_image(bus_jpg)], "plan": Plan()}, rec) == {}  # type: ignore[arg-type]
    assert rec.notes == [NO_VLM_NOTE]
