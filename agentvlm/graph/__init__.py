"""LangGraph graphs built from YAML specs and the node registry."""

from agentvlm.graph.build import compile_graph, validate_spec
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.spec import GraphSpec, builtin_graphs, load_graph_spec
from agentvlm.graph.state import GraphState, Plan

__all__ = [
    "GraphSpec",
    "GraphState",
    "Plan",
    "Recorder",
    "Services",
    "builtin_graphs",
    "compile_graph",
    "load_graph_spec",
    "validate_spec",
]
