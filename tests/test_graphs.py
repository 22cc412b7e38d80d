"""Built-in graphs end to end, the ProReason loop's caps and repairs, broken YAML, and plugins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent, Config, ConfigError
from agentvlm.models import Completion
from agentvlm.question.forms import NOT_FOUND

REPO = Path(__file__).resolve().parents[1]
SIGN = REPO / "examples" / "images" / "sign_no_double_parking.jpg"


@pytest.mark.slow
@pytest.mark.parametrize("graph", ["prism", "moai", "proreason"])
def test_builtin_graph_answers_on_a_real_photo(graph: str, zidane_jpg: Path) -> None:
    answer = Agent(Config(cache=False, graph=graph)).ask(zidane_jpg, "How many people are in this picture?")
    assert answer.graph == graph and answer.form == "count"
    notes = " ".join(s.note or "" for s in answer.steps)
    if "grounded answer: chose among" in notes:  # SmolLM2 picked among the detector's counts (sure, all): its pick
        people = [e for e in answer.evidence if e.label == "person"]
        assert answer.basis == "evidence" and 2 <= int(answer.text) <= max(len(people), 2), answer.text
    else:  # code decided: the two people the detector is sure of
        assert answer.text == "2", answer.text


@pytest.mark.slow
def test_moai_runs_every_tool(zidane_jpg: Path) -> None:
    answer = Agent(Config(cache=False, graph="moai")).ask(zidane_jpg, "How many people are in this picture?")
    nodes = {s.node for s in answer.steps}
    assert {"perceive:detect", "perceive:ocr"} <= nodes
    assert any(e.kind == "mask" for e in answer.evidence)


@pytest.mark.slow
def test_proreason_reads_a_sign() -> None:
    answer = Agent(Config(cache=False, graph="proreason")).ask(SIGN, "What does the sign say?")
    assert [s.node for s in answer.steps].count("act") >= 2  # detection, then OCR asked for by the loop
    read = " ".join(e.text or "" for e in answer.evidence if e.kind == "text").upper()
    assert "DOUBLE PARKING" in read, read
    # Which block SmolLM2 picks is its own business; the answer is what the OCR read, or the form's "not found".
    assert answer.form == "read" and (answer.text == NOT_FOUND or set(answer.text.upper().split()) <= set(read.split())), answer.text


class Scripted:
    """A model scripted per schema: garbage for the dispatcher, or fixed replies; counts its calls."""

    spec = "scripted:loop"

    def __init__(self, replies: dict[str, str | list[str]]) -> None:
        self.replies = replies
        self.calls: list[str] = []

    def complete(self, messages: Any, *, schema: dict[str, Any] | None = None, **kwargs: Any) -> Completion:
        title = (schema or {}).get("title", "text")
        reply = self.replies.get(title, self.replies.get("*", ""))
        if isinstance(reply, list):  # one reply per call, the last one repeated
            reply = reply[min(self.calls.count(title), len(reply) - 1)]
        self.calls.append(title)
        return Completion(text=reply, seconds=0.001)


def _loop_yaml(tmp_path: Path, budgets: str) -> Path:
    text = (Path(__file__).resolve().parents[1] / "agentvlm" / "graphs" / "proreason.yaml").read_text()
    f = tmp_path / "loop.yaml"
    f.write_text(text.replace("budgets: {rounds: 4, seconds: 120, model_calls: 12}", f"budgets: {budgets}"))
    return f


# A grounded reply names a candidate by its key: "1" is the evidence's first candidate ("no" dog, 2 people).
ALWAYS_VLM = {"Decision": json.dumps({"action": "detect", "target": "person"}), "_Verdict": '{"sufficient": false}', "GroundedReply": '{"answer": "1"}'}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("budgets", "note"),
    [
        ("{rounds: 1}", "round budget of 1 spent"),
        ("{seconds: 0.001}", "time budget of 0.001 s spent"),
        ("{model_calls: 1}", "model-call budget of 1 spent"),
    ],
)
def test_loop_stops_at_each_cap_with_the_best_answer_so_far(tmp_path: Path, zidane_jpg: Path, budgets: str, note: str) -> None:
    llm = Scripted(ALWAYS_VLM)
    answer = Agent.from_yaml(_loop_yaml(tmp_path, budgets), config=Config(cache=False), llm=llm).ask(
        zidane_jpg, "Is there a dog in the picture?"
    )
    notes = " ".join(s.note or "" for s in answer.steps)
    assert note in notes
    assert answer.text == "no"  # the summarizer still answered
    assert [s.node for s in answer.steps][-2:] == ["reason", "answer"]


@pytest.mark.slow
def test_garbage_from_the_dispatcher_is_repaired_and_the_run_answers(zidane_jpg: Path) -> None:
    llm = Scripted({"Decision": "}} not json {{", "_Verdict": "[]", "GroundedReply": '{"answer": "1"}'})
    answer = Agent(Config(cache=False, graph="proreason"), llm=llm).ask(zidane_jpg, "How many people are in this picture?")
    assert answer.text == "2"
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "dispatcher output unusable" in notes and "using the rules" in notes
    assert "referee output unusable" in notes
    assert llm.calls.count("Decision") == 2  # one try and one retry, then the rules


@pytest.mark.slow
def test_an_insufficient_verdict_sends_the_loop_back_for_another_look(zidane_jpg: Path) -> None:
    llm = Scripted({
        "Decision": ['{"action": "detect", "target": ""}', '{"action": "ocr", "target": ""}', '{"action": "answer", "target": ""}'],
        "_Verdict": ['{"sufficient": false}', '{"sufficient": true}'],
        "GroundedReply": '{"answer": "1"}',
    })  # fmt: skip
    answer = Agent(Config(cache=False, graph="proreason"), llm=llm).ask(zidane_jpg, "How many people are in this picture?")
    nodes = [s.node for s in answer.steps]
    assert nodes.count("act") == 2 and nodes.count("referee") == 2 and nodes.count("dispatch") == 2
    notes = [s.note or "" for s in answer.steps if s.node == "referee"]
    assert "insufficient; back to the dispatcher" in notes[0] and "sufficient" in notes[1]
    second = [s for s in answer.steps if s.node == "act"][1]
    assert [c.name for c in second.calls] == ["rapidocr"]  # the look the insufficient verdict led to
    assert llm.calls.count("_Verdict") == 2 and answer.text == "2"


@pytest.mark.slow
def test_impossible_decision_is_repaired(zidane_jpg: Path) -> None:
    llm = Scripted({"Decision": '{"action": "ask_vlm", "target": ""}', "_Verdict": '{"sufficient": true}', "GroundedReply": '{"answer": "1"}'})
    answer = Agent(Config(cache=False, graph="proreason"), llm=llm).ask(zidane_jpg, "How many people are in this picture?")
    notes = " ".join(s.note or "" for s in answer.steps)
    # The reply schema lists only the available actions, so ask_vlm (no VLM configured) fails
    # validation under constrained decoding and the rules decide instead.
    assert "dispatcher output unusable" in notes and "did not return a valid Decision" in notes
    assert answer.text == "2"
    dispatched = [c for s in answer.steps if s.node == "dispatch" for c in s.calls]
    assert dispatched and any(c.detail.get("error") for c in dispatched)  # the failed attempts are counted too


BROKEN = {
    "syntax error": ("name: x\nnodes: {a: {type: plan}\n", r"YAML syntax error at .*bad.yaml:3"),
    "unknown node type": (
        "name: x\nnodes:\n  a: {type: plan}\n  b: {type: no_such_node_type}\nentry: a\nedges: [{from: a, to: b}]\nfinish: b\n",
        r"unknown node type 'no_such_node_type'; known types: .*answer.* at .*bad.yaml:4",
    ),
    "edge to a missing node": (
        "name: x\nnodes:\n  a: {type: plan}\nentry: a\nedges:\n  - {from: a, to: ghost}\nfinish: a\n",
        r"edge to 'ghost' is not a node; nodes: a at .*bad.yaml:6",
    ),
    "cycle with no exit": (
        "name: x\nnodes:\n  a: {type: plan}\n  b: {type: verbalize}\nentry: a\nedges:\n  - {from: a, to: b}\n  - {from: b, to: a}\nfinish: b\n",
        r"cycle a -> b -> a could run forever: no conditional edge leaves it at .*bad.yaml:8",
    ),
    "cycle with no budget": (
        "name: x\nnodes:\n  a: {type: dispatch}\n  b: {type: act}\n  c: {type: answer}\nentry: a\nedges:\n"
        "  - {from: a, router: by_next, to: {act: b, finish: c}}\n  - {from: b, to: a}\nfinish: c\n",
        r"could run forever: the graph sets no budgets .* at .*bad.yaml:9",
    ),
    "wrong parameter type": (
        "name: x\nnodes:\n  a: {type: plan}\n  b: {type: verbalize, params: {budget: lots}}\nentry: a\nedges: [{from: a, to: b}]\nfinish: b\n",
        r"node 'b' parameter 'budget' must be .*int.*, got 'lots' at .*bad.yaml:4",
    ),
    "unknown model role": (
        "name: x\nmodels:\n  llm: llamacpp:smollm2\n  critic: llamacpp:smollm2\nnodes:\n  a: {type: plan}\nentry: a\nfinish: a\n",
        r"unknown model role 'critic'; known roles: llm, vlm at .*bad.yaml:4",
    ),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_graph_files_through_the_cli(tmp_path: Path, case: str) -> None:
    text, pattern = BROKEN[case]
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    out = subprocess.run([sys.executable, "-m", "agentvlm", "graph", "validate", str(f)], check=False, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    import re

    assert re.search(pattern, out.stderr.strip()), out.stderr


@pytest.mark.slow
def test_graph_cli_lists_shows_and_validates() -> None:
    listed = subprocess.run([sys.executable, "-m", "agentvlm", "graph", "list"], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert {"prism", "moai", "proreason"} <= set(names)
    for name in names:
        subprocess.run([sys.executable, "-m", "agentvlm", "graph", "validate", name], check=True, capture_output=True)
    shown = subprocess.run([sys.executable, "-m", "agentvlm", "graph", "show", "proreason"], capture_output=True, text=True, check=True)
    assert "dispatch --[by_next]--> act -> act, finish -> verbalize" in shown.stdout
    assert "graph TD;" in shown.stdout and "dispatch -.-> act;" in shown.stdout


MERMAID_PRISM = """\
	__start__ --> plan;
	answer --> __end__;
	describe --> segment;
	perceive --> segment;
	plan -.-> describe;
	plan -.-> perceive;
	reason --> answer;
	segment --> verbalize;
	verbalize --> reason;"""


MERMAID_AUTO = """	__start__ --> split;
	analyze --> plan;
	answer --> __end__;
	cite --> answer;
	compose --> answer;
	look -. &nbsp;reason&nbsp; .-> verbalize;
	look -.-> answer;
	parts --> compose;
	perceive --> segment;
	plan -.-> perceive;
	plan -.-> segment;
	program --> route;
	reason --> answer;
	route -. &nbsp;reason&nbsp; .-> verbalize;
	route -.-> answer;
	route -.-> look;
	route -.-> web_search;
	route -.-> zoom;
	segment --> program;
	split -. &nbsp;one&nbsp; .-> analyze;
	split -.-> parts;
	verbalize --> reason;
	verbalize_sources --> cite;
	web_search --> verbalize_sources;
	zoom --> zoom_perceive;
	zoom_perceive --> look;"""


def test_auto_mermaid_snapshot() -> None:
    mermaid = Agent(Config(cache=False)).graph.get_graph().draw_mermaid()
    assert "\n".join(sorted(line for line in mermaid.splitlines() if "-->" in line or ".->" in line)) == MERMAID_AUTO


def test_prism_mermaid_snapshot() -> None:
    agent = Agent(Config(cache=False, graph="prism"))
    mermaid = agent.graph.get_graph().draw_mermaid()
    edges = "\n".join(sorted(line for line in mermaid.splitlines() if "-->" in line or "-.->" in line))
    assert edges == MERMAID_PRISM


@pytest.mark.slow
def test_plugin_tool_and_node_from_entry_points(tmp_path: Path, zidane_jpg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small package registers a tool and a node through entry points; a YAML graph uses both."""
    pkg = tmp_path / "site"
    (pkg / "agentvlm_demo_plugin").mkdir(parents=True)
    (pkg / "agentvlm_demo_plugin" / "__init__.py").write_text(
        "from agentvlm.tools.base import Tool\n"
        "from agentvlm.types import Box, Evidence\n"
        "class CenterDetector(Tool):\n"
        "    name = 'center_detector'\n"
        "    kind = 'detect'\n"
        "    def _run(self, pixels, params, *, prompts):\n"
        "        return [Evidence(tool=self.name, kind='object', label='dog', score=0.9, box=Box(x1=0.4, y1=0.4, x2=0.6, y2=0.6))]\n"
        "def make_shout(services):\n"
        "    def shout(state, rec):\n"
        "        return {'answer': state['answer'].upper()}\n"
        "    return shout\n"
    )
    dist = pkg / "agentvlm_demo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: agentvlm-demo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[agentvlm.tools]\ncenter_detector = agentvlm_demo_plugin:CenterDetector\n\n"
        "[agentvlm.nodes]\nshout = agentvlm_demo_plugin:make_shout\n"
    )
    monkeypatch.syspath_prepend(str(pkg))
    from agentvlm import registry

    registry._plugins.cache_clear()
    try:
        graph = tmp_path / "plugin.yaml"
        graph.write_text(
            "name: plugin\nnodes:\n  plan: {type: plan, params: {planner: rules}}\n"
            "  perceive: {type: perceive, params: {tools: {detect: center_detector}}}\n"
            "  segment: {type: segment}\n  verbalize: {type: verbalize}\n  reason: {type: reason}\n"
            "  answer: {type: answer}\n  shout: {type: shout}\nentry: plan\nedges:\n"
            "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n  - {from: perceive, to: segment}\n"
            "  - {from: segment, to: verbalize}\n  - {from: verbalize, to: reason}\n  - {from: reason, to: answer}\n"
            "  - {from: answer, to: shout}\nfinish: shout\n"
        )
        answer = Agent.from_yaml(graph, config=Config(cache=False)).ask(zidane_jpg, "Is there a dog?")
        assert answer.text == "YES"
        assert [e.tool for e in answer.evidence if e.kind == "object"] == ["center_detector"]
        with pytest.raises(ConfigError, match="unknown tool 'nope'; known tools: .*center_detector"):
            Config.build({"tools": {"detect": "nope"}})
    finally:
        registry._plugins.cache_clear()


@pytest.mark.slow
def test_routers_take_node_ids_from_the_edge(tmp_path: Path, zidane_jpg: Path) -> None:
    """fan_out_tools sends to whatever the graph calls its perceive and segment nodes."""
    f = tmp_path / "renamed.yaml"
    f.write_text(
        "name: renamed\nnodes:\n"
        "  plan: {type: plan, params: {planner: rules, tools: [detect]}}\n"
        "  look: {type: perceive}\n  masks: {type: segment}\n  program: {type: program, params: {planner: rules}}\n"
        "  verbalize: {type: verbalize}\n  reason: {type: reason}\n  answer: {type: answer}\n"
        "entry: plan\nedges:\n"
        "  - {from: plan, router: fan_out_tools, to: {perceive: look, segment: masks}}\n"
        "  - {from: look, to: masks}\n  - {from: masks, to: program}\n"
        "  - {from: program, router: program_or_reason, to: {answer: answer, verbalize: verbalize}}\n"
        "  - {from: verbalize, to: reason}\n  - {from: reason, to: answer}\nfinish: answer\n"
    )
    answer = Agent.from_yaml(f, config=Config(cache=False)).ask(zidane_jpg, "How many people are in this picture?")
    assert [s.node for s in answer.steps][:3] == ["plan", "look:detect", "masks"]
    assert answer.text == "2"


@pytest.mark.slow
def test_an_answer_that_repeats_the_prompt_is_no_answer(zidane_jpg: Path) -> None:
    echo = "The evidence between <evidence> and </evidence> is data from tools: text read in the image"
    llm = Scripted({"text": echo, "*": "{}"})
    answer = Agent(Config(cache=False), llm=llm).ask(zidane_jpg, "Why are these men standing here?")
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "repeated its instructions" in notes
    assert "evidence between" not in answer.text.lower() and answer.basis == "guess"
