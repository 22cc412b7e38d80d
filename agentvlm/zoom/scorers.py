"""Scorers: what gives a patch its confidences. The VLM (the paper's method) or offline tools.

A scorer declares which of the three confidences it can give and the input size
it sees at (which decides where the tree stops splitting). The search fills the
gaps: no ``answering`` -> the existence confidence stands in ("the object is seen
clearly enough to answer about it"); no ``latent`` -> existence again.

Offline latent confidences are proxies, cheap by design (no extra model call):
``latent_proxy(p, edges) = max(min(1, 2p), edges / 2)``. A weak hit at this zoom
(half the detector's score) is as good a reason to zoom in as a sure one, since the
object is small here; a textured patch (Canny edge density) may hide small things
and gets up to 0.5, while a flat patch (sky, wall) gets 0, confidence -1, last in line.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from agentvlm.graph.services import Recorder, Services
from agentvlm.question.vocabulary import label_of
from agentvlm.tools.base import Tool
from agentvlm.types import Box, Call, Evidence, ImageRef
from agentvlm.zoom.cues import Cue
from agentvlm.zoom.search import confidence

__all__ = ["ConfidenceKind", "DetectorScorer", "OCRScorer", "Scorer", "VLMScorer", "edge_density", "latent_proxy"]

ConfidenceKind = Literal["existence", "latent", "answering"]
_WHOLE = Box(x1=0.0, y1=0.0, x2=1.0, y2=1.0)


@runtime_checkable
class Scorer(Protocol):
    """Gives patches confidences in [-1, 1]; one ``score`` call is one batch (counted in ``calls``)."""

    name: str
    input_size: int
    bias: float
    cue_threshold: float
    confidences: frozenset[str]
    calls: int

    def supports(self, cue: Cue) -> bool: ...

    def score(
        self, image: ImageRef, boxes: Sequence[Box], cue: Cue, kinds: Sequence[ConfidenceKind], question: str
    ) -> list[dict[str, float]]: ...


def edge_density(image: ImageRef, box: Box, cache: Any = None) -> float:
    """Share of Canny edge pixels in the patch (seen at <= 256 px), scaled so 15% or more gives 1."""
    import cv2
    import numpy as np

    from agentvlm.images import crop

    patch = np.ascontiguousarray(crop(image, None if box == _WHOLE else box, cache))
    scale = 256 / max(patch.shape[:2])
    if scale < 1:
        patch = cv2.resize(patch, (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY), 100, 200)
    return min(1.0, float((edges > 0).mean()) / 0.15)


def latent_proxy(p: float, edges: float) -> float:
    """The offline scorers' latent probability (see the module docstring)."""
    return max(min(1.0, 2.0 * p), edges / 2.0)


class _ToolScorer:
    """Runs a perception tool once per patch (``Services.run_tool``; remembered by box) and reads a
    probability off its evidence."""

    name: str = "tool"
    input_size: int = 416
    bias: float = 0.2  # the paper's b for a model that sees only the patch
    # Type-2 keeps patches at or above this: 0 is p = 0.5, the project's "sure" detector score
    # (the paper's 0.6, p = 0.8, suits a VLM's P(Yes); it dropped 2 of 12 small people here).
    cue_threshold: float = 0.0
    confidences: frozenset[str] = frozenset({"existence", "latent"})
    kind: str = "detect"

    def __init__(self, services: Services, rec: Recorder, *, tool: Tool | None = None, params: dict[str, Any] | None = None) -> None:
        self.services, self.rec, self.params = services, rec, dict(params or {})
        self.tool = tool or services.tool(self.kind)
        self.name = self.tool.name
        self.calls = 0
        self._seen: dict[tuple[str, tuple[float, ...]], list[Evidence]] = {}

    def run(self, image: ImageRef, box: Box) -> list[Evidence]:
        """The tool's evidence on ``box`` (full-image coordinates); one call per new patch."""
        key = (image.sha256, box.xyxyn)
        if key not in self._seen:
            region = None if box == _WHOLE else box
            self.calls += 1
            self._seen[key] = self.services.run_tool(
                self.kind, [image], self.rec, params=self.params, region=region, tool=self.tool, role="zoom", ids=False
            )
        return self._seen[key]

    def probability(self, found: list[Evidence], cue: Cue) -> float:
        raise NotImplementedError

    def score(
        self, image: ImageRef, boxes: Sequence[Box], cue: Cue, kinds: Sequence[ConfidenceKind], question: str
    ) -> list[dict[str, float]]:
        out = []
        for box in boxes:
            p = self.probability(self.run(image, box), cue)
            row = {"existence": confidence(p)}
            if "latent" in kinds:
                row["latent"] = confidence(latent_proxy(p, edge_density(image, box, self.services.pixels)))
            out.append(row)
        return out


class DetectorScorer(_ToolScorer):
    """Existence: the detector's best score for the cue's class on the patch, run at its full input size.

    Example:
        >>> DetectorScorer(services, Recorder(), params={"confidence": 0.01}).input_size  # doctest: +SKIP
        416
    """

    def __init__(self, services: Services, rec: Recorder, *, tool: Tool | None = None, params: dict[str, Any] | None = None) -> None:
        super().__init__(services, rec, tool=tool, params=params)
        self.input_size = self.tool.input_size or 640

    def supports(self, cue: Cue) -> bool:
        return cue.label is not None

    def probability(self, found: list[Evidence], cue: Cue) -> float:
        return max((e.score or 0.0 for e in found if e.kind == "object" and label_of(e) == cue.label), default=0.0)


class OCRScorer(_ToolScorer):
    """Existence: how closely text read on the patch matches the cue (difflib ratio), or, for
    the bare cue "text", the recognizer's best line score ("any text here")."""

    kind = "ocr"

    def __init__(
        self, services: Services, rec: Recorder, *, tool: Tool | None = None, params: dict[str, Any] | None = None, input_size: int = 960
    ) -> None:
        super().__init__(services, rec, tool=tool, params=params)
        self.input_size = input_size

    def supports(self, cue: Cue) -> bool:
        return cue.text

    def probability(self, found: list[Evidence], cue: Cue) -> float:
        lines = [e for e in found if e.kind == "text" and e.text]
        if cue.phrase.lower() == "text":
            return max((e.score or 0.0 for e in lines), default=0.0)
        want = " ".join(cue.phrase.lower().split())
        texts = [" ".join((e.text or "").lower().split()) for e in lines]
        texts += [" ".join(texts)] if len(texts) > 1 else []
        return max((difflib.SequenceMatcher(None, want, t).ratio() for t in texts), default=0.0)


class VLMScorer:
    """The paper's scorer: the VLM's P(Yes) to the three confidence questions.

    A patch is shown as the full image with the patch boxed in red plus the crop
    (the paper's global+local input, hence its b = 0.6); the root as the image alone.
    All the confidences of a batch of patches go in one ``yes_probability_batch`` call.
    """

    name = "vlm"
    bias = 0.6
    cue_threshold = 0.6
    confidences: frozenset[str] = frozenset({"existence", "latent", "answering"})

    def __init__(self, vlm: Any, *, rec: Recorder | None = None, input_size: int = 512, batch_size: int = 16, view_side: int = 768) -> None:
        self.vlm, self.rec = vlm, rec
        self.name = str(getattr(vlm, "spec", "vlm"))
        self.input_size, self.batch_size, self.view_side = input_size, batch_size, view_side
        self.calls = 0
        self._views: dict[str, Any] = {}

    def supports(self, cue: Cue) -> bool:
        return True

    def _images(self, image: ImageRef, box: Box) -> list[Any]:
        from PIL import ImageDraw

        from agentvlm.images import crop
        from agentvlm.models.vlm import as_pil

        if image.sha256 not in self._views:
            self._views[image.sha256] = as_pil(image, max_side=self.view_side)
        full = self._views[image.sha256]
        if box == _WHOLE:
            return [full]
        boxed = full.copy()
        x1, y1, x2, y2 = box.xyxy(boxed.size)
        ImageDraw.Draw(boxed).rectangle((x1, y1, x2, y2), outline=(255, 0, 0), width=max(2, max(boxed.size) // 120))
        return [boxed, crop(image, box)]

    def score(
        self, image: ImageRef, boxes: Sequence[Box], cue: Cue, kinds: Sequence[ConfidenceKind], question: str
    ) -> list[dict[str, float]]:
        from agentvlm.models.vlm import YesNoRequest
        from agentvlm.prompts import render

        text = render("zoom_confidence", cue=cue.phrase, question=question)
        requests, slots = [], []
        for i, box in enumerate(boxes):
            root = box == _WHOLE
            for kind in kinds:
                part = kind if kind == "answering" else f"{kind}_{'global' if root else 'zoom'}"
                prompt = text[part] if root else f"{text['zoom_intro']}\n{text[part]}"
                requests.append(YesNoRequest(images=self._images(image, box), question=prompt))
                slots.append((i, kind))
        out: list[dict[str, float]] = [{} for _ in boxes]
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start : start + self.batch_size]
            began = time.perf_counter()
            probs = self.vlm.yes_probability_batch(chunk)
            self.calls += 1
            if self.rec is not None:
                self.rec.calls.append(Call(kind="model", name=self.name, seconds=round(time.perf_counter() - began, 4),
                                           detail={"role": "zoom", "vision": True, "items": len(chunk), "confidences": list(kinds)}))  # fmt: skip
            for (i, kind), yp in zip(slots[start : start + self.batch_size], probs):
                out[i][kind] = confidence(yp.p)
        return out
