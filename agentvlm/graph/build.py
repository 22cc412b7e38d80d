"""Build, validate, compile: a ``GraphSpec`` plus ``Services`` becomes a compiled LangGraph graph."""

from __future__ import annotations

import inspect
import time
import typing
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from pydantic import TypeAdapter, ValidationError

from agentvlm import registry
from agentvlm.errors import ConfigError
from agentvlm.graph.nodes import NodeFn
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.spec import MODEL_ROLES, GraphSpec, line_of
from agentvlm.graph.state import GraphState
from agentvlm.models.specs import parse_spec
from agentvlm.tools import kind_names
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
    _check_tools(spec, fail)
    _check_flow(spec, fail)


def _check_tools(spec: GraphSpec, fail: Any) -> None:
    """A node's ``tools: {kind: name}`` must name registered tools of that kind."""
    tools = registry.known("tools")
    for node_id, node in spec.nodes.items():
        chosen = node.params.get("tools")
        if not isinstance(chosen, dict):
            continue
        kinds = kind_names()
        for kind, name in chosen.items():
            loc: list[str | int] = ["nodes", node_id, "params", "tools", kind]
            if kind not in kinds:
                fail(f"node '{node_id}' names unknown tool kind '{kind}'; tool kinds: {', '.join(kinds)}", loc)
            if not isinstance(name, str) or name not in tools:
                fail(f"node '{node_id}' names unknown tool {name!r} for {kind}; known tools: {', '.join(sorted(tools))}", loc)
            try:
                actual = getattr(registry.load("tools", name), "kind", kind)
            except ConfigError as exc:
                fail(str(exc), loc)
            if actual != kind:
                fail(f"node '{node_id}' gives {kind} the tool '{name}', which does {actual}, not {kind}", loc)


def _check_flow(spec: GraphSpec, fail: Any) -> None:
    """What the built-in nodes and routers need from the graph's shape: Send payloads, route targets, a plan first."""
    flow = registry.FLOW
    types = {n: node.type for n, node in spec.nodes.items()}
    for i, edge in enumerate(spec.edges):
        route = flow.routes.get(edge.router or "")
        if route is None:
            continue
        targets = _targets(edge)
        names = list(edge.to) if isinstance(edge.to, dict) else targets
        source = spec.nodes.get(edge.source)
        fixed = source.params.get("tools") if source is not None and source.type == "plan" else None
        idle = () if isinstance(fixed, list) and any(t != "segment" for t in fixed) else route.idle
        for target in (*route.sends, *route.returns, *idle):
            dest = edge.to.get(target, target) if isinstance(edge.to, dict) else target
            if dest not in spec.nodes:
                fail(f"router '{edge.router}' goes to a node named '{target}', and the graph has none; nodes: {', '.join(spec.nodes)}", ["edges", i, "to"])
            if target not in names:
                fail(f"router '{edge.router}' may go to '{target}'; list it in this edge's to: [{', '.join(route.sends + route.returns + idle)}]", ["edges", i, "to"])
        if route.keys:
            if not isinstance(edge.to, dict):
                fail(f"router '{edge.router}' follows the 'next' its node sets; give to as a mapping, e.g. {{act: act, finish: verbalize}}", ["edges", i, "to"])
            values = flow.next_values.get(types.get(edge.source, ""), ())
            missing = [v for v in values if v not in edge.to]
            if missing:
                fail(f"node '{edge.source}' ({types[edge.source]}) may choose {', '.join(values)}; this edge's to lacks {', '.join(missing)}", ["edges", i, "to"])
    for node_id, kind in types.items():
        if kind not in flow.send_payload:
            continue
        senders = [r for r, route in flow.routes.items() if kind in route.sends]
        how = f"a router's Send task ({' or '.join(senders) or 'fan_out_tools, fan_out_perception, with the node named perceive'})"
        if node_id == spec.entry:
            fail(f"node '{node_id}' ({kind}) runs only as {how}, so it cannot be the entry; start with a plan node", ["entry"])
        for i, edge in enumerate(spec.edges):
            if node_id in _targets(edge) and edge.router not in senders:
                via = f"router '{edge.router}'" if edge.router else "a plain edge"
                fail(f"node '{node_id}' ({kind}) runs only as {how}, not through {via}", ["edges", i, "to"])
    reached = _reach_without_plan(spec)
    for node_id in reached:
        if types[node_id] in flow.needs_plan:
            fail(
                f"node '{node_id}' ({types[node_id]}) reads the plan, but the graph can reach it before any plan node; "
                "put a node of type plan first",
                ["nodes", node_id, "type"],
            )


def _reach_without_plan(spec: GraphSpec) -> list[str]:
    """Nodes reachable from the entry on a path with no ``plan`` node, in order found."""
    succ = _successors(spec)
    seen: list[str] = []
    todo = [spec.entry]
    while todo:
        node = todo.pop()
        if node in seen or spec.nodes[node].type == "plan":
            continue
        seen.append(node)
        todo += [nxt for nxt, _ in succ.get(node, [])]
    return seen


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
        return {**update, "steps": [*update.get("steps", []), step]}

    run.__name__ = node_id
    return run


def _routed(router: Any, to: Any) -> Any:
    """``router`` with the node ids it names (``Send("perceive")``, ``"segment"``) read from the
    edge's ``to`` mapping, so a graph may call its nodes what it likes."""
    if not isinstance(to, dict):
        return router

    def route(state: GraphState) -> Any:
        out = router(state)
        if isinstance(out, list):
            return [Send(to.get(s.node, s.node), s.arg) if isinstance(s, Send) else s for s in out]
        return out

    route.__name__ = getattr(router, "__name__", "router")
    return route


def compile_graph(spec: GraphSpec, source: str, services: Services, *, checkpointer: Any = None) -> Any:
    """The compiled LangGraph graph for ``spec``, its nodes bound to ``services``.

    A ``checkpointer`` (e.g. LangGraph's ``SqliteSaver``) persists each run's state per thread.
    """
    validate_spec(spec, source)
    chosen: dict[str, str] = {}
    for node in spec.nodes.values():
        if node.type == "perceive" and isinstance(node.params.get("tools"), dict):
            chosen.update(node.params["tools"])
    services = services.for_graph(budgets=spec.budgets, tools=chosen)
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
            builder.add_conditional_edges(edge.source, _routed(registry.load("routers", edge.router), edge.to), path_map)
        else:
            builder.add_edge(edge.source, _targets(edge)[0])
    builder.add_edge(spec.finish, END)
    return builder.compile(name=spec.name, checkpointer=checkpointer)
