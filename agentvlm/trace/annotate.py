"""What the agent looked at, drawn on the image: boxes, masks, OCR regions and the zoom path.

Each evidence kind has one colour (``COLORS``), so a reader (and a test) can tell
a detection from a text line at a glance; labels carry the evidence id the answer
cites, the label or text, and the score. Drawn with supervision on a BGR copy.
"""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agentvlm.types import Answer, Box, Evidence, ImageRef

if TYPE_CHECKING:
    import numpy as np

__all__ = ["COLORS", "TraceFiles", "annotate", "write_trace", "zoom_regions"]

COLORS: dict[str, tuple[int, int, int]] = {
    "object": (255, 0, 255),  # magenta: detections
    "text": (255, 215, 0),  # gold: OCR lines
    "mask": (0, 191, 255),  # sky blue: segmentation masks
    "zoom": (255, 69, 0),  # orange red: regions looked at, in order
}
"""RGB colour of each evidence kind (``zoom`` is the path of regions looked at)."""


class TraceFiles(BaseModel):
    """Where ``write_trace`` put an answer's trace."""

    json_path: Path
    images: list[Path]


def _color(kind: str) -> Any:
    import supervision as sv

    r, g, b = COLORS[kind]
    return sv.Color(r=r, g=g, b=b)


def _label(ev: Evidence) -> str:
    # An OCR line's text is in the picture already: its label only names it (id and score).
    name = "" if ev.kind == "text" else ev.label or ev.kind
    score = f" {ev.score:.2f}" if ev.score is not None else ""
    text = " ".join(part for part in (ev.id, name) if part) + score
    text = text.encode("ascii", "replace").decode()  # OpenCV's Hershey fonts draw ASCII only
    return text if len(text) <= 40 else text[:39] + "~"


def zoom_regions(evidence: list[Evidence], image: int = 0) -> list[Box]:
    """The regions the agent looked at on ``image``, in order, without repeats.

    From ``attributes["zoom_path"]`` (boxes as ``[x1, y1, x2, y2]`` or ``{x1, y1, x2, y2}``,
    normalized) and each evidence's ``region``.
    """
    found: list[Box] = []
    for ev in evidence:
        if ev.image != image:
            continue
        for raw in ev.attributes.get("zoom_path") or []:
            try:
                box = Box(**raw) if isinstance(raw, dict) else Box(x1=raw[0], y1=raw[1], x2=raw[2], y2=raw[3])
            except (TypeError, ValueError, IndexError):
                continue  # a malformed path entry is not worth failing a trace over
            found.append(box)
        if ev.region is not None:
            found.append(ev.region)
    return list(dict.fromkeys(found))


def annotate(answer: Answer, image: int = 0) -> np.ndarray:
    """The ``image``-th image of ``answer`` with its evidence drawn, as an RGB array.

    Example:
        >>> from agentvlm import Agent  # doctest: +SKIP
        >>> answer = Agent().ask("photo.jpg", "How many people?")  # doctest: +SKIP
        >>> annotate(answer).shape  # doctest: +SKIP
        (720, 1280, 3)
    """
    import cv2
    import numpy as np
    import supervision as sv

    from agentvlm.images import pixels
    from agentvlm.tools.masks import paste_mask

    ref: ImageRef = answer.images[image]
    wh = (ref.width, ref.height)
    scene = np.ascontiguousarray(pixels(ref)[:, :, ::-1])  # supervision draws on BGR
    thickness = max(sv.calculate_optimal_line_thickness(wh), 2)
    text_scale = sv.calculate_optimal_text_scale(wh)
    evidence = [e for e in answer.evidence if e.image == image]

    masks = [e for e in evidence if e.kind == "mask" and e.box is not None and "mask" in e.attributes]
    if masks:
        dets = sv.Detections(
            xyxy=np.array([e.box.xyxy(wh) for e in masks if e.box], dtype=float),
            mask=np.stack([paste_mask(e.attributes["mask"], e.box, resolution_wh=wh) for e in masks if e.box]),
        )
        scene = sv.MaskAnnotator(color=_color("mask"), opacity=0.45, color_lookup=sv.ColorLookup.INDEX).annotate(scene, dets)

    regions = zoom_regions(evidence, image)
    for region in regions:
        scene = _zoom_box(scene, region.xyxy(wh), thickness)
    for a, b in pairwise(regions):
        pa = tuple(round(v) for v in (a.center[0] * wh[0], a.center[1] * wh[1]))
        pb = tuple(round(v) for v in (b.center[0] * wh[0], b.center[1] * wh[1]))
        cv2.arrowedLine(scene, pa, pb, _color("zoom").as_bgr(), thickness, tipLength=0.05)

    for kind in ("mask", "text", "object"):
        boxed = [e for e in evidence if e.kind == kind and e.box is not None]
        if not boxed:
            continue
        dets = sv.Detections(xyxy=np.array([e.box.xyxy(wh) for e in boxed if e.box], dtype=float))
        color = _color(kind)
        scene = sv.BoxAnnotator(color=color, thickness=thickness, color_lookup=sv.ColorLookup.INDEX).annotate(scene, dets)
        scale = text_scale * (0.7 if kind == "text" else 1.0)
        scene = sv.LabelAnnotator(
            color=color,
            color_lookup=sv.ColorLookup.INDEX,
            text_color=sv.Color.BLACK,
            text_scale=scale,
            text_thickness=max(int(scale * 2), 1),
            text_padding=max(int(scale * 6), 2),
            text_position=sv.Position.CENTER_RIGHT if kind == "text" else sv.Position.TOP_LEFT,
        ).annotate(scene, dets, labels=[_label(e) for e in boxed])
    out: np.ndarray = np.ascontiguousarray(scene[:, :, ::-1])
    return out


def _zoom_box(scene: np.ndarray, xyxy: tuple[int, int, int, int], thickness: int) -> np.ndarray:
    """A dashed rectangle: a region looked at, told apart from the solid evidence boxes."""
    import cv2

    x1, y1, x2, y2 = xyxy
    color = _color("zoom").as_bgr()
    dash = max(thickness * 4, 8)
    for a, b, fixed, horizontal in ((x1, x2, y1, True), (x1, x2, y2, True), (y1, y2, x1, False), (y1, y2, x2, False)):
        for start in range(a, b, dash * 2):
            end = min(start + dash, b)
            p1, p2 = ((start, fixed), (end, fixed)) if horizontal else ((fixed, start), (fixed, end))
            cv2.line(scene, p1, p2, color, thickness)
    return scene


def write_trace(answer: Answer, folder: str | os.PathLike[str], stem: str) -> TraceFiles:
    """Write ``{stem}.json`` (the answer with evidence and steps) and ``{stem}-i{k}.png`` per image.

    An image that cannot be read any more is skipped; the JSON is always written.
    """
    import cv2

    from agentvlm.errors import ImageError
    from agentvlm.paths import FILE_MODE, private_dir, write_private

    out = private_dir(Path(folder))
    json_path = write_private(out / f"{stem}.json", answer.model_dump_json(indent=2))
    images: list[Path] = []
    for k in range(len(answer.images)):
        try:
            rgb = annotate(answer, k)
        except (OSError, ImageError):
            continue
        path = out / f"{stem}-i{k}.png"
        if not cv2.imwrite(str(path), rgb[:, :, ::-1]):
            raise OSError(f"could not write the annotated image {path}")
        os.chmod(path, FILE_MODE)
        images.append(path)
    return TraceFiles(json_path=json_path, images=images)
