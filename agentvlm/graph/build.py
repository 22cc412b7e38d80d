"""Build, validate, compile: a ``GraphSpec`` plus ``Services`` becomes a compiled LangGraph graph."""

from __future__ import annotations

import inspect
import time
import typing
from typing import Any

from langgraph.graph import END, START, StateGraph
from pydantic import TypeAdapter, ValidationError

from agentvlm import registry
from agentvlm.errors import ConfigError
from agentvlm.graph.nodes import NodeFn
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.spec import MODEL_ROLES, GraphSpec, line_of
from agentvlm.graph.state import GraphState
from agentvlm.models.specs import parse_spec
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
        factory = registry.load("nodes", node.type)
        accepted = [p for p in inspect.signature(factory).parameters if p != "services"]
        hints = typing.get_type_hints(factory)
        for param, value in node.params.items():
            if param not in accepted:
                fail(
                    f"node '{node_id}' ({node.type}) has no parameter '{param}'; it takes: {', '.join(accepted) or 'none'}",
                    ["nodes", node_id, "params", param],
                )
            if param in hints:
                try:
                    TypeAdapter(hints[param]).validate_python(value, strict=True)
                except ValidationError:
                    expected = getattr(hints[param], "__name__", None) or str(hints[param]).replace("typing.", "")
                    fail(
                        f"node '{node_id}' parameter '{param}' must be {expected}, got {value!r}",
                        ["nodes", node_id, "params", param],
                    )
    for role, model_spec in spec.models.items():
        if role not in MODEL_ROLES:
            fail(f"unknown model role '{role}'; known roles: {', '.join(MODEL_ROLES)}", ["models", role])
        try:
            parse_spec(model_spec)
        except ConfigError as exc:
            fail(str(exc), ["models", role])
    for key in ("entry", "finish"):
        if getattr(spec, key) not in spec.nodes:
            fail(f"{key} '{getattr(spec, key)}' is not a node; nodes: {', '.join(spec.nodes)}", [key])
    for i, edge in enumerate(spec.edges):
        for end, loc in [(edge.source, "source"), *((t, "to") for t in _targets(edge))]:
            if end not in spec.nodes:
                fail(f"edge {loc} '{end}' is not a node; nodes: {', '.join(spec.nodes)}", ["edges", i, loc])
        if edge.router is not None and edge.router not in routers:
            fail(f"unknown router '{edge.router}'; known routers: {', '.join(sorted(routers))}", ["edges", i, "router"])
        if edge.router is None and not isinstance(edge.to, str):
            fail("a plain edge goes to one node; give a router to choose among several", ["edges", i, "to"])
    cycle = _find_cycle(spec)
    if cycle is not None:
        path, first_edge = cycle
        exits = any(spec.edges[i].router for i in _cycle_edges(spec, path))
        if not exits or not spec.budgets.any():
            why = "no conditional edge leaves it" if not exits else "the graph sets no budgets (rounds, seconds or model_calls)"
            fail(f"cycle {' -> '.join([*path, path[0]])} could run forever: {why}", ["edges", first_edge])


def _successors(spec: GraphSpec) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {n: [] for n in spec.nodes}
    for i, edge in enumerate(spec.edges):
        for target in _targets(edge):
            out.setdefault(edge.source, []).append((target, i))
    return out


def _find_cycle(spec: GraphSpec) -> tuple[list[str], int] | None:
    """The first cycle reachable from the entry, as its node path and the index of its first edge."""
    succ = _successors(spec)
    stack: list[tuple[str, int]] = []
    state: dict[str, int] = {}

    def visit(node: str, via: int) -> tuple[list[str], int] | None:
        state[node] = 1
        stack.append((node, via))
        for nxt, edge in succ.get(node, []):
            if state.get(nxt) == 1:
                names = [n for n, _ in stack]
                start = names.index(nxt)
                return names[start:], edge
            if nxt not in state and (found := visit(nxt, edge)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    return visit(spec.entry, -1)


def _cycle_edges(spec: GraphSpec, path: list[str]) -> list[int]:
    pairs = set(zip(path, [*path[1:], path[0]]))
    return [i for i, e in enumerate(spec.edges) for t in _targets(e) if (e.source, t) in pairs]


def _targets(edge: Any) -> list[str]:
    if isinstance(edge.to, dict):
        return list(edge.to.values())
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


def compile_graph(spec: GraphSpec, source: str, services: Services, *, checkpointer: Any = None) -> Any:
    """The compiled LangGraph graph for ``spec``, its nodes bound to ``services``.

    A ``checkpointer`` (e.g. LangGraph's ``SqliteSaver``) persists each run's state per thread.
    """
    validate_spec(spec, source)
    services.budgets = spec.budgets
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
            path_map: Any = edge.to if isinstance(edge.to, dict) else _targets(edge)
            builder.add_conditional_edges(edge.source, registry.load("routers", edge.router), path_map)
        else:
            builder.add_edge(edge.source, _targets(edge)[0])
    builder.add_edge(spec.finish, END)
    return builder.compile(name=spec.name, checkpointer=checkpointer)
