"""Images arriving over the wire (uploads, data URIs, http(s) URLs) become images the agent can load.

``image_ref`` is the one place that turns a request's image into an ``ImageRef``: the
bytes are checked in memory (size, a complete supported image within the pixel cap)
before anything is written, and then kept in the request's own folder, which the
server removes once no kept answer shows it. URLs go through ``open_image``'s fetch
guard, which refuses private and loopback hosts unless ``--allow-host`` names them.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from agentvlm.errors import InputError
from agentvlm.images import ImageLimits, open_bytes, open_image
from agentvlm.types import ImageRef

__all__ = ["PayloadTooLarge", "image_ref"]

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.IGNORECASE)


class PayloadTooLarge(InputError):
    """An image is larger than the server accepts (HTTP 413)."""


def image_ref(source: str | bytes, folder: Path, *, limits: ImageLimits, name: str = "the uploaded image") -> ImageRef:
    """Check a request's image (upload bytes, a data URI or an http(s) URL) and keep it in ``folder``.

    Raises:
        InputError: not an image, not a data URI or URL, bad base64, or a refused URL.
        PayloadTooLarge: the decoded image exceeds ``limits.max_bytes``.

    Example:
        >>> image_ref(b"not a png", Path("/tmp/req"), limits=ImageLimits())  # doctest: +SKIP
    """
    limits = limits.model_copy(update={"store_dir": folder})
    if isinstance(source, bytes):
        return _checked(source, name, limits)
    text = source.strip()
    if text.lower().startswith(("http://", "https://")):
        return open_image(text, limits=limits)
    match = _DATA_URI.match(text)
    if match is None:
        raise InputError(f"an image must be a data URI (data:image/png;base64,...) or an http(s) URL, got {text[:40]!r}")
    if not match.group("b64"):
        raise InputError("a data URI image must be base64-encoded (data:image/jpeg;base64,...)")
    payload = text[match.end():]
    if len(payload) * 3 // 4 > limits.max_bytes + 3:
        raise PayloadTooLarge(_too_large(len(payload) * 3 // 4, limits.max_bytes))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the data URI's base64 payload is malformed; encode the file with base64 and no line breaks") from None
    return _checked(data, "the data URI", limits)


def _checked(data: bytes, name: str, limits: ImageLimits) -> ImageRef:
    if not data:
        raise InputError("the image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(_too_large(len(data), limits.max_bytes))
    return open_bytes(data, name=name, limits=limits)


def _too_large(size: int, limit: int) -> str:
    return f"the image is {size / 2**20:.1f} MiB, over this server's limit of {limit / 2**20:.1f} MiB; downscale or recompress it"
