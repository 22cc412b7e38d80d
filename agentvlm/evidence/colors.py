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

__all__ = ["COLOR_NAMES", "color_name", "dominant_color"]

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
    import numpy as np

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
    if chosen.size == 0:
        return None
    if len(chosen) > 20_000:  # a sample names the colour as well as every pixel, faster
        chosen = chosen[:: len(chosen) // 20_000 + 1]
    tally = np.bincount(_names(np.ascontiguousarray(chosen, dtype=np.uint8)), minlength=len(COLOR_NAMES))
    return COLOR_NAMES[int(tally.argmax())]
