"""Graph YAML: the built-in graph validates; broken files fail with the file, line and valid choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentvlm import Agent, Config, ConfigError
from agentvlm.graph import builtin_graphs, load_graph_spec

GOOD = """\
name: mini
nodes:
  plan: {type: plan, params: {planner: rules}}
  perceive: {type: perceive}
  segment: {type: segment}
  verbalize: {type: verbalize, params: {budget: 200}}
  reason: {type: reason}
  answer: {type: answer}
entry: plan
edges:
  - {from: plan, router: fan_out_tools, to: [perceive, segment]}
  - {from: perceive, to: segment}
  - {from: segment, to: verbalize}
  - {from: verbalize, to: reason}
  - {from: reason, to: answer}
finish: answer
"""


def test_builtin_prism_ships_in_the_package() -> None:
    graphs = builtin_graphs()
    assert "prism" in graphs and graphs["prism"].is_file()
    spec, _ = load_graph_spec("prism")
    assert spec.entry == "plan" and spec.finish == "answer"


@pytest.mark.slow
def test_custom_graph_file_runs(tmp_path: Path, bus_jpg: Path) -> None:
    f = tmp_path / "mini.yaml"
    f.write_text(GOOD)
    agent = Agent.from_yaml(f, config=Config(cache=False))
    answer = agent.ask(bus_jpg, "Is there a bus?")
    assert answer.graph == "mini" and answer.text.lower().startswith("yes")


BROKEN = [
    ("syntax error", GOOD.replace("entry: plan", "entry: [plan"), r"YAML syntax error at .*:\d+"),
    ("unknown node type", GOOD.replace("{type: perceive}", "{type: no_such_node_type}"),
     r"unknown node type 'no_such_node_type'; known types: .*perceive, plan.* at .*mini.yaml:4$"),
    ("edge to a missing node", GOOD.replace("{from: reason, to: answer}", "{from: reason, to: nowhere}"),
     r"edge to 'nowhere' is not a node; nodes: plan, .* at .*mini.yaml:15$"),
    ("unknown parameter", GOOD.replace("{budget: 200}", "{budgett: 200}"),
     r"node 'verbalize' \(verbalize\) has no parameter 'budgett'; it takes: budget at .*mini.yaml:6$"),
    ("unknown router", GOOD.replace("fan_out_tools", "fan_out_everything"),
     r"unknown router 'fan_out_everything'; known routers: .*fan_out_tools.* at .*mini.yaml:11$"),
    ("unknown key", GOOD.replace("entry: plan", "entry: plan\nentree: plan"), r"unknown key 'entree' at .*mini.yaml:10"),
    ("missing entry", GOOD.replace("entry: plan\n", ""), r"missing key 'entry' in .*mini.yaml"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "pattern"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_graphs_fail_with_file_and_line(tmp_path: Path, case: str, text: str, pattern: str) -> None:
    f = tmp_path / "mini.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        Agent.from_yaml(f, config=Config(cache=False))
