"""PP-OCR through PaddleOCR 3.x itself, for users who already run Paddle.

PaddleOCR downloads its models on first use (to ``~/.paddlex``), so it needs internet
once; ``rapidocr`` ships the same model family inside its wheel and is the default.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, ClassVar

from agentvlm.errors import ToolError
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams, Weights, requires
from agentvlm.tools.ocr_rapidocr import OCRParams, lines_to_evidence
from agentvlm.types import Evidence

__all__ = ["PaddleOCRTool"]



class PaddleOCRTool(Tool):
    """Reads text lines with ``paddleocr.PaddleOCR(...).predict``; same evidence as ``rapidocr``.

    Args:
        lang: PaddleOCR's ``lang`` (``"en"``, ``"ch"``, ``"fr"``...); ``None`` keeps its default.

    Example:
        >>> tool = PaddleOCRTool(lang="en")  # doctest: +SKIP
        >>> [ev.text for ev in tool.run(load_image("sign.jpg"))]  # doctest: +SKIP
    """

    name: ClassVar[str] = "paddleocr"
    kind: ClassVar[ToolKind] = "ocr"
    Params: ClassVar[type[ToolParams]] = OCRParams

    def __init__(self, *, lang: str | None = None) -> None:
        self.lang = lang
        self._paddle = Weights()

    @classmethod
    def availability(cls) -> Availability:
        for pkg, pip_name in (("paddleocr", "paddleocr"), ("paddle", "paddlepaddle")):
            if find_spec(pkg) is None:
                return Availability(
                    ok=False,
                    detail=f"{pip_name} is not installed; run: pip install 'agentvlm[paddle]' "
                    "(and paddlepaddle, see paddlepaddle.org.cn/install); rapidocr needs neither",
                )
        return Availability(ok=True, detail="ready (models download to ~/.paddlex on first use)")

    def identity(self) -> dict[str, Any]:
        return {"tool": self.name, "lang": self.lang}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        engine = self._engine()
        bgr = np.ascontiguousarray(pixels[..., ::-1])  # PaddleX reads arrays as OpenCV BGR
        try:
            with self._paddle.lock:
                pages = list(engine.predict(bgr))
        except Exception as exc:  # backend errors are mapped at the boundary
            raise ToolError(
                f"paddleocr failed on a {bgr.shape[1]}x{bgr.shape[0]} image: {exc}"
            ) from exc
        h, w = bgr.shape[:2]
        out: list[Evidence] = []
        for page in pages:
            out += lines_to_evidence(
                page["rec_polys"],
                page["rec_texts"],
                page["rec_scores"],
                resolution_wh=(w, h),
                min_score=params.min_score,
                tool=self.name,
            )
        return out

    def _engine(self) -> Any:
        def load() -> Any:
            paddleocr = requires("paddleocr", package="paddleocr", extra="paddle", purpose="PaddleOCR")
            kwargs: dict[str, Any] = {
                "use_doc_orientation_classify": False,  # photos, not scanned pages
                "use_doc_unwarping": False,
                "use_textline_orientation": True,
            }
            if self.lang is not None:
                kwargs["lang"] = self.lang
            try:
                return paddleocr.PaddleOCR(**kwargs)
            except Exception as exc:
                raise ToolError(
                    f"PaddleOCR could not load its models ({exc}); it downloads them on first use, "
                    "so run once with internet, or use the 'rapidocr' tool, which bundles them"
                ) from exc
        return self._paddle.get(load)
