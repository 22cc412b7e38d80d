"""List, show and validate graphs: the built-in ones by name, or your own YAML files."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["HELP", "add_arguments", "describe", "run"]

HELP = "list, show (text and Mermaid) or validate graphs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="graph_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="the built-in graphs")
    show = sub.add_parser("show", help="a graph's structure as text and as a Mermaid diagram")
    show.add_argument("graph", metavar="NAME_OR_FILE")
    show.add_argument("--png", metavar="FILE", help="also draw it as a PNG (needs pygraphviz, or network for mermaid.ink)")
    validate = sub.add_parser("validate", help="check a graph file without loading any model")
    validate.add_argument("graph", metavar="NAME_OR_FILE")


def _compiled(name: str) -> tuple[Any, Any, str]:
    from agentvlm.config import Config
    from agentvlm.graph import Services, compile_graph, load_graph_spec

    spec, source = load_graph_spec(name)
    return spec, compile_graph(spec, source, Services(Config(cache=False))), source


def describe(spec: Any) -> str:
    """The graph as plain text: nodes with their types, then edges and budgets."""
    lines = [f"graph {spec.name}: {spec.description}".rstrip(": "), "nodes:"]
    for node_id, node in spec.nodes.items():
        params = ", ".join(f"{k}={v}" for k, v in node.params.items())
        lines.append(f"  {node_id} ({node.type}{': ' + params if params else ''})")
    lines.append(f"entry: {spec.entry}   finish: {spec.finish}")
    lines.append("edges:")
    for edge in spec.edges:
        if edge.router:
            to = edge.to if isinstance(edge.to, str) else ", ".join(f"{k} -> {v}" for k, v in edge.to.items()) if isinstance(edge.to, dict) else " | ".join(edge.to)
            lines.append(f"  {edge.source} --[{edge.router}]--> {to}")
        else:
            lines.append(f"  {edge.source} --> {edge.to}")
    budgets = {k: v for k, v in spec.budgets.model_dump().items() if v is not None}
    if budgets:
        lines.append("budgets: " + ", ".join(f"{k}={v}" for k, v in budgets.items()))
    if spec.models:
        lines.append("models: " + ", ".join(f"{k}={v}" for k, v in spec.models.items()))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.graph_command == "list":
        from agentvlm.graph import builtin_graphs, load_graph_spec

        for name in builtin_graphs():
            spec, _ = load_graph_spec(name)
            print(f"{name:<12} {spec.description}")
        return 0
    spec, compiled, source = _compiled(args.graph)
    if args.graph_command == "validate":
        print(f"{source}: ok ({len(spec.nodes)} nodes, {len(spec.edges)} edges)")
        return 0
    print(describe(spec))
    print("\nmermaid:")
    print(compiled.get_graph().draw_mermaid())
    if args.png:
        _png(compiled, args.png)
    return 0


def _png(compiled: Any, path: str) -> None:
    from agentvlm.errors import MissingDependencyError

    drawing = compiled.get_graph()
    try:
        drawing.draw_png(path)
    except ImportError:
        try:
            data = drawing.draw_mermaid_png(max_retries=1, retry_delay=0.5)
        except Exception as exc:  # noqa: BLE001 (mermaid.ink over the network: any failure means no PNG)
            raise MissingDependencyError("pygraphviz", purpose=f"drawing a PNG offline (mermaid.ink failed: {type(exc).__name__})") from None
        with open(path, "wb") as fh:
            fh.write(data)
    print(f"wrote {path}")
