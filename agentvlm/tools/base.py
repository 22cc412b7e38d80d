"""The one extension point for perception: a ``Tool`` turns an image (or a region of it) into evidence.

A new tool is one file with a ``Tool`` subclass plus one line in ``agentvlm.registry``
(or an ``agentvlm.tools`` entry point). Constructors are cheap; weights load on the
first ``run`` and belong to the instance, which ``Services`` keeps.
"""

from __future__ import annotations

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from agentvlm.types import Box, Evidence, ImageRef

__all__ = ["Availability", "Tool", "ToolKind", "ToolParams", "Weights", "requires"]

ToolKind = str
"""A registered tool kind (``agentvlm.tools.kinds``): detect, ocr, segment or a plugin's."""


class ToolParams(BaseModel):
    """Per-call parameters. Subclasses add fields; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Availability(BaseModel):
    """Whether a tool can run here, and if not, why and how to fix it (``agentvlm doctor``)."""

    ok: bool
    detail: str


def requires(module: str, *, package: str, extra: str | None = None, purpose: str = "") -> Any:
    """``module`` imported, or the ``MissingDependencyError`` that says what to install."""
    from importlib import import_module

    from agentvlm.errors import MissingDependencyError

    try:
        return import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, extra=extra, purpose=purpose) from exc


class Weights:
    """A tool's loaded model: built on first use, kept by the instance (and the copies it makes
    with ``at_input_size``), used under ``lock`` so threads never share it mid-call."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._value: Any = None

    def get(self, load: Callable[[], Any]) -> Any:
        with self.lock:
            if self._value is None:
                self._value = load()
            return self._value


class Tool(ABC):
    """Base class of perception tools.

    Subclasses set ``name`` (the registry key), ``kind`` and ``Params``, and
    implement ``_run``. ``run`` validates parameters and maps results into
    full-image coordinates when a ``region`` was given.

    What a tool can do is declared, so callers ask instead of checking classes:
    ``input_size`` (the side its model sees, or ``None``), ``takes_classes``
    (its ``Params`` has ``classes``), ``takes_prompts`` (it needs earlier evidence,
    as a segmenter needs boxes), ``vocabulary()`` (the labels it can give, or
    ``None`` for an open vocabulary) and ``at_input_size`` (the same tool at
    another input side, for the recall pyramid).
    """

    name: ClassVar[str]
    kind: ClassVar[ToolKind]
    Params: ClassVar[type[ToolParams]] = ToolParams
    takes_classes: ClassVar[bool] = False
    takes_prompts: ClassVar[bool] = False
    input_size: int | None = None

    def vocabulary(self) -> tuple[str, ...] | None:
        """The labels this tool can give (``None``: an open vocabulary, or no labels)."""
        return None

    def at_input_size(self, size: int) -> Tool | None:
        """This tool seeing at ``size`` px, sharing its weights; ``None`` when it has no such option."""
        return None

    @classmethod
    def availability(cls) -> Availability:
        """Check dependencies and weights without loading a model."""
        return Availability(ok=True, detail="ready")

    def identity(self) -> dict[str, Any]:
        """What determines this tool's output besides the image and params (weights, options)."""
        return {"tool": self.name}

    def cache_key(self, image: ImageRef, params: ToolParams, region: Box | None, extra: Any = None) -> str:
        """Key under which this call's evidence may be cached."""
        blob = json.dumps(
            {
                "image": image.sha256,
                "id": self.identity(),
                "params": params.model_dump(mode="json"),
                "region": region.xyxyn if region else None,
                "extra": extra,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def params(self, **values: Any) -> ToolParams:
        return self.Params(**values)

    def run(
        self,
        image: ImageRef,
        params: ToolParams | None = None,
        *,
        region: Box | None = None,
        prompts: list[Evidence] | None = None,
        cache: Any = None,
    ) -> list[Evidence]:
        """Run on ``image`` (or on ``region`` of it) and return evidence in full-image coordinates.

        Args:
            image: The validated image.
            params: This tool's ``Params``; defaults when omitted.
            region: Look only inside this normalized box; boxes come back in full-image
                coordinates with ``region`` recorded on each piece of evidence.
            prompts: Earlier evidence that prompts this tool (boxes for a segmenter).
            cache: A ``agentvlm.images.PixelCache`` the decoded image is read through.
        """
        from agentvlm.images import crop
        from agentvlm.tools.masks import map_attributes

        if region is not None and (region.x2 <= region.x1 or region.y2 <= region.y1):
            raise ValueError(f"region {region.xyxyn} has no area; give x2 > x1 and y2 > y1")
        p = params if params is not None else self.Params()
        pixels = crop(image, region, cache)
        found = self._run(pixels, p, prompts=_relative(prompts or [], region))
        out = []
        for ev in found:
            if region is not None:
                ev = ev.model_copy(
                    update={
                        "box": ev.box.within(region) if ev.box else None,
                        "region": region,
                        "attributes": map_attributes(ev.attributes, region),
                    }
                )
            out.append(ev.model_copy(update={"tool": self.name}))
        return out

    @abstractmethod
    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        """Return evidence with boxes normalized to ``pixels`` (an RGB uint8 array)."""


def _relative(prompts: list[Evidence], region: Box | None) -> list[Evidence]:
    """Express prompt boxes relative to ``region`` so tools only ever see their own crop."""
    if region is None:
        return prompts
    rw, rh = region.x2 - region.x1, region.y2 - region.y1
    out = []
    for ev in prompts:
        if ev.box is None or ev.box.intersection(region) <= 0:
            continue
        b = ev.box
        rel = Box(
            x1=_clip((b.x1 - region.x1) / rw),
            y1=_clip((b.y1 - region.y1) / rh),
            x2=_clip((b.x2 - region.x1) / rw),
            y2=_clip((b.y2 - region.y1) / rh),
        )
        out.append(ev.model_copy(update={"box": rel}))
    return out


def _clip(v: float) -> float:
    return min(max(v, 0.0), 1.0)
