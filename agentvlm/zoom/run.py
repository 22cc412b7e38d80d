"""Glue between scorers and the pure search: run it for a cue, turn found nodes into regions, draw it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from agentvlm.prompts import render
from agentvlm.types import Box, ImageRef
from agentvlm.zoom.cues import Cue
from agentvlm.zoom.scorers import Scorer
from agentvlm.zoom.search import SearchParams, SearchResult, search_type1, search_type2
from agentvlm.zoom.tree import ImageTree, ZoomNode

__all__ = ["draw_search", "regions", "search_cue", "zoom_image_path"]


def search_cue(
    image: ImageRef, question: str, cue: Cue, scorer: Scorer, *, params: SearchParams | None = None, several: bool = False
) -> SearchResult:
    """One ZoomEye search for ``cue``: type 2 when exhaustive, else type 1.

    With ``several`` cues in the question, each is searched with the decomposed
    question, may not stop at the root and must reach the bottom (the paper's rule).
    """
    p = params or SearchParams(bias=scorer.bias, cue_threshold=scorer.cue_threshold)
    if several:
        p = p.model_copy(update={"force_no_root": True, "force_visit_bottom": True})
    tree = ImageTree(image.width, image.height, input_size=scorer.input_size, depth_limit=p.depth_limit)
    asked = render("zoom_search", cue=cue.phrase)["decomposed"] if several else question
    wh = (image.width, image.height)
    with_latent = "latent" in scorer.confidences

    def rank(nodes: list[ZoomNode]) -> list[tuple[float, float]]:
        kinds = ["existence", "latent"] if with_latent else ["existence"]
        rows = scorer.score(image, [n.box(wh) for n in nodes], cue, kinds, asked)  # type: ignore[arg-type]
        return [(r["existence"], r.get("latent", r["existence"])) for r in rows]

    def answer(node: ZoomNode) -> float:
        if "answering" in scorer.confidences:
            return scorer.score(image, [node.box(wh)], cue, ["answering"], asked)[0]["answering"]
        if node.existence is None:
            node.existence = scorer.score(image, [node.box(wh)], cue, ["existence"], asked)[0]["existence"]
        return node.existence

    if cue.exhaustive:
        return search_type2(tree, rank, p)
    return search_type1(tree, rank, answer, p)


def regions(nodes: Sequence[ZoomNode], image: ImageRef, *, min_side: int, scale: float = 1.2) -> list[Box]:
    """Found patches enlarged ``scale`` times about their centre (to at least ``min_side`` px,
    as the paper's ``get_patch``) so an object on a patch edge is whole.

    Regions that mostly overlap (by half the smaller one) are merged; neighbours that
    only share their margins are not, or the union would be too large to keep small
    objects visible at the tool's input size.
    """
    w, h = image.width, image.height
    boxes: list[tuple[float, float, float, float]] = []
    for n in nodes:
        cx, cy = (n.x1 + n.x2) / 2, (n.y1 + n.y2) / 2
        bw, bh = min(w, max(n.size[0] * scale, min_side)), min(h, max(n.size[1] * scale, min_side))
        x1, y1 = min(max(cx - bw / 2, 0), w - bw), min(max(cy - bh / 2, 0), h - bh)
        boxes.append((x1, y1, x1 + bw, y1 + bh))
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
                if inter > 0.5 * min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])):
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return [Box.from_xyxy(b, resolution_wh=(w, h)) for b in boxes]


def zoom_image_path(cache_dir: Path, image: ImageRef, question: str) -> Path:
    """Where the drawing of a search goes: ``CACHE/zoom/<image hash>-<question hash>.jpg``."""
    qhash = hashlib.sha256(question.encode()).hexdigest()[:12]
    return Path(cache_dir) / "zoom" / f"{image.short_hash}-{qhash}.jpg"


def draw_search(image: ImageRef, results: Sequence[SearchResult], found: Sequence[Box], path: Path, *, max_side: int = 1200) -> Path:
    """Draw every scored patch (grey), the popped ones in order (yellow, numbered) and the chosen regions (red)."""
    from PIL import ImageDraw

    from agentvlm.models.vlm import as_pil

    view = as_pil(image, max_side=max_side)
    draw = ImageDraw.Draw(view)
    sx, sy = view.width / image.width, view.height / image.height

    def rect(n: ZoomNode) -> tuple[float, float, float, float]:
        return (n.x1 * sx, n.y1 * sy, n.x2 * sx - 1, n.y2 * sy - 1)

    for res in results:
        for n in res.scored:
            draw.rectangle(rect(n), outline=(160, 160, 160), width=1)
        for k, n in enumerate(res.popped):
            draw.rectangle(rect(n), outline=(255, 210, 0), width=2)
            draw.text((n.x1 * sx + 4, n.y1 * sy + 2), str(k), fill=(255, 210, 0))
    for b in found:
        draw.rectangle(b.xyxy(view.size), outline=(255, 0, 0), width=max(3, max(view.size) // 200))
    path.parent.mkdir(parents=True, exist_ok=True)
    view.save(path, quality=88)
    return path
