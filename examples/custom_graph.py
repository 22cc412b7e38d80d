"""Run your own graph: validate ``examples/custom_graph.yaml`` from Python, then ask a question with it.

The graph file wires registered node types (analyze -> plan -> perceive -> verbalize ->
reason -> answer) and overrides some of their parameters. This script checks it the way
``agentvlm graph validate`` does, before any model loads, shows the error a typo gets,
then loads it by path with ``Agent.from_yaml`` and asks a question.

Run it from the repository root:

    python examples/custom_graph.py
    python examples/custom_graph.py examples/images/sign_copy_centre_shop.jpg "What does the sign say?"
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from agentvlm import Agent, ConfigError
from agentvlm.graph import load_graph_spec, validate_spec

HERE = Path(__file__).resolve().parent
GRAPH = HERE / "custom_graph.yaml"
IMAGE = HERE / "images" / "street_scene_pedestrians.jpg"
QUESTION = "How many people are in this picture?"


def validate(path: Path) -> None:
    """What ``agentvlm graph validate PATH`` checks: node types, parameters, edges, routers; no model loads."""
    spec, source = load_graph_spec(path)
    validate_spec(spec, source)
    print(f"{source}: ok ({len(spec.nodes)} nodes, {len(spec.edges)} edges)")


def show_a_typo(path: Path) -> None:
    """The same graph with a misspelt node type: the error names the file, the line and the valid types."""
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / "broken.yaml"
        broken.write_text(
            path.read_text(encoding="utf-8").replace("type: verbalize", "type: verbalise"),
            encoding="utf-8",
        )
        try:
            validate(broken)
        except ConfigError as exc:
            print(f"a typo is caught before any model loads: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "image", nargs="?", default=str(IMAGE), help="an image path, URL or data URI"
    )
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument(
        "--graph",
        default=str(GRAPH),
        help="a graph YAML file (default: examples/custom_graph.yaml)",
    )
    args = parser.parse_args()

    graph = Path(args.graph)
    validate(graph)
    show_a_typo(graph)

    # Compiles the graph; the models still load only on the first question.
    agent = Agent.from_yaml(graph)
    nodes = [n for n in agent.graph.get_graph().nodes if not n.startswith("__")]
    print(f"graph {agent.spec.name}: {' -> '.join(nodes)}")
    answer = agent.ask(args.image, args.question)
    print(f"answer: {answer.text}")
    print(
        f"form: {answer.form}  basis: {answer.basis}  model calls: {answer.model_calls}  graph: {answer.graph}"
    )
    print("steps: " + ", ".join(step.node for step in answer.steps))


if __name__ == "__main__":
    main()
