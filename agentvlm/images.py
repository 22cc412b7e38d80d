"""Turn user-supplied paths into validated ``ImageRef`` objects, and references back into pixels.

Validation happens once, up front, before any model loads: a bad third image
must not cost the user the work done on the first two.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from agentvlm.errors import ImageError
from agentvlm.types import Box, ImageRef

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DEFAULT_MAX_PIXELS", "SUPPORTED_FORMATS", "crop", "load_image", "pixels"]

DEFAULT_MAX_PIXELS = 50_000_000
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
_PIXEL_CACHE_SIZE = 8
_pixel_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def load_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageRef:
    """Check that ``path`` is a complete, supported image of sane size and return its reference.

    Raises:
        ImageError: with a message naming the file, the problem and the fix.

    Example:
        >>> ref = load_image("examples/images/two_people.jpg")  # doctest: +SKIP
        >>> ref.width, ref.sha256[:8]  # doctest: +SKIP
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path).expanduser()
    if not p.exists():
        raise ImageError(f"image not found: {p} (check the path; it is relative to {Path.cwd()})")
    if p.is_dir():
        raise ImageError(f"{p} is a folder, not an image; pass an image file such as {p}/photo.jpg")
    data = p.read_bytes()
    if not data:
        raise ImageError(f"image file is empty: {p}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(p)
            fmt = img.format or "unknown"
            w, h = img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as exc:
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise ImageError(_too_large(p, exc, max_pixels)) from None
        raise ImageError(
            f"{p} is not an image agentvlm can read ({type(exc).__name__}); "
            f"use one of: {', '.join(SUPPORTED_FORMATS)}"
        ) from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageError(
            f"{p} is a {fmt} image, which is not supported; convert it to one of: {', '.join(SUPPORTED_FORMATS)}"
        )
    if w * h > max_pixels:
        raise ImageError(
            f"{p} is {w}x{h} = {w * h:,} pixels, over the limit of {max_pixels:,}; "
            "downscale it, or raise the limit with --max-pixels / max_pixels in the config"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.load()
    except (OSError, SyntaxError) as exc:
        raise ImageError(f"{p} is truncated or corrupt ({exc}); re-export or re-download the image") from None
    finally:
        img.close()
    return ImageRef(
        path=str(p.resolve()), sha256=hashlib.sha256(data).hexdigest(), width=w, height=h, format=fmt
    )


def _too_large(p: Path, exc: Exception, max_pixels: int) -> str:
    return (
        f"{p} declares an absurd size ({exc}); it looks like a decompression bomb. "
        f"agentvlm refuses images over {max_pixels:,} pixels: downscale it, or raise --max-pixels"
    )


def pixels(ref: ImageRef) -> np.ndarray:
    """The image as an RGB ``uint8`` array of shape (H, W, 3), cached by content hash."""
    cached = _pixel_cache.get(ref.sha256)
    if cached is not None:
        _pixel_cache.move_to_end(ref.sha256)
        return cached
    import numpy as np
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # size was checked in load_image against the user's limit
    with Image.open(ref.path) as img:
        arr = np.asarray(img.convert("RGB"))
    arr.setflags(write=False)
    _pixel_cache[ref.sha256] = arr
    while len(_pixel_cache) > _PIXEL_CACHE_SIZE:
        _pixel_cache.popitem(last=False)
    return arr


def crop(ref: ImageRef, region: Box | None) -> np.ndarray:
    """The pixels inside ``region`` (the whole image when ``None``)."""
    arr = pixels(ref)
    if region is None:
        return arr
    x1, y1, x2, y2 = region.xyxy((ref.width, ref.height))
    return arr[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
