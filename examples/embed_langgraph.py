"""Embed agentvlm's compiled graph as a subgraph of your own LangGraph ``StateGraph``.

Your graph here is ``pick -> agentvlm -> format``: ``pick`` takes the question out of a
user's message and loads the image (``Agent.graph_input``), ``agentvlm`` is ``agent.graph``
(the compiled agentvlm graph) added as a node, and ``format`` writes your application's
reply around agentvlm's answer. Your state extends ``agentvlm.graph.GraphState``, so the
subgraph reads its inputs from it and writes ``answer``, ``basis`` and ``steps`` back.

Run it from the repository root:

    python examples/embed_langgraph.py
    python examples/embed_langgraph.py examples/images/sign_no_double_parking.jpg "Hi there. What does the sign say? Thanks!"
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

from agentvlm import Agent
from agentvlm.graph import GraphState

HERE = Path(__file__).resolve().parent
IMAGE = HERE / "images" / "street_scene_pedestrians.jpg"
MESSAGE = "Hello! How many people are in this picture? Thanks."


class AppState(GraphState, total=False):
    """Your application's state: its own keys beside agentvlm's."""

    message: str  # what the user wrote
    image_path: str  # the image they sent
    reply: str  # what your application answers


def build_app(agent: Agent) -> Any:
    """Your graph, with agentvlm's compiled graph as the node ``agentvlm``."""

    def pick(state: AppState) -> dict[str, Any]:
        # The first sentence that ends with "?" is the question; else the whole message.
        questions = re.findall(r"[^.!?]*\?", state["message"])
        question = questions[0].strip() if questions else state["message"]
        # The state agentvlm's graph starts from: the image checked and referenced, the question.
        return agent.graph_input(state["image_path"], question)

    def format_reply(state: AppState) -> dict[str, Any]:
        looked = ", ".join(step.node for step in state.get("steps", []))
        basis = state.get("basis", "?")
        reply = f"[my-app] You asked: {state['question']} | agentvlm says: {state['answer']}"
        return {"reply": f"{reply} (decided by {basis}; steps: {looked})"}

    builder = StateGraph(AppState)
    builder.add_node("pick", pick)
    builder.add_node("agentvlm", agent.graph)  # a compiled graph is a node like any other
    builder.add_node("format", format_reply)
    builder.add_edge(START, "pick")
    builder.add_edge("pick", "agentvlm")
    builder.add_edge("agentvlm", "format")
    builder.add_edge("format", END)
    return builder.compile(name="my_app")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default=str(IMAGE), help="an image path")
    parser.add_argument(
        "message", nargs="?", default=MESSAGE, help="a user's message containing a question"
    )
    args = parser.parse_args()

    app = build_app(Agent())
    nodes = [n for n in app.get_graph(xray=1).nodes if not n.startswith("__")]
    # Yours, and agentvlm's inside it; app.get_graph(xray=1).draw_mermaid() draws them.
    print("nodes: " + ", ".join(nodes))
    final = app.invoke({"message": args.message, "image_path": args.image})
    print(final["reply"])


if __name__ == "__main__":
    main()
