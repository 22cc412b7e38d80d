"""Turn what users pass as an image (a path, an http(s) URL, a ``data:`` URI) into a validated ``ImageRef``.

``open_image`` is the one way in, for the CLI, ``Agent.ask``, the chat's ``/image``,
evaluation datasets and the server. It reads only regular files (a FIFO or
``/dev/zero`` would never end), checks the byte cap before reading, fetches URLs
through the shared SSRF guard (``agentvlm.net``), stores fetched bytes by content
hash, and checks the pixel cap from the header before decoding anything. Pillow's
process-wide ``Image.MAX_IMAGE_PIXELS`` is never touched: an application that
embeds agentvlm keeps its own decompression-bomb guard.

Validation happens once, up front, before any model loads: a bad third image
must not cost the user the work done on the first two.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import io
import os
import re
import stat
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote_to_bytes

from pydantic import BaseModel, ConfigDict, Field

from agentvlm.errors import ImageError
from agentvlm.types import Box, ImageRef

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PIXEL_CACHE_SIZE",
    "SUPPORTED_FORMATS",
    "ImageLimits",
    "PixelCache",
    "crop",
    "is_remote",
    "load_image",
    "open_bytes",
    "open_image",
    "pixels",
]

DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 50_000_000
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
_EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif", "GIF": ".gif"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_ACCEPTED = "a path to an image file, an http(s):// URL or a data:image/...;base64 URI"
PIXEL_CACHE_SIZE = 8


class ImageLimits(BaseModel):
    """What ``open_image`` accepts: sizes, and which private hosts image URLs may name.

    Attributes:
        max_pixels: Width x height above which an image is refused (decompression bombs).
        max_bytes: File, download or data URI size above which an image is refused, checked before reading.
        allow_private: Fetch image URLs on private and loopback addresses too.
        allow_hosts: ``host`` or ``host:port`` fetched even when private (``127.0.0.1:8000``).
        timeout: Seconds for connecting and for each read of an image URL.
        deadline: Seconds for a whole download, however slowly the server sends.
        store_dir: Where fetched and inline images are kept by content hash (default: the cache folder).
    """

    model_config = ConfigDict(frozen=True)

    max_pixels: int = Field(default=DEFAULT_MAX_PIXELS, gt=0)
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)
    allow_private: bool = False
    allow_hosts: tuple[str, ...] = ()
    timeout: float = Field(default=10.0, gt=0)
    deadline: float = Field(default=30.0, gt=0)
    store_dir: Path | None = None


class PixelCache:
    """Decoded images by content hash, the ``size`` most recent; locked, so the parallel branches of
    a graph share it. ``Services`` owns one; ``pixels(ref, cache)`` reads through it."""

    def __init__(self, size: int = PIXEL_CACHE_SIZE) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)




def open_image(source: str | os.PathLike[str], *, limits: ImageLimits | None = None) -> ImageRef:
    """Check that ``source`` is a complete, supported image of sane size and return its reference.

    Args:
        source: A file path, an ``http(s)://`` URL or a ``data:image/...`` URI.
        limits: Size caps and the hosts image URLs may reach; defaults refuse private addresses.

    Raises:
        ImageError: One message naming the input, the problem and what to do.

    Example:
        >>> ref = open_image("examples/images/two_people.jpg")  # doctest: +SKIP
        >>> ref.width, ref.sha256[:8]  # doctest: +SKIP
        >>> open_image("http://127.0.0.1:8000/bus.jpg", limits=ImageLimits(allow_hosts=("127.0.0.1:8000",)))  # doctest: +SKIP
    """
    lim = limits or ImageLimits()
    if isinstance(source, str):
        m = _SCHEME.match(source.strip())
        if m and not os.path.exists(source):
            scheme = m.group(1).lower()
            if scheme in ("http", "https"):
                return _from_url(source.strip(), lim)
            if scheme == "data":
                return _from_data_uri(source.strip(), lim)
            raise ImageError(f"{scheme}: URLs are not read ({_short(source)}); pass {_ACCEPTED}")
        if not source.strip():
            raise ImageError(f"the image path is empty; pass {_ACCEPTED}")
    p = Path(source).expanduser()
    data = _read_file(p, lim.max_bytes)
    fmt, w, h = _probe(data, str(p), lim.max_pixels)
    return ImageRef(path=str(p.resolve()), sha256=hashlib.sha256(data).hexdigest(), width=w, height=h, format=fmt)


def open_bytes(data: bytes, *, name: str, limits: ImageLimits) -> ImageRef:
    """``open_image`` for bytes already in memory (a server's upload): checked before they are kept.

    Example:
        >>> open_bytes(b"not a png", name="the upload", limits=ImageLimits())  # doctest: +SKIP
    """
    return _fetched_ref(data, name, name, limits)


def is_remote(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` is an ``http(s)`` URL or a ``data:`` URI rather than a path.

    Example:
        >>> is_remote("https://example.org/a.jpg"), is_remote("photos/a.jpg")
        (True, False)
    """
    m = _SCHEME.match(source.strip()) if isinstance(source, str) else None
    return m is not None and m.group(1).lower() in ("http", "https", "data")


def load_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageRef:
    """``open_image`` with only a pixel cap (kept for existing callers)."""
    return open_image(path, limits=ImageLimits(max_pixels=max_pixels))


def _short(text: str, n: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _read_file(p: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file no larger than ``max_bytes``; anything else is refused before reading."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        hint = "" if p.is_absolute() else f"; it is relative to {Path.cwd()}"
        raise ImageError(f"image not found: {p} (check the path{hint})") from None
    except OSError as exc:
        raise ImageError(_os_problem(p, exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{p} is a folder, not an image; pass an image file such as {p}/photo.jpg")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{p} is {_file_kind(st.st_mode)}, not a regular file; agentvlm reads images only from regular files")
    if st.st_size == 0:
        raise ImageError(f"image file is empty: {p}")
    if st.st_size > max_bytes:
        raise ImageError(
            f"{p} is {st.st_size:,} bytes, over the limit of {max_bytes:,}; "
            "shrink it, or raise the limit with --max-image-bytes / max_image_bytes in the config"
        )
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageError(_os_problem(p, exc)) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped between stat and open
            raise ImageError(f"{p} is not a regular file; agentvlm reads images only from regular files")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageError(f"{p} grew past the limit of {max_bytes:,} bytes while it was read")
    if not data:
        raise ImageError(f"image file is empty: {p}")
    return data


def _file_kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return what
    return "a special file"


def _os_problem(p: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return f"{p} is a symbolic link loop; point it at a real image file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot read {p}: permission denied; check the file's permissions"
    if exc.errno == errno.ENAMETOOLONG:
        return f"the image path is too long ({len(str(p))} characters); pass {_ACCEPTED}"
    return f"cannot read {p}: {exc.strerror or exc}; pass {_ACCEPTED}"


def _open_unchecked(fp: BinaryIO) -> Any:
    """Identify an image the way ``PIL.Image.open`` does, minus its process-wide pixel check.

    The caller checks the size against its own limit before decoding a pixel,
    so the limit is per call and ``Image.MAX_IMAGE_PIXELS`` stays as the host
    application set it.
    """
    import struct

    from PIL import Image, UnidentifiedImageError

    Image.init()
    prefix = fp.read(16)
    order = [f for f in SUPPORTED_FORMATS if f in Image.OPEN] + [f for f in Image.ID if f not in SUPPORTED_FORMATS]
    for fmt in order:
        factory, accept = Image.OPEN[fmt]
        ok = accept(prefix) if accept else True
        if not ok or isinstance(ok, str):
            continue
        fp.seek(0)
        try:
            return factory(fp, "")
        except (SyntaxError, IndexError, TypeError, struct.error, ValueError, OSError):
            continue
    raise UnidentifiedImageError("cannot identify image file")


def _probe(data: bytes, name: str, max_pixels: int) -> tuple[str, int, int]:
    """Format and size of the image in ``data``, after checking it decodes completely within the caps."""
    from PIL import UnidentifiedImageError

    try:
        img = _open_unchecked(io.BytesIO(data))
    except (UnidentifiedImageError, OSError):
        raise ImageError(f"{name} is not an image agentvlm can read; use one of: {', '.join(SUPPORTED_FORMATS)}") from None
    try:
        fmt = str(img.format or "unknown")
        w, h = img.size
        if fmt not in SUPPORTED_FORMATS:
            raise ImageError(f"{name} is a {fmt} image, which is not supported; convert it to one of: {', '.join(SUPPORTED_FORMATS)}")
        if w <= 0 or h <= 0:
            raise ImageError(f"{name} declares a size of {w}x{h}; it is corrupt: re-export or re-download it")
        if w * h > max_pixels:
            raise ImageError(
                f"{name} is {w}x{h} = {w * h:,} pixels, over the limit of {max_pixels:,} (it may be a decompression bomb); "
                "downscale it, or raise the limit with --max-pixels / max_pixels in the config"
            )
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise ImageError(f"{name} is truncated or corrupt ({exc}); re-export or re-download the image") from None
    finally:
        img.close()
    return fmt, w, h


def _store(data: bytes, fmt: str, lim: ImageLimits) -> Path:
    """Keep fetched bytes by content hash, private to the user, so the graph can reference a file."""
    from agentvlm.paths import cache_home, write_private

    folder = lim.store_dir or cache_home() / "images"
    path = folder / f"{hashlib.sha256(data).hexdigest()}{_EXTENSIONS.get(fmt, '.img')}"
    if not path.is_file() or path.stat().st_size != len(data):
        write_private(path, data)
    return path


def _fetched_ref(data: bytes, name: str, source: str, lim: ImageLimits) -> ImageRef:
    fmt, w, h = _probe(data, name, lim.max_pixels)
    path = _store(data, fmt, lim)
    return ImageRef(path=str(path), sha256=hashlib.sha256(data).hexdigest(), width=w, height=h, format=fmt, source=source)


def _from_url(url: str, lim: ImageLimits) -> ImageRef:
    from agentvlm.net import FetchError, SafeFetcher

    fetcher = SafeFetcher(
        allowed_types=("image/",),
        accept="image/*",
        allow_private=lim.allow_private,
        allow_hosts=lim.allow_hosts,
        timeout=lim.timeout,
        deadline=lim.deadline,
        max_bytes=lim.max_bytes,
        truncate=False,
        hint="to fetch from it anyway, allow that host: --allow-host HOST:PORT or allow_hosts in the config",
    )
    try:
        page = fetcher.get(url)
    except FetchError as exc:
        raise ImageError(f"image URL not fetched: {exc}") from None
    if not page.body:
        raise ImageError(f"image URL {_short(url)} returned no bytes")
    return _fetched_ref(page.body, _short(url), url, lim)


def _from_data_uri(uri: str, lim: ImageLimits) -> ImageRef:
    head, sep, payload = uri.partition(",")
    if not sep:
        raise ImageError("malformed data: URI (no comma before the data); write data:image/png;base64,<base64 bytes>")
    params = head[len("data:") :].split(";")
    media = params[0].strip().lower() or "text/plain"
    if not media.startswith("image/"):
        raise ImageError(f"the data: URI holds '{media}', not an image; write data:image/png;base64,...")
    is_b64 = any(p.strip().lower() == "base64" for p in params[1:])
    estimate = len(payload) * 3 // 4 if is_b64 else len(payload)
    if estimate > lim.max_bytes:
        raise ImageError(
            f"the data: URI holds about {estimate:,} bytes, over the limit of {lim.max_bytes:,}; "
            "shrink the image, or raise --max-image-bytes / max_image_bytes"
        )
    try:
        data = base64.b64decode("".join(payload.split()), validate=True) if is_b64 else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise ImageError("the data: URI's base64 is invalid; encode the image's bytes with standard base64") from None
    if not data:
        raise ImageError("the data: URI is empty; put the image's base64 bytes after the comma")
    name = f"data:{media} URI"
    return _fetched_ref(data, name, f"data:{media};base64,… ({len(data):,} bytes)", lim)


def pixels(ref: ImageRef, cache: PixelCache | None = None) -> np.ndarray:
    """The image as a read-only RGB ``uint8`` array of shape (H, W, 3), through ``cache`` when given."""
    import numpy as np

    cached: np.ndarray | None = cache.get(ref.sha256) if cache is not None else None
    if cached is not None:
        return cached

    try:
        with open(ref.path, "rb") as fh:
            img = _open_unchecked(fh)
            try:
                if img.size != (ref.width, ref.height):
                    raise ImageError(f"{ref.path} changed since it was checked; pass it again")
                arr = np.asarray(_to_rgb(img))
            finally:
                img.close()
    except OSError as exc:
        raise ImageError(f"cannot read {ref.path} any more ({exc}); pass the image again") from None
    arr.setflags(write=False)
    if cache is not None:
        cache.put(ref.sha256, arr)
    return arr


def _to_rgb(img: Any) -> Any:
    """RGB for every mode Pillow opens: 16-bit and float greyscale are scaled to 8 bits first."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = np.zeros(arr.shape, np.uint8) if hi <= lo else ((np.nan_to_num(arr, nan=lo) - lo) * (255.0 / (hi - lo))).astype(np.uint8)
        return Image.fromarray(scaled, "L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB")


def crop(ref: ImageRef, region: Box | None, cache: PixelCache | None = None) -> np.ndarray:
    """The pixels inside ``region`` (the whole image when ``None``)."""
    arr = pixels(ref, cache)
    if region is None:
        return arr
    x1, y1, x2, y2 = region.xyxy((ref.width, ref.height))
    return arr[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
