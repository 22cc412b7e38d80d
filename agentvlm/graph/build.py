"""Build, validate, compile: a ``GraphSpec`` plus ``Services`` becomes a compiled LangGraph graph."""

from __future__ import annotations

import inspect
import time
from typing import Any

from langgraph.graph import END, START, StateGraph

from agentvlm import registry
from agentvlm.errors import ConfigError
from agentvlm.graph.nodes import NodeFn
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.spec import GraphSpec, line_of
from agentvlm.graph.state import GraphState
from agentvlm.types import Step

__all__ = ["compile_graph", "validate_spec"]


def validate_spec(spec: GraphSpec, source: str) -> None:
    """Reject unknown node types and routers, bad parameters and dangling edges, citing the line."""

    def fail(msg: str, loc: list[str | int]) -> None:
        raise ConfigError(f"{msg} at {source}:{line_of(source, loc)}")

    node_types, routers = registry.known("nodes"), registry.known("routers")
    for node_id, node in spec.nodes.items():
        if node.type not in node_types:
            fail(f"unknown node type '{node.type}'; known types: {', '.join(sorted(node_types))}", ["nodes", node_id, "type"])
        accepted = [p for p in inspect.signature(registry.load("nodes", node.type)).parameters if p != "services"]
        for param in node.params:
            if param not in accepted:
                fail(
                    f"node '{node_id}' ({node.type}) has no parameter '{param}'; it takes: {', '.join(accepted) or 'none'}",
                    ["nodes", node_id, "params", param],
                )
    for key in ("entry", "finish"):
        if getattr(spec, key) not in spec.nodes:
            fail(f"{key} '{getattr(spec, key)}' is not a node; nodes: {', '.join(spec.nodes)}", [key])
    for i, edge in enumerate(spec.edges):
        for end, loc in [(edge.source, "source"), *((t, "to") for t in _targets(edge))]:
            if end not in spec.nodes:
                fail(f"edge {loc} '{end}' is not a node; nodes: {', '.join(spec.nodes)}", ["edges", i, loc])
        if edge.router is not None and edge.router not in routers:
            fail(f"unknown router '{edge.router}'; known routers: {', '.join(sorted(routers))}", ["edges", i, "router"])
        if edge.router is None and isinstance(edge.to, list):
            fail("a plain edge goes to one node; give a router to choose among several", ["edges", i, "to"])


def _targets(edge: Any) -> list[str]:
    return edge.to if isinstance(edge.to, list) else [edge.to]


def _recorded(node_id: str, fn: NodeFn) -> Any:
    def run(state: GraphState) -> dict[str, Any]:
        rec = Recorder()
        start = time.perf_counter()
        update = fn(state, rec)
        step = Step(
            node=f"{node_id}:{state['perceive']}" if state.get("perceive") else node_id,
            seconds=round(time.perf_counter() - start, 4),
            calls=rec.calls,
            note="; ".join(rec.notes) or None,
        )
        return {**update, "steps": [step]}

    run.__name__ = node_id
    return run


def compile_graph(spec: GraphSpec, source: str, services: Services) -> Any:
    """The compiled LangGraph graph for ``spec``, its nodes bound to ``services``."""
    validate_spec(spec, source)
    builder = StateGraph(GraphState)
    for node_id, node in spec.nodes.items():
        try:
            fn = registry.load("nodes", node.type)(services, **node.params)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad parameters for node '{node_id}' at {source}:{line_of(source, ['nodes', node_id])}: {exc}") from None
        builder.add_node(node_id, _recorded(node_id, fn))
    builder.add_edge(START, spec.entry)
    for edge in spec.edges:
        if edge.router:
            builder.add_conditional_edges(edge.source, registry.load("routers", edge.router), _targets(edge))
        else:
            builder.add_edge(edge.source, _targets(edge)[0])
    builder.add_edge(spec.finish, END)
    return builder.compile(name=spec.name)
