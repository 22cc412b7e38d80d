"""Binary masks as small JSON-able run-length encodings, shared by the segmenters.

A mask is stored cropped to its own bounding box, and that box is the evidence's
``box``. The RLE therefore stays valid when ``Tool.run`` maps the box from a crop
into full-image coordinates: paste ``decode_mask(rle)`` into ``box``, resized.

Point attributes (``centroid``, an OCR line's ``quad``) and ``area`` are relative
to the pixels the tool saw; ``map_attributes`` moves them to the full image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentvlm.types import Box, Evidence

if TYPE_CHECKING:
    import numpy as np

__all__ = ["decode_mask", "encode_mask", "map_attributes", "mask_evidence", "paste_mask"]


def encode_mask(mask: np.ndarray) -> dict[str, list[int]]:
    """Run-length encode a boolean ``(H, W)`` mask, row-major, first run ``False``.

    Example:
        >>> import numpy as np
        >>> encode_mask(np.array([[True, False], [True, True]]))
        {'size': [2, 2], 'counts': [0, 1, 1, 2]}
    """
    import numpy as np

    flat = np.asarray(mask, dtype=bool).ravel()
    if flat.size == 0:
        return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": []}
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    counts = np.diff(edges).tolist()
    if flat[0]:
        counts = [0, *counts]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def decode_mask(rle: dict[str, Any]) -> np.ndarray:
    """Inverse of ``encode_mask``: a boolean array of shape ``rle["size"]``."""
    import numpy as np

    h, w = (int(v) for v in rle["size"])
    counts = [int(c) for c in rle["counts"]]
    if sum(counts) != h * w:
        raise ValueError(f"RLE counts sum to {sum(counts)}, but size {h}x{w} needs {h * w}")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(h, w)


def paste_mask(rle: dict[str, Any], box: Box, *, resolution_wh: tuple[int, int]) -> np.ndarray:
    """The mask as a full ``(H, W)`` boolean image, placed in ``box``."""
    import cv2
    import numpy as np

    w, h = resolution_wh
    out = np.zeros((h, w), dtype=bool)
    x1, y1, x2, y2 = box.xyxy(resolution_wh)
    if x2 <= x1 or y2 <= y1:
        return out
    small = decode_mask(rle).astype(np.uint8)
    out[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST) > 0
    return out


def mask_evidence(
    mask: np.ndarray, *, tool: str, prompt: Evidence, extra: dict[str, Any] | None = None
) -> Evidence | None:
    """Evidence for a full-crop boolean mask, or ``None`` when the mask is empty."""
    import numpy as np

    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    x1, x2, y1, y2 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    attributes: dict[str, Any] = {
        "area": round(xs.size / (h * w), 4),
        "area_px": int(xs.size),
        "centroid": [round(float(xs.mean() + 0.5) / w, 4), round(float(ys.mean() + 0.5) / h, 4)],
        "prompt": prompt.id,
        "mask": encode_mask(mask[y1:y2, x1:x2]),
        **(extra or {}),
    }
    return Evidence(
        tool=tool,
        kind="mask",
        label=prompt.label,
        box=Box.from_xyxy((x1, y1, x2, y2), resolution_wh=(w, h)),
        score=prompt.score,
        attributes=attributes,
    )


def map_attributes(attributes: dict[str, Any], region: Box) -> dict[str, Any]:
    """Move crop-relative ``centroid``, ``quad`` and ``area`` into full-image terms.

    ``Tool.run`` maps boxes only; this is the matching step for point attributes.
    ``area_px`` and ``mask`` (relative to the box) need no change.
    """
    rw, rh = region.x2 - region.x1, region.y2 - region.y1

    def point(p: list[float]) -> list[float]:
        return [round(region.x1 + p[0] * rw, 4), round(region.y1 + p[1] * rh, 4)]

    out = dict(attributes)
    if "centroid" in out:
        out["centroid"] = point(out["centroid"])
    if "quad" in out:
        out["quad"] = [point(p) for p in out["quad"]]
    if "area" in out:
        out["area"] = round(out["area"] * rw * rh, 4)
    return out
