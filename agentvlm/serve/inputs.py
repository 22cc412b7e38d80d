"""Images arriving over the wire (uploads, data URIs, http(s) URLs) become files the agent can load.

``image_file`` is the one place that turns a request's image into a path; URLs go
through ``agentvlm.images.open_image`` and its fetch guard.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path

from agentvlm.errors import InputError

__all__ = ["PayloadTooLarge", "image_file"]

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.IGNORECASE)
_EXT = {"image/jpeg": ".jpg", "image/jpg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif", "image/bmp": ".bmp", "image/tiff": ".tif"}


class PayloadTooLarge(InputError):
    """An image is larger than the server accepts (HTTP 413)."""


def image_file(source: str | bytes, folder: Path, *, max_bytes: int, suffix: str = "") -> Path:
    """Write an uploaded image (bytes) or a ``data:`` URI into ``folder``; return its path.

    Files are named by content hash, so the same image sent twice is one file (and one
    perception cache entry). Validation of the pixels is ``load_image``'s job.

    Raises:
        InputError: not a data URI (an http(s) URL or a server path), or bad base64.
        PayloadTooLarge: the decoded image exceeds ``max_bytes``.
    """
    if isinstance(source, str):
        text = source.strip()
        match = _DATA_URI.match(text)
        if match is None:
            if text.lower().startswith(("http://", "https://")):  # fetched under the guard, kept by content hash
                from agentvlm.images import ImageLimits, open_image

                return Path(open_image(text, limits=ImageLimits(max_bytes=max_bytes)).path)
            raise InputError(f"an image must be a data URI (data:image/png;base64,...), got {text[:40]!r}")
        if not match.group("b64"):
            raise InputError("a data URI image must be base64-encoded (data:image/jpeg;base64,...)")
        payload = text[match.end():]
        if len(payload) * 3 // 4 > max_bytes + 3:
            raise PayloadTooLarge(_too_large(len(payload) * 3 // 4, max_bytes))
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("the data URI's base64 payload is malformed; encode the file with base64 and no line breaks") from None
        suffix = _EXT.get((match.group("mime") or "").lower(), suffix)
    else:
        data = source
    if not data:
        raise InputError("the image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise PayloadTooLarge(_too_large(len(data), max_bytes))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix.lower()[:6]}"
    if not path.exists():
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def _too_large(size: int, limit: int) -> str:
    return f"the image is {size / 2**20:.1f} MiB, over this server's limit of {limit / 2**20:.1f} MiB; downscale or recompress it"
