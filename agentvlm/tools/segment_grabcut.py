"""Box-prompted segmentation with OpenCV's GrabCut: no weights, so it works everywhere.

Each prompt box (a detection) becomes GrabCut's "probably foreground" rectangle;
everything outside it is background. The image is downscaled first (GrabCut is
slow: seconds per box at full size on a laptop CPU) and the mask scaled back.

OpenCV seeds GrabCut's colour models with k-means drawn from its global RNG
(``cv::theRNG``), so the same call gives different masks from run to run, and the
only way to fix that from Python, ``cv2.setRNGSeed``, changes a global the host
application owns. Instead the models are seeded here, by a small k-means with a
local, seeded NumPy generator, and handed to ``cv2.grabCut`` in ``GC_EVAL`` mode,
which skips OpenCV's own initialisation: repeatable masks, OpenCV's RNG untouched.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentvlm.errors import MissingDependencyError, ToolError
from agentvlm.tools.base import Tool, ToolKind, ToolParams
from agentvlm.tools.masks import mask_evidence
from agentvlm.types import Evidence

__all__ = ["GrabCutParams", "GrabCutSegmenter", "pick_prompts"]

_COMPONENTS = 5  # GMM components per colour model: fixed by OpenCV's model layout (1 x 65 doubles)
_KMEANS_ITERATIONS = 10  # as OpenCV's own initialisation
_KMEANS_SAMPLE = 4096  # pixels the k-means centers are fitted on


class GrabCutParams(ToolParams):
    """``iterations`` of GrabCut, ``max_side`` of the working image, ``max_prompts`` boxes at most."""

    iterations: int = 3
    max_side: int = 384
    max_prompts: int = 8


def pick_prompts(prompts: list[Evidence], limit: int) -> list[Evidence]:
    """The ``limit`` most confident prompts that have a box, best first."""
    boxed = [p for p in prompts if p.box is not None and p.box.area > 0]
    return sorted(boxed, key=lambda p: -(p.score if p.score is not None else 0.0))[:limit]


def _nearest(samples: Any, centers: Any) -> Any:
    """Index of the nearest center for each sample."""
    return ((samples[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)


def _kmeans_labels(samples: Any, k: int, *, seed: int = 0) -> Any:
    """k-means with k-means++ seeding from a local generator: the same labels every run.

    The centers are fitted on at most ``_KMEANS_SAMPLE`` pixels (fast enough per prompt),
    then every pixel takes the nearest one.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    fit = samples
    if len(samples) > _KMEANS_SAMPLE:
        fit = samples[rng.choice(len(samples), _KMEANS_SAMPLE, replace=False)]
    centers = fit[[rng.integers(len(fit))]]
    for _ in range(1, k):
        d2 = ((fit[:, None, :] - centers[None]) ** 2).sum(-1).min(1)
        total = d2.sum()
        if total <= 0:  # fewer distinct colours than components
            break
        centers = np.vstack([centers, fit[rng.choice(len(fit), p=d2 / total)]])
    for _ in range(_KMEANS_ITERATIONS):
        labels = _nearest(fit, centers)
        centers = np.stack(
            [
                fit[labels == c].mean(0) if (labels == c).any() else centers[c]
                for c in range(len(centers))
            ]
        )
    return _nearest(samples, centers)


def _gmm_model(samples: Any) -> Any:
    """An OpenCV GrabCut colour model (1 x 65: weights, means, covariances) fitted to ``samples``."""
    import numpy as np

    samples = samples.astype(np.float64)
    labels = _kmeans_labels(samples, min(_COMPONENTS, len(samples)))
    coefs = np.zeros(_COMPONENTS)
    means = np.zeros((_COMPONENTS, 3))
    covs = np.zeros((_COMPONENTS, 3, 3))
    for c in range(_COMPONENTS):
        part = samples[labels == c]
        if not len(part):
            continue
        coefs[c] = len(part) / len(samples)
        means[c] = part.mean(0)
        covs[c] = (part.T @ part) / len(part) - np.outer(means[c], means[c])
        if np.linalg.det(covs[c]) <= np.finfo(np.float64).eps:
            covs[c] += 0.01 * np.eye(3)  # OpenCV's fix for a singular component
    return np.concatenate([coefs, means.ravel(), covs.ravel()])[None, :]


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
            mask = np.full((sh, sw), cv2.GC_BGD, np.uint8)
            mask[y1:y2, x1:x2] = cv2.GC_PR_FGD  # what GC_INIT_WITH_RECT would set
            inner = mask == cv2.GC_PR_FGD
            try:
                # GC_EVAL starts from the models given: OpenCV's RNG-drawn k-means never runs.
                cv2.grabCut(
                    small,
                    mask,
                    (x1, y1, x2 - x1, y2 - y1),
                    _gmm_model(small[~inner]),
                    _gmm_model(small[inner]),
                    params.iterations,
                    cv2.GC_EVAL,
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
