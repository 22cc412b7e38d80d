"""Name-to-code registries for everything YAML, configs and the CLI may name: node types,
routers, tools, tool kinds (``agentvlm.tools.kinds``) and ProReason's actions (``agentvlm.graph.actions``).

Entries are ``"module:attribute"`` strings, imported only when used. Third-party
packages add their own through Python entry points, so YAML never imports or
runs arbitrary code, only names some installed package registered:

    # pyproject.toml of a plugin package
    [project.entry-points."agentvlm.tools"]
    my_detector = "my_pkg.detector:MyDetector"
    [project.entry-points."agentvlm.nodes"]
    my_node = "my_pkg.nodes:make_my_node"
    [project.entry-points."agentvlm.kinds"]
    qr = "my_pkg:QR_KIND"

Each package's entries name its own code (``program`` -> ``agentvlm.programs.node``), so
``graph/`` imports none of ``programs/``, ``zoom/``, ``look/``, ``parts/`` or ``retrieval/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from agentvlm.errors import ConfigError

__all__ = ["BUILTIN", "FLOW", "GROUPS", "Route", "known", "load"]

GROUPS = {
    "nodes": "agentvlm.nodes",
    "routers": "agentvlm.routers",
    "tools": "agentvlm.tools",
    "kinds": "agentvlm.kinds",
    "actions": "agentvlm.actions",
}

BUILTIN: dict[str, dict[str, str]] = {
    "nodes": {
        "analyze": "agentvlm.graph.nodes:make_analyze",
        "plan": "agentvlm.graph.nodes:make_plan",
        "perceive": "agentvlm.graph.nodes:make_perceive",
        "segment": "agentvlm.graph.nodes:make_segment",
        "verbalize": "agentvlm.graph.nodes:make_verbalize",
        "reason": "agentvlm.graph.nodes:make_reason",
        "answer": "agentvlm.graph.nodes:make_answer",
        "route": "agentvlm.graph.nodes:make_route",
        "program": "agentvlm.programs.node:make_program",
        "web_search": "agentvlm.retrieval.node:make_web_search",
        "answer_with_sources": "agentvlm.retrieval.node:make_answer_with_sources",
        "describe": "agentvlm.look.nodes:make_describe",
        "ask_vlm": "agentvlm.look.nodes:make_ask_vlm",
        "look": "agentvlm.look.nodes:make_look",
        "split": "agentvlm.parts.node:make_split",
        "parts": "agentvlm.parts.node:make_parts",
        "compose": "agentvlm.parts.node:make_compose",
        "dispatch": "agentvlm.graph.proreason:make_dispatch",
        "act": "agentvlm.graph.proreason:make_act",
        "referee": "agentvlm.graph.proreason:make_referee",
        "zoom": "agentvlm.zoom.node:make_zoom",
        "zoom_perceive": "agentvlm.zoom.node:make_zoom_perceive",
        "zoom_reason": "agentvlm.zoom.node:make_zoom_reason",
    },
    "routers": {
        "fan_out_tools": "agentvlm.graph.nodes:fan_out_tools",
        "fan_out_perception": "agentvlm.graph.nodes:fan_out_perception",
        "program_or_reason": "agentvlm.programs.node:program_or_reason",
        "by_next": "agentvlm.graph.proreason:by_next",
        "by_parts": "agentvlm.parts.node:by_parts",
    },
    "tools": {
        "rapidocr": "agentvlm.tools.ocr_rapidocr:RapidOCRTool",
        "paddleocr": "agentvlm.tools.ocr_paddle:PaddleOCRTool",
        "darknet": "agentvlm.tools.detect_darknet:DarknetDetector",
        "ultralytics": "agentvlm.tools.detect_ultralytics:UltralyticsDetector",
        "grabcut": "agentvlm.tools.segment_grabcut:GrabCutSegmenter",
        "sam": "agentvlm.tools.segment_sam:SamSegmenter",
    },
    "kinds": {
        "detect": "agentvlm.tools.kinds:DETECT",
        "ocr": "agentvlm.tools.kinds:OCR",
        "segment": "agentvlm.tools.kinds:SEGMENT",
    },
    "actions": {
        "zoom": "agentvlm.zoom.node:ZOOM_ACTION",
        "ask_vlm": "agentvlm.look.nodes:ASK_VLM_ACTION",
        "web_search": "agentvlm.retrieval.node:WEB_SEARCH_ACTION",
        "program": "agentvlm.programs.node:PROGRAM_ACTION",
    },
}


@dataclass(frozen=True)
class Route:
    """What a router may return, so ``graph validate`` catches at load what would fail mid-run.

    Attributes:
        sends: Node ids it sends ``Send`` tasks to (the graph must have them, in the edge's ``to``).
        returns: Node ids it may return by name.
        keys: The router returns the state key a node sets (``next``); the edge's ``to`` maps those values.
        idle: Node ids it returns when the plan sends no tool; not needed after a plan node
            whose ``tools`` parameter fixes a list of tools besides ``segment``.
    """

    sends: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()
    keys: bool = False
    idle: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    """How built-in nodes and routers depend on each other at run time (plugins are not checked)."""

    routes: dict[str, Route] = field(default_factory=dict)
    send_payload: frozenset[str] = frozenset()
    """Node types that run only as a router's ``Send`` task (they read its payload)."""
    needs_plan: frozenset[str] = frozenset()
    """Node types that read ``state["plan"]``, so a ``plan`` node must run before them."""
    next_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Node types that set ``state["next"]``, and the values they set."""


FLOW = Flow(
    routes={
        "fan_out_tools": Route(sends=("perceive",), idle=("segment",)),
        "fan_out_perception": Route(sends=("perceive", "describe")),
        "program_or_reason": Route(returns=("answer", "verbalize")),
        "by_next": Route(keys=True),
        "by_parts": Route(sends=("parts",), returns=("one",)),
    },
    send_payload=frozenset({"perceive", "parts"}),
    needs_plan=frozenset({"perceive", "segment", "verbalize", "reason", "describe", "dispatch", "act", "referee", "zoom_reason"}),
    next_values={
        "dispatch": ("act", "finish"), "referee": ("dispatch", "finish"), "route": ("answer", "web_search", "zoom", "look", "reason"),
        "look": ("answer", "reason"),
    },
)


@cache
def _plugins(kind: str) -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUPS[kind])}


def known(kind: str) -> dict[str, str]:
    """Every registered name of ``kind`` (a key of ``GROUPS``): built-ins, then plugins."""
    return {**_plugins(kind), **BUILTIN[kind]}


def load(kind: str, name: str) -> Any:
    """The object registered as ``name``; unknown names list the valid ones."""
    table = known(kind)
    if name not in table:
        singular = kind[:-1]
        raise ConfigError(f"unknown {singular} '{name}'; known {kind}: {', '.join(sorted(table))}")
    module, _, attr = table[name].partition(":")
    try:
        return getattr(import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{kind[:-1]} '{name}' is registered as {table[name]} but cannot be loaded: {exc}") from exc
