"""Each built-in graph as a compiled LangGraph graph, for ``langgraph dev`` and LangGraph Studio.

``langgraph.json`` at the repository root names the attributes of this module. Each graph
takes ``{"image": PATH_OR_DATA_URI, "question": ...}`` (or ``"images": [...]``, and
``"choices"``), loads and validates the image in a ``load`` node, then runs agentvlm's own
compiled graph as a subgraph, so Studio draws every node and the thread's state holds the
``answer``, ``evidence`` and ``steps``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from agentvlm.graph.state import GraphState

__all__ = ["GRAPHS", "AgentInput", "auto", "build", "moai", "prism", "program", "proreason", "udkag", "zoomeye"]

GRAPHS = ("auto", "moai", "prism", "program", "proreason", "udkag", "zoomeye")
"""The built-in graphs exposed here; ``langgraph.json`` lists the same names."""


class AgentInput(TypedDict, total=False):
    """What a LangGraph client sends: an image (a path on the server, or a data URI) and a question."""

    image: str
    images: list[str]
    question: str
    choices: list[str]


class _State(GraphState, total=False):
    image: str


def build(graph: str | None = None) -> Any:
    """``load -> agentvlm`` for the built-in graph ``graph`` (default: ``Agent()``'s), compiled.

    Example:
        >>> build("prism").invoke({"image": "photo.jpg", "question": "How many people?"})["answer"]  # doctest: +SKIP
    """
    from langgraph.graph import END, START, StateGraph

    from agentvlm.agent import Agent

    agent = Agent(graph=graph) if graph else Agent()
    uploads = Path(tempfile.gettempdir()) / "agentvlm-langgraph"

    def load(state: _State) -> dict[str, Any]:
        from agentvlm.errors import InputError
        from agentvlm.images import ImageLimits, load_image
        from agentvlm.serve.inputs import image_ref

        question = str(state.get("question") or "").strip()
        if not question:
            raise InputError("the input needs a question: {\"image\": \"photo.jpg\", \"question\": \"How many people?\"}")
        given: list[Any] = list(state.get("images") or []) or ([state["image"]] if state.get("image") else [])
        sources = [str(s) for s in given]
        if not sources:
            raise InputError("the input needs an image: a path on the server or a data:image/...;base64 URI")
        limits = ImageLimits(max_bytes=50 * 2**20, max_pixels=agent.config.max_pixels)
        refs = [image_ref(s, uploads, limits=limits) if s.startswith("data:") else load_image(s, max_pixels=agent.config.max_pixels) for s in sources]
        return {"started": time.time(), "question": question, "choices": list(state.get("choices") or []), "images": refs}

    builder = StateGraph(_State, input_schema=AgentInput)
    builder.add_node("load", load)
    builder.add_node("agentvlm", agent.graph)
    builder.add_edge(START, "load")
    builder.add_edge("load", "agentvlm")
    builder.add_edge("agentvlm", END)
    return builder.compile(name=agent.spec.name)


auto = build("auto")
moai = build("moai")
prism = build("prism")
program = build("program")
proreason = build("proreason")
udkag = build("udkag")
zoomeye = build("zoomeye")
