"""Name the dominant colour of an object from its pixels: its mask when segmented, else its box.

Each pixel is named by hue, saturation and value (HSV) into one of eleven basic
colour words; the most frequent name wins. Only the inner half of a box is used
when no mask exists, because a box's border is mostly background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentvlm.types import Box, Evidence, ImageRef

if TYPE_CHECKING:
    import numpy as np

__all__ = ["COLOR_NAMES", "color_name", "dominant_color", "ink_color", "region_color"]

COLOR_NAMES: tuple[str, ...] = (
    "black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
)  # fmt: skip
_SYNONYMS = {"grey": "gray", "silver": "gray", "violet": "purple", "tan": "brown", "beige": "brown", "gold": "yellow"}


def color_name(word: str) -> str | None:
    """The basic colour a word names ("Grey" -> "gray"), or ``None``."""
    w = word.strip().lower()
    w = _SYNONYMS.get(w, w)
    return w if w in COLOR_NAMES else None


def _names(rgb: np.ndarray) -> np.ndarray:
    """Colour-name index (into ``COLOR_NAMES``) of each pixel of an (N, 3) uint8 array."""
    import cv2
    import numpy as np

    hsv = cv2.cvtColor(rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
    h, s, v = hsv[:, 0] * 2, hsv[:, 1], hsv[:, 2]  # hue in degrees, s and v in 0..255
    out = np.full(len(hsv), COLOR_NAMES.index("gray"))
    chroma = s >= 60
    hue_bins = [(15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (260, "blue"), (300, "purple"), (340, "pink"), (361, "red")]
    lower = 0
    for upper, name in hue_bins:
        out[chroma & (h >= lower) & (h < upper)] = COLOR_NAMES.index(name)
        lower = upper
    brownish = chroma & (h < 40) & (v < 150)
    out[brownish] = COLOR_NAMES.index("brown")
    out[~chroma & (v >= 200)] = COLOR_NAMES.index("white")
    out[v < 50] = COLOR_NAMES.index("black")
    result: np.ndarray = out
    return result


def dominant_color(ev: Evidence, images: list[ImageRef], *, mask: Evidence | None = None) -> str | None:
    """The most frequent colour name among the object's pixels, or ``None`` without a box or image.

    Args:
        ev: An object (or mask) with a box.
        images: The question's images; ``ev.image`` indexes them.
        mask: A mask evidence for this object (attributes ``mask`` RLE); its pixels replace the box's.

    Example:
        >>> dominant_color(bus_evidence, [ref])  # doctest: +SKIP
        'red'
    """
    from agentvlm.images import pixels

    if ev.box is None or ev.image >= len(images):
        return None
    ref = images[ev.image]
    arr = pixels(ref)
    chosen: np.ndarray | None = None
    if mask is not None and mask.box is not None and isinstance(mask.attributes.get("mask"), dict):
        from agentvlm.tools.masks import paste_mask

        full = paste_mask(mask.attributes["mask"], mask.box, resolution_wh=(ref.width, ref.height))
        if full.any():
            chosen = arr[full]
    if chosen is None:
        b = ev.box
        dx, dy = (b.x2 - b.x1) / 4, (b.y2 - b.y1) / 4
        x1, y1, x2, y2 = Box(x1=b.x1 + dx, y1=b.y1 + dy, x2=b.x2 - dx, y2=b.y2 - dy).xyxy((ref.width, ref.height))
        chosen = arr[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)].reshape(-1, 3)
    tally = _tally(chosen)
    return None if tally is None else COLOR_NAMES[int(tally.argmax())]


def _tally(rgb: np.ndarray) -> np.ndarray | None:
    """How many of the (N, 3) pixels each colour name takes, or ``None`` for no pixels."""
    import numpy as np

    if rgb.size == 0:
        return None
    if len(rgb) > 20_000:  # a sample names the colour as well as every pixel, faster
        rgb = rgb[:: len(rgb) // 20_000 + 1]
    result: np.ndarray = np.bincount(_names(np.ascontiguousarray(rgb, dtype=np.uint8)), minlength=len(COLOR_NAMES))
    return result


def region_color(ref: ImageRef, region: str, *, least: float = 0.5) -> str | None:
    """The colour of the picture itself: its most frequent colour (``picture``) or that of its outer
    border (``background``: what lies behind whatever stands in the middle); ``None`` unless one colour
    takes more than ``least`` of those pixels, because otherwise no one colour is the picture's."""
    import numpy as np

    from agentvlm.images import pixels

    arr = pixels(ref)
    h, w = arr.shape[:2]
    if region == "background":
        dy, dx = max(h // 10, 1), max(w // 10, 1)
        chosen = np.concatenate([arr[:dy].reshape(-1, 3), arr[-dy:].reshape(-1, 3), arr[:, :dx].reshape(-1, 3), arr[:, -dx:].reshape(-1, 3)])
    else:
        chosen = arr.reshape(-1, 3)
    tally = _tally(chosen)
    if tally is None or tally.max() <= least * tally.sum():
        return None
    return COLOR_NAMES[int(tally.argmax())]


def ink_color(lines: list[Evidence], images: list[ImageRef], *, least: float = 0.05) -> str | None:
    """The colour text is written in: inside the boxes of the lines read, the most frequent colour
    other than the box's own background (its most frequent one); ``None`` when no second colour
    takes at least ``least`` of the pixels, so plain boxes name no ink."""
    from agentvlm.images import pixels

    total, pixels_seen = None, 0
    for e in lines:
        if e.box is None or e.image >= len(images):
            continue
        ref = images[e.image]
        x1, y1, x2, y2 = e.box.xyxy((ref.width, ref.height))
        tally = _tally(pixels(ref)[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)].reshape(-1, 3))
        if tally is None:
            continue
        pixels_seen += int(tally.sum())
        tally[int(tally.argmax())] = 0  # the background the text is written on
        total = tally if total is None else total + tally
    if total is None or total.sum() == 0:
        return None
    best = int(total.argmax())
    return COLOR_NAMES[best] if total[best] >= least * pixels_seen else None
