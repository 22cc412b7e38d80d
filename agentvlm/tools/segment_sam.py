"""Box-prompted segmentation with Meta's Segment Anything (``segment_anything.SamPredictor``).

SAM weights are in no package registry: download a checkpoint once, e.g.
https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth, and pass its path.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar

from agentvlm.errors import ConfigError, MissingDependencyError, ToolError
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams, Weights
from agentvlm.tools.masks import mask_evidence
from agentvlm.tools.segment_grabcut import pick_prompts
from agentvlm.types import Evidence

__all__ = ["SamParams", "SamSegmenter"]

_MODEL_TYPES = ("vit_b", "vit_l", "vit_h", "default")
_CHECKPOINT_HINT = "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth"


class SamParams(ToolParams):
    """``max_prompts`` boxes at most; SAM's image embedding is computed once for all of them."""

    max_prompts: int = 8


class SamSegmenter(Tool):
    """Segments the object in each prompt box with SAM; same evidence as ``grabcut``.

    Args:
        checkpoint: Path to a SAM ``.pth`` checkpoint matching ``model_type``.
        model_type: ``vit_b``, ``vit_l`` or ``vit_h``.
        device: ``"cpu"``, ``"cuda"``...; ``None`` takes CUDA when available.
        random_weights: Build SAM untrained when ``checkpoint`` is ``None``; only to test the
            code path (the masks are meaningless).

    Example:
        >>> seg = SamSegmenter(checkpoint="sam_vit_b_01ec64.pth")  # doctest: +SKIP
        >>> seg.run(image, prompts=DarknetDetector().run(image))  # doctest: +SKIP
    """

    name: ClassVar[str] = "sam"
    kind: ClassVar[ToolKind] = "segment"
    Params: ClassVar[type[ToolParams]] = SamParams
    takes_prompts: ClassVar[bool] = True

    def __init__(
        self,
        *,
        checkpoint: str | Path | None = None,
        model_type: str = "vit_b",
        device: str | None = None,
        random_weights: bool = False,
    ) -> None:
        if model_type not in _MODEL_TYPES:
            raise ConfigError(
                f"unknown SAM model_type '{model_type}'; use one of: {', '.join(_MODEL_TYPES)}"
            )
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.model_type = model_type
        self.device = device
        self.random_weights = random_weights
        self._predictor = Weights()

    @classmethod
    def availability(cls) -> Availability:
        for pkg in ("segment_anything", "torch"):
            if find_spec(pkg) is None:
                return Availability(
                    ok=False, detail=f"{pkg} is not installed; run: pip install 'agentvlm[sam]'"
                )
        return Availability(
            ok=True,
            detail=f"installed; needs a checkpoint file (checkpoint=PATH), e.g. {_CHECKPOINT_HINT}",
        )

    def identity(self) -> dict[str, Any]:
        return {"tool": self.name, "model_type": self.model_type, "checkpoint": self.checkpoint}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        chosen = pick_prompts(prompts, params.max_prompts)
        if not chosen:
            return []
        predictor = self._load()
        h, w = pixels.shape[:2]
        out = []
        try:
            with self._predictor.lock:
                predictor.set_image(np.ascontiguousarray(pixels), image_format="RGB")
                for prompt in chosen:
                    if prompt.box is None:
                        continue
                    masks, scores, _ = predictor.predict(
                        box=np.array(prompt.box.xyxy((w, h)), dtype=np.float32),
                        multimask_output=False,
                    )
                    ev = mask_evidence(
                        np.asarray(masks[0], dtype=bool),
                        tool=self.name,
                        prompt=prompt,
                        extra={"sam_iou": round(float(scores[0]), 4)},
                    )
                    if ev is not None:
                        out.append(ev)
        except Exception as exc:  # backend errors are mapped at the boundary
            raise ToolError(f"SAM failed on a {w}x{h} image: {exc}") from exc
        return out

    def _load(self) -> Any:
        if self.checkpoint is None and not self.random_weights:
            raise ConfigError(
                f"SAM needs checkpoint=PATH to a {self.model_type} checkpoint; download one, e.g. {_CHECKPOINT_HINT}"
            )
        if self.checkpoint is not None and not Path(self.checkpoint).is_file():
            raise ConfigError(
                f"SAM checkpoint not found: {self.checkpoint}; download one, e.g. {_CHECKPOINT_HINT}"
            )
        try:
            import torch
            from segment_anything import SamPredictor, sam_model_registry
        except ImportError as exc:
            raise MissingDependencyError(
                "segment-anything", extra="sam", purpose="SAM segmentation"
            ) from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        def load() -> Any:
            try:
                sam = sam_model_registry[self.model_type](checkpoint=self.checkpoint)
            except Exception as exc:
                raise ToolError(
                    f"could not load SAM {self.model_type} from {self.checkpoint}: {exc}"
                ) from exc
            return SamPredictor(sam.to(device))

        return self._predictor.get(load)
