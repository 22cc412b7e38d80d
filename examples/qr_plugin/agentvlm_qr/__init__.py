"""A plugin package for agentvlm: the ``qr`` tool kind and ``QRReader``, the tool that fills it.

Two entry points in ``pyproject.toml`` are all agentvlm needs: the kind (its
evidence-id prefix, default tool, what it does, the question words that call
for it) and the tool. Once installed, ``auto`` and ``proreason`` run it for
questions about QR codes, ProReason's dispatcher lists it, and configs may say
``tools: {qr: qr_opencv}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentvlm.tools import Tool, ToolKindSpec, ToolParams, Weights
from agentvlm.types import Box, Evidence

__all__ = ["QR_KIND", "QRReader"]

QR_KIND = ToolKindSpec(
    name="qr",
    prefix="qr",
    default="qr_opencv",
    does="read QR codes",
    cue=r"\b(qr|qr[- ]codes?|barcodes?)\b",
)


class QRReader(Tool):
    """Reads every QR code in the image with OpenCV's ``QRCodeDetectorAruco``: text evidence with its box."""

    name: ClassVar[str] = "qr_opencv"
    kind: ClassVar[str] = "qr"
    Params: ClassVar[type[ToolParams]] = ToolParams

    def __init__(self) -> None:
        self._detector = Weights()

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import cv2
        import numpy as np

        detector = self._detector.get(cv2.QRCodeDetectorAruco)
        h, w = pixels.shape[:2]
        bgr = np.ascontiguousarray(pixels[..., ::-1])
        with self._detector.lock:
            ok, texts, corners, _ = detector.detectAndDecodeMulti(bgr)
        if not ok:
            return []
        out = []
        for text, quad in zip(texts, corners):
            if not text:
                continue
            xs, ys = quad[:, 0], quad[:, 1]
            box = Box.from_xyxy((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())), resolution_wh=(w, h))
            out.append(Evidence(tool=self.name, kind="text", text=text, box=box, score=1.0, attributes={"code": "qr"}))
        return out
