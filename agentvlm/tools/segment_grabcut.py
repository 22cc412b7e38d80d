"""Box-prompted segmentation with OpenCV's GrabCut: no weights, so it works everywhere.

Each prompt box (a detection) becomes GrabCut's "probably foreground" rectangle;
everything outside it is background. The image is downscaled first (GrabCut is
slow: seconds per box at full size on a laptop CPU) and the mask scaled back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentvlm.errors import MissingDependencyError, ToolError
from agentvlm.tools.base import Tool, ToolKind, ToolParams
from agentvlm.tools.masks import mask_evidence
from agentvlm.types import Evidence

__all__ = ["GrabCutParams", "GrabCutSegmenter", "pick_prompts"]


class GrabCutParams(ToolParams):
    """``iterations`` of GrabCut, ``max_side`` of the working image, ``max_prompts`` boxes at most."""

    iterations: int = 3
    max_side: int = 384
    max_prompts: int = 8


def pick_prompts(prompts: list[Evidence], limit: int) -> list[Evidence]:
    """The ``limit`` most confident prompts that have a box, best first."""
    boxed = [p for p in prompts if p.box is not None and p.box.area > 0]
    return sorted(boxed, key=lambda p: -(p.score if p.score is not None else 0.0))[:limit]


class GrabCutSegmenter(Tool):
    """Segments the object inside each prompt box; one ``mask`` evidence per prompt.

    Example:
        >>> det, seg = DarknetDetector(), GrabCutSegmenter()  # doctest: +SKIP
        >>> image = load_image("bus.jpg")  # doctest: +SKIP
        >>> masks = seg.run(image, prompts=det.run(image))  # doctest: +SKIP
        >>> masks[0].attributes["area"]  # doctest: +SKIP
    """

    name: ClassVar[str] = "grabcut"
    kind: ClassVar[ToolKind] = "segment"
    Params: ClassVar[type[ToolParams]] = GrabCutParams

    def identity(self) -> dict[str, Any]:
        return {"tool": self.name, "version": 1}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        try:
            import cv2
        except ImportError as exc:
            raise MissingDependencyError(
                "opencv-python-headless", purpose="GrabCut segmentation"
            ) from exc
        import numpy as np

        if params.iterations < 1 or params.max_side < 16:
            raise ToolError(
                f"grabcut needs iterations >= 1 and max_side >= 16, got {params.iterations}, {params.max_side}"
            )
        h, w = pixels.shape[:2]
        scale = min(1.0, params.max_side / max(h, w))
        sw, sh = max(2, round(w * scale)), max(2, round(h * scale))
        small = cv2.resize(
            np.ascontiguousarray(pixels[..., ::-1]), (sw, sh), interpolation=cv2.INTER_AREA
        )
        out = []
        for prompt in pick_prompts(prompts, params.max_prompts):
            box = prompt.box
            if box is None:  # pick_prompts keeps boxed prompts only; this narrows the type
                continue
            x1, y1, x2, y2 = box.xyxy((sw, sh))
            # GrabCut needs some background: keep the rectangle one pixel inside the image.
            x1, y1 = min(max(x1, 1), sw - 2), min(max(y1, 1), sh - 2)
            x2, y2 = max(min(x2, sw - 1), x1 + 1), max(min(y2, sh - 1), y1 + 1)
            mask = np.zeros((sh, sw), np.uint8)
            cv2.setRNGSeed(0)  # GrabCut's k-means draws from OpenCV's global RNG: fix it for repeatable masks
            try:
                cv2.grabCut(
                    small,
                    mask,
                    (x1, y1, x2 - x1, y2 - y1),
                    np.zeros((1, 65), np.float64),
                    np.zeros((1, 65), np.float64),
                    params.iterations,
                    cv2.GC_INIT_WITH_RECT,
                )
            except cv2.error as exc:
                raise ToolError(
                    f"grabcut failed on prompt {prompt.id or prompt.label} {box.xyxyn}: {exc}"
                ) from exc
            fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
            full = cv2.resize(fg, (w, h), interpolation=cv2.INTER_NEAREST) > 0
            bx1, by1, bx2, by2 = box.xyxy((w, h))
            inside = np.zeros_like(full)
            inside[by1:by2, bx1:bx2] = True  # scaling back must not spill outside the prompt
            ev = mask_evidence(full & inside, tool=self.name, prompt=prompt)
            if ev is not None:
                out.append(ev)
        return out
