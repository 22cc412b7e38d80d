"""Tool kinds: the roles a tool can fill (detect, OCR, segment, and whatever a plugin adds).

A kind is data: its evidence-id prefix, the tool that fills it by default, a
phrase telling the dispatcher what it does, and the question words that make the
rules run it. The config schema (``tools: {kind: tool}``), the plan schema, the
``perceive`` node, ProReason's actions and its dispatch prompt are all read off
this registry, so a plugin package adds a kind with one entry point:

    # pyproject.toml of a plugin package
    [project.entry-points."agentvlm.kinds"]
    qr = "my_pkg:QR_KIND"
    [project.entry-points."agentvlm.tools"]
    qr_opencv = "my_pkg:QRReader"
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from agentvlm import registry
from agentvlm.errors import ConfigError

__all__ = ["ToolKindSpec", "kind_names", "tool_kind", "tool_kinds"]


class ToolKindSpec(BaseModel):
    """One role a tool can fill.

    Attributes:
        name: The kind's key (``detect``), used in configs, plans and YAML.
        prefix: Evidence ids of its results start with it (``det0``).
        default: The registered tool that fills the kind unless a config says otherwise.
        does: What it does, in a few words, for the dispatcher's prompt.
        cue: A regular expression over the question; when it matches, the rules
            run this kind (``None``: only when a plan names it).
        prompted_by: A kind whose evidence this kind takes as prompts (a segmenter
            takes detections), so it runs after that kind.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    prefix: str = Field(pattern=r"^[a-z][a-z0-9]*$")
    default: str
    does: str
    cue: str | None = None
    prompted_by: str | None = None

    def wanted_by(self, question: str) -> bool:
        """Whether the question's words call for this kind."""
        return self.cue is not None and re.search(self.cue, question, re.IGNORECASE) is not None


DETECT = ToolKindSpec(name="detect", prefix="det", default="darknet", does="find and count objects")
OCR = ToolKindSpec(name="ocr", prefix="ocr", default="rapidocr", does="read text, signs, numbers")
SEGMENT = ToolKindSpec(
    name="segment", prefix="seg", default="grabcut", does="object shape and area",
    cue=r"\b(area|size|shape|mask|outline|cover|covers|silhouette|how much of)\b", prompted_by="detect",
)  # fmt: skip


def tool_kinds() -> dict[str, ToolKindSpec]:
    """Every registered kind, built-ins first; a plugin's entry that is not a kind is a clear error."""
    out: dict[str, ToolKindSpec] = {}
    table = registry.known("kinds")
    for name in [*registry.BUILTIN["kinds"], *(n for n in table if n not in registry.BUILTIN["kinds"])]:
        spec = registry.load("kinds", name)
        if not isinstance(spec, ToolKindSpec):
            raise ConfigError(f"tool kind '{name}' is registered as {table[name]}, which is not a ToolKindSpec")
        if spec.name != name:
            raise ConfigError(f"tool kind registered as '{name}' calls itself '{spec.name}'; the two must agree")
        out[name] = spec
    return out


def kind_names() -> list[str]:
    return list(tool_kinds())


def tool_kind(name: str) -> ToolKindSpec:
    """The kind called ``name``; an unknown one lists the known kinds."""
    kinds = tool_kinds()
    if name not in kinds:
        raise ConfigError(f"unknown tool kind '{name}'; tool kinds: {', '.join(kinds)}")
    return kinds[name]
