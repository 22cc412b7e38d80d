"""Perception tools: one file per tool, one line per tool in ``agentvlm.registry``.

The registry maps names to ``"module:Class"`` strings so that listing tools
(``agentvlm doctor``, CLI choices) imports no heavy library; plugins register
more through the ``agentvlm.tools`` entry point group.
"""

from __future__ import annotations

from agentvlm import registry
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams, Weights
from agentvlm.tools.kinds import ToolKindSpec, kind_names, tool_kind, tool_kinds

__all__ = [
    "TOOLS",
    "Availability",
    "Tool",
    "ToolKind",
    "ToolKindSpec",
    "ToolParams",
    "Weights",
    "kind_names",
    "load_tool_class",
    "tool_kind",
    "tool_kinds",
]

TOOLS: dict[str, str] = registry.BUILTIN["tools"]


def load_tool_class(name: str) -> type[Tool]:
    """The ``Tool`` subclass registered as ``name`` (built-in or from a plugin package)."""
    tool_cls: type[Tool] = registry.load("tools", name)
    return tool_cls
