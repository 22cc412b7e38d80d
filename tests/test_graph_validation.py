"""``graph validate`` catches what would fail mid-run for structural reasons, with the file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm.errors import ConfigError
from agentvlm.graph import builtin_graphs, load_graph_spec
from agentvlm.graph.build import validate_spec

TAIL = """\
  - {from: segment, to: verbalize}
  - {from: verbalize, to: reason}
  - {from: reason, to: answer}
finish: answer
"""

PRISM_NODES = """\
name: broken
nodes:
  plan: {type: plan, params: {planner: rules}}
  perceive: {type: perceive%s}
  segment: {type: segment}
  verbalize: {type: verbalize}
  reason: {type: reason}
  answer: {type: answer}
entry: plan
edges:
"""

CASES = {
    "perceive as the entry (issue 15)": (
        ("name: bad\nnodes:\n  perceive: {type: perceive}\n  answer: {type: answer}\nentry: perceive\n"
         "edges:\n  - {from: perceive, to: answer}\nfinish: answer\n"),
        "node 'perceive' (perceive) runs only as a router's Send task", 5,
    ),
    "perceive reached by a plain edge": (
        PRISM_NODES % "" + "  - {from: plan, to: perceive}\n  - {from: perceive, to: segment}\n" + TAIL,
        "not through a plain edge", 11,
    ),
    "unknown tool name": (
        PRISM_NODES % ", params: {tools: {detect: yolo99}}" + "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n  - {from: perceive, to: segment}\n" + TAIL,
        "names unknown tool 'yolo99' for detect; known tools: darknet", 4,
    ),
    "tool of the wrong kind": (
        PRISM_NODES % ", params: {tools: {detect: rapidocr}}" + "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n  - {from: perceive, to: segment}\n" + TAIL,
        "the tool 'rapidocr', which does ocr, not detect", 4,
    ),
    "unknown tool kind": (
        PRISM_NODES % ", params: {tools: {read: rapidocr}}" + "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n  - {from: perceive, to: segment}\n" + TAIL,
        "names unknown tool kind 'read'; tool kinds: detect, ocr, segment", 4,
    ),
    "parameter of the wrong type": (
        (PRISM_NODES % "").replace("{type: verbalize}", "{type: verbalize, params: {budget: lots}}")
        + "  - {from: plan, router: fan_out_tools, to: [perceive, segment]}\n  - {from: perceive, to: segment}\n" + TAIL,
        "parameter 'budget' must be", 6,
    ),
    "router sends to a node the graph lacks": (
        (PRISM_NODES % "").replace("  perceive: {type: perceive}", "  look: {type: perceive}")
        + "  - {from: plan, router: fan_out_tools, to: [look, segment]}\n  - {from: look, to: segment}\n" + TAIL,
        "router 'fan_out_tools' goes to a node named 'perceive', and the graph has none", 11,
    ),
    "router target missing from to": (
        PRISM_NODES % "" + "  - {from: plan, router: fan_out_tools, to: [perceive]}\n  - {from: perceive, to: segment}\n" + TAIL,
        "router 'fan_out_tools' may go to 'segment'; list it in this edge's to", 11,
    ),
    "a node that needs the plan before any plan node": (
        ("name: bad\nnodes:\n  reason: {type: reason}\n  answer: {type: answer}\nentry: reason\n"
         "edges:\n  - {from: reason, to: answer}\nfinish: answer\n"),
        "node 'reason' (reason) reads the plan, but the graph can reach it before any plan node", 3,
    ),
    "by_next with a list": (
        builtin_graphs()["proreason"].read_text().replace("to: {act: act, finish: verbalize}", "to: [act, verbalize]"),
        "router 'by_next' follows the 'next' its node sets; give to as a mapping", 19,
    ),
    "by_next lacking a choice its node makes": (
        builtin_graphs()["proreason"].read_text().replace("to: {act: act, finish: verbalize}", "to: {act: act}"),
        "node 'dispatch' (dispatch) may choose act, finish; this edge's to lacks finish", 19,
    ),
}


@pytest.mark.parametrize(("case"), list(CASES))
def test_structural_mistakes_are_validate_errors_with_file_and_line(case: str, tmp_path: Path) -> None:
    text, message, line = CASES[case]
    path = tmp_path / "g.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        spec, source = load_graph_spec(path)
        from agentvlm.config import Config
        from agentvlm.graph import Services, compile_graph

        validate_spec(spec, source)
        compile_graph(spec, source, Services(Config(cache=False)))  # node factories check their own parameters
    assert message in str(err.value)
    assert f"{path}:{line}" in str(err.value)


@pytest.mark.slow
def test_the_issue_graph_fails_validate_and_ask_before_any_model(tmp_path: Path, bus_jpg: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(CASES["perceive as the entry (issue 15)"][0])
    for argv in (["graph", "validate", str(path)], ["ask", "--graph", str(path), str(bus_jpg), "How many people?"]):
        out = subprocess.run(check=False, args=[sys.executable, "-m", "agentvlm", *argv], capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and "runs only as a router's Send task" in out.stderr
        assert "internal error" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name", sorted(builtin_graphs()))
def test_every_builtin_graph_still_validates(name: str) -> None:
    spec, source = load_graph_spec(name)
    validate_spec(spec, source)


def test_a_fixed_tool_list_needs_no_idle_route(tmp_path: Path) -> None:
    """udkag's plan always sends detect and ocr, so fan_out_tools never returns 'segment' there."""
    text = builtin_graphs()["udkag"].read_text().replace("tools: [detect, ocr]", "tools: auto")
    path = tmp_path / "g.yaml"
    path.write_text(text)
    spec, source = load_graph_spec(path)
    with pytest.raises(ConfigError, match="goes to a node named 'segment'"):
        validate_spec(spec, source)
