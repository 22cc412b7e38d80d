"""Perception tools: one file per tool, one line per tool in ``TOOLS``.

The registry maps names to ``"module:Class"`` strings so that listing tools
(``agentvlm doctor``, CLI choices) imports no heavy library.
"""

from __future__ import annotations

from importlib import import_module

from agentvlm.errors import ConfigError
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams

__all__ = ["DEFAULT_TOOLS", "TOOLS", "Availability", "Tool", "ToolKind", "ToolParams", "load_tool_class"]

TOOLS: dict[str, str] = {
    "rapidocr": "agentvlm.tools.ocr_rapidocr:RapidOCRTool",
    "paddleocr": "agentvlm.tools.ocr_paddle:PaddleOCRTool",
    "darknet": "agentvlm.tools.detect_darknet:DarknetDetector",
    "ultralytics": "agentvlm.tools.detect_ultralytics:UltralyticsDetector",
    "grabcut": "agentvlm.tools.segment_grabcut:GrabCutSegmenter",
    "sam": "agentvlm.tools.segment_sam:SamSegmenter",
}

DEFAULT_TOOLS: dict[ToolKind, str] = {"detect": "darknet", "ocr": "rapidocr", "segment": "grabcut"}


def load_tool_class(name: str) -> type[Tool]:
    """The ``Tool`` subclass registered as ``name``."""
    try:
        target = TOOLS[name]
    except KeyError:
        raise ConfigError(f"unknown tool '{name}'; known tools: {', '.join(sorted(TOOLS))}") from None
    module, _, cls = target.partition(":")
    tool_cls: type[Tool] = getattr(import_module(module), cls)
    return tool_cls
