"""PP-OCR through RapidOCR: PaddleOCR's models on onnxruntime, bundled in the wheel, no download.

The engine loads on the first ``run`` and is shared by every ``RapidOCRTool`` in the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any, ClassVar

from agentvlm.errors import ToolError
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams, Weights, requires
from agentvlm.types import Box, Evidence

__all__ = ["OCRParams", "RapidOCRTool", "lines_to_evidence"]



class OCRParams(ToolParams):
    """``min_score``: drop lines the recognizer is less sure of than this."""

    min_score: float = 0.5


class RapidOCRTool(Tool):
    """Reads text lines with PP-OCRv6 (det + rec small) on onnxruntime.

    Example:
        >>> from agentvlm.images import load_image
        >>> tool = RapidOCRTool()
        >>> lines = tool.run(load_image("bus.jpg"))  # doctest: +SKIP
        >>> [ev.text for ev in lines]  # doctest: +SKIP
        ['Un minibús 100% eléctrico si es plan', 'cero', 'emisiones', ...]
    """

    name: ClassVar[str] = "rapidocr"
    kind: ClassVar[ToolKind] = "ocr"
    Params: ClassVar[type[ToolParams]] = OCRParams

    def __init__(self) -> None:
        self._engine = Weights()

    @classmethod
    def availability(cls) -> Availability:
        for pkg in ("rapidocr", "onnxruntime", "cv2"):
            if find_spec(pkg) is None:
                return Availability(
                    ok=False, detail=f"{pkg} is not installed; run: pip install agentvlm"
                )
        return Availability(ok=True, detail="ready (PP-OCRv6 ONNX models bundled in rapidocr)")

    def identity(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("rapidocr")
        except PackageNotFoundError:
            ver = None
        return {"tool": self.name, "rapidocr": ver}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        engine = self._engine.get(_load_engine)
        bgr = np.ascontiguousarray(pixels[..., ::-1])  # rapidocr takes arrays as OpenCV BGR
        try:
            with self._engine.lock:
                out = engine(bgr, text_score=params.min_score)
        except Exception as exc:  # backend errors are mapped at the boundary
            raise ToolError(
                f"rapidocr failed on a {bgr.shape[1]}x{bgr.shape[0]} image: {exc}"
            ) from exc
        if out.boxes is None or out.txts is None or out.scores is None:
            return []
        h, w = bgr.shape[:2]
        return lines_to_evidence(
            out.boxes,
            out.txts,
            out.scores,
            resolution_wh=(w, h),
            min_score=params.min_score,
            tool=self.name,
        )


def _load_engine() -> Any:
    return requires("rapidocr", package="rapidocr", purpose="OCR").RapidOCR(params={"Global.log_level": "warning"})


def lines_to_evidence(
    quads: Any,
    texts: Sequence[str],
    scores: Sequence[float],
    *,
    resolution_wh: tuple[int, int],
    min_score: float,
    tool: str,
) -> list[Evidence]:
    """One ``text`` evidence per line, in reading order: rows top to bottom, each left to right.

    Lines whose vertical centers differ by less than half the shorter line's height
    share a row, so a slightly tilted sign still reads left to right.
    """
    w, h = resolution_wh
    lines = []
    for quad, text, score in zip(quads, texts, scores):
        if float(score) < min_score or not str(text).strip():
            continue
        pts = [
            (min(max(float(x) / w, 0.0), 1.0), min(max(float(y) / h, 0.0), 1.0)) for x, y in quad
        ]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        box = Box(x1=min(xs), y1=min(ys), x2=max(xs), y2=max(ys))
        quad_n = [[round(x, 4), round(y, 4)] for x, y in pts]
        lines.append((box, str(text), float(score), quad_n))

    lines.sort(key=lambda line: line[0].center[1])
    rows: list[list[Any]] = []
    for line in lines:
        if rows:
            ref = rows[-1][0][0]
            tol = 0.5 * min(ref.y2 - ref.y1, line[0].y2 - line[0].y1)
            if abs(line[0].center[1] - ref.center[1]) < tol:
                rows[-1].append(line)
                continue
        rows.append([line])
    ordered = [line for row in rows for line in sorted(row, key=lambda ln: ln[0].x1)]
    return [
        Evidence(tool=tool, kind="text", text=text, box=box, score=score, attributes={"quad": quad})
        for box, text, score, quad in ordered
    ]
