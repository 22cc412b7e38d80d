"""Perception tools: one file per tool, one line per tool in ``agentvlm.registry``.

The registry maps names to ``"module:Class"`` strings so that listing tools
(``agentvlm doctor``, CLI choices) imports no heavy library; plugins register
more through the ``agentvlm.tools`` entry point group.
"""

from __future__ import annotations

from agentvlm import registry
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams

__all__ = ["DEFAULT_TOOLS", "TOOLS", "Availability", "Tool", "ToolKind", "ToolParams", "load_tool_class"]

TOOLS: dict[str, str] = registry.BUILTIN["tools"]

DEFAULT_TOOLS: dict[ToolKind, str] = {"detect": "darknet", "ocr": "rapidocr", "segment": "grabcut"}


def load_tool_class(name: str) -> type[Tool]:
    """The ``Tool`` subclass registered as ``name`` (built-in or from a plugin package)."""
    tool_cls: type[Tool] = registry.load("tools", name)
    return tool_cls
