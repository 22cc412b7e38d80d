"""Images from files, URLs and data URIs: one guarded way in (``open_image``), nothing that hangs."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentvlm.errors import ImageError
from agentvlm.images import ImageLimits, open_image, pixels
from tests.servers import FileServer, closed_port

PYTHON = sys.executable


@pytest.fixture(scope="module")
def images(bus_jpg: Path, zidane_jpg: Path) -> Iterator[FileServer]:
    with FileServer(drip=0.4) as srv:
        bus = bus_jpg.read_bytes()
        srv.routes["/bus.jpg"] = (200, bus, "image/jpeg")
        srv.routes["/bus-typed-wrong.jpg"] = (200, bus, "text/html")
        srv.routes["/zidane"] = (200, zidane_jpg.read_bytes(), "image/jpeg; charset=binary")
        srv.routes["/gone.jpg"] = (404, b"no", "text/plain")
        srv.routes["/slow.jpg"] = (200, bus[:200], "image/jpeg")
        srv.slow.add("/slow.jpg")
        srv.routes["/endless.jpg"] = (200, b"\xff" * 65536, "image/jpeg")
        srv.endless.add("/endless.jpg")
        srv.redirects["/to-bus"] = "/bus.jpg"
        srv.redirects["/to-private"] = "http://10.0.0.1/photo.jpg"
        srv.redirects["/to-other-port"] = f"http://127.0.0.1:{closed_port()}/bus.jpg"
        yield srv


def _allowed(srv: FileServer, tmp_path: Path, **kw: object) -> ImageLimits:
    return ImageLimits(allow_hosts=(f"127.0.0.1:{srv.port}",), store_dir=tmp_path / "store", **kw)  # type: ignore[arg-type]


def test_a_url_on_an_allowed_loopback_host_is_fetched_checked_and_stored_by_hash(images: FileServer, tmp_path: Path, bus_jpg: Path) -> None:
    ref = open_image(f"{images.base_url}/bus.jpg", limits=_allowed(images, tmp_path))
    local = open_image(bus_jpg)
    assert (ref.sha256, ref.width, ref.height, ref.format) == (local.sha256, local.width, local.height, "JPEG")
    assert ref.source == f"{images.base_url}/bus.jpg"
    stored = Path(ref.path)
    assert stored.parent == tmp_path / "store" and stored.name.startswith(ref.sha256)
    assert stored.stat().st_mode & 0o777 == 0o600 and stored.parent.stat().st_mode & 0o777 == 0o700
    assert pixels(ref).shape == (ref.height, ref.width, 3)
    again = open_image(f"{images.base_url}/to-bus", limits=_allowed(images, tmp_path))  # a redirect on the same host
    assert again.path == ref.path
    assert open_image(f"{images.base_url}/zidane", limits=_allowed(images, tmp_path)).width == 1280


@pytest.mark.parametrize(
    ("path", "kw", "message"),
    [
        ("/to-private", {}, "resolves to a private address 10.0.0.1"),
        ("/to-other-port", {}, "resolves to a loopback address"),
        ("/bus-typed-wrong.jpg", {}, "content type 'text/html' is not one of image/*"),
        ("/bus.jpg", {"max_bytes": 10_000}, "over the limit of 10,000"),
        ("/endless.jpg", {"max_bytes": 200_000}, "more than 200,000 bytes"),
        ("/gone.jpg", {}, "answered HTTP 404"),
        ("/slow.jpg", {"timeout": 5.0, "deadline": 1.5}, "timed out"),
    ],
    ids=["redirect-to-private", "redirect-to-other-port", "wrong-content-type", "declared-too-large", "endless-body", "http-404", "slow-drip"],
)
def test_bad_urls_are_refused_with_one_clear_message(images: FileServer, tmp_path: Path, path: str, kw: dict[str, float], message: str) -> None:
    start = time.monotonic()
    with pytest.raises(ImageError, match="image URL not fetched") as err:
        open_image(f"{images.base_url}{path}", limits=_allowed(images, tmp_path, **kw))
    assert message in str(err.value)
    assert time.monotonic() - start < 10


def test_loopback_urls_are_refused_by_default_and_the_message_says_how_to_allow(images: FileServer) -> None:
    before = len(images.hits)
    with pytest.raises(ImageError, match="loopback address 127.0.0.1") as err:
        open_image(f"{images.base_url}/bus.jpg")
    assert "--allow-host HOST:PORT" in str(err.value)
    assert len(images.hits) == before  # refused before connecting


def test_an_unreachable_server_is_a_clear_error() -> None:
    port = closed_port()
    with pytest.raises(ImageError, match="could not be fetched"):
        open_image(f"http://127.0.0.1:{port}/a.jpg", limits=ImageLimits(allow_hosts=(f"127.0.0.1:{port}",), timeout=2))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("file:///etc/passwd", "file: URLs are not read"),
        ("ftp://example.org/a.jpg", "ftp: URLs are not read"),
        ("data:text/plain;base64,aGVsbG8=", "holds 'text/plain', not an image"),
        ("data:image/png;base64,@@@", "base64 is invalid"),
        ("data:image/png;base64", "malformed data: URI"),
        ("data:image/png;base64,aGVsbG8gd29ybGQ=", "is not an image agentvlm can read"),
    ],
)
def test_other_schemes_and_bad_data_uris_are_refused(source: str, message: str) -> None:
    with pytest.raises(ImageError, match=message) as err:
        open_image(source)
    assert "\n" not in str(err.value)


def test_a_data_uri_is_an_image_like_the_file(bus_jpg: Path, tmp_path: Path) -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(bus_jpg.read_bytes()).decode()
    ref = open_image(uri, limits=ImageLimits(store_dir=tmp_path))
    assert ref.sha256 == open_image(bus_jpg).sha256
    assert ref.source is not None and ref.source.startswith("data:image/jpeg;base64,") and len(ref.source) < 80
    with pytest.raises(ImageError, match="over the limit of 1,000"):
        open_image(uri, limits=ImageLimits(max_bytes=1000, store_dir=tmp_path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_special_files_are_refused_at_once_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    start = time.monotonic()
    for source, message in [(fifo, "is a FIFO (named pipe), not a regular file"), ("/dev/zero", "is a character device"),
                            (loop, "symbolic link loop")]:  # fmt: skip
        with pytest.raises(ImageError, match=re.escape(message)):
            open_image(source)
    assert time.monotonic() - start < 1


def test_the_byte_cap_is_checked_before_reading(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.jpg"
    with open(sparse, "wb") as fh:
        fh.truncate(5_000_000_000)  # 5 GB on paper, nothing on disk
    start = time.monotonic()
    with pytest.raises(ImageError, match="is 5,000,000,000 bytes, over the limit of 50,000,000"):
        open_image(sparse)
    assert time.monotonic() - start < 1


def test_an_embedding_application_keeps_pillows_own_bomb_guard(bus_jpg: Path, tmp_path: Path) -> None:
    """The pixel cap is per call: agentvlm neither lifts nor lowers Pillow's process-wide limit."""
    code = f"""
import warnings
from PIL import Image
default = Image.MAX_IMAGE_PIXELS
assert default == int(1024 * 1024 * 1024 // 4 // 3), default
from agentvlm.images import ImageLimits, open_image, pixels
ref = open_image({str(bus_jpg)!r})
pixels(ref)
assert Image.MAX_IMAGE_PIXELS == default, Image.MAX_IMAGE_PIXELS
Image.MAX_IMAGE_PIXELS = 1000  # the application's own, stricter limit
ref = open_image({str(bus_jpg)!r}, limits=ImageLimits(max_pixels=10_000_000))
pixels(ref.model_copy(update={{"sha256": "0" * 64}}))  # decoded again, not from the cache
assert Image.MAX_IMAGE_PIXELS == 1000
try:
    Image.open({str(bus_jpg)!r})
except Image.DecompressionBombError:
    print("app guard intact")
"""
    out = subprocess.run(check=False, args=[PYTHON, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "app guard intact"


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "I", "I;16", "F", "YCbCr", "LAB", "HSV", "RGBX"])
def test_every_mode_pillow_opens_becomes_rgb(mode: str, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    img = Image.linear_gradient("L").resize((48, 32))
    base = img.convert(mode) if mode not in ("PA", "I;16", "LAB", "HSV", "YCbCr") else Image.new(mode, (48, 32))
    saved = 0
    for ext in ("png", "tiff", "webp", "gif", "bmp", "jpg"):
        path = tmp_path / f"m.{ext}"
        try:
            base.save(path)
        except (OSError, ValueError, KeyError):
            continue
        arr = pixels(open_image(path))
        assert arr.shape == (32, 48, 3) and arr.dtype == np.uint8
        saved += 1
    assert saved >= 1


def test_an_animated_gif_and_a_lying_extension_are_sane(tmp_path: Path, bus_jpg: Path) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "green", "blue")]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert tuple(pixels(open_image(gif))[0, 0]) == (255, 0, 0)
    png_named_jpg = tmp_path / "really_a_png.jpg"
    Image.open(bus_jpg).resize((40, 30)).save(png_named_jpg, format="PNG")
    assert open_image(png_named_jpg).format == "PNG"


@pytest.mark.slow
def test_the_cli_answers_about_an_image_url_on_an_allowed_loopback_host(images: FileServer, examples_dir: Path, tmp_path: Path) -> None:
    images.routes["/photo.jpg"] = (200, (examples_dir / "street_scene_pedestrians.jpg").read_bytes(), "image/jpeg")
    url = f"{images.base_url}/photo.jpg"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    question = "How many people are in this picture?"
    refused = subprocess.run(check=False, args=[PYTHON, "-m", "agentvlm", "ask", url, question],
                             capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert refused.returncode == 2 and "loopback address 127.0.0.1" in refused.stderr and "--allow-host" in refused.stderr
    out = subprocess.run(check=False, args=[PYTHON, "-m", "agentvlm", "ask", "--allow-host", f"127.0.0.1:{images.port}", url, question],
                         capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().isdigit() and int(out.stdout.strip()) >= 2


def test_eval_datasets_keep_urls_and_data_uris_as_given(tmp_path: Path) -> None:
    from agentvlm.eval.dataset import load_dataset

    data = tmp_path / "d.jsonl"
    data.write_text(
        '{"id": "a", "image": "https://example.org/a.jpg", "question": "How many?", "answer": "2"}\n'
        '{"id": "b", "images": ["data:image/png;base64,iVBORw0KGgo=", "local.jpg"], "question": "Same?", "answer": "yes"}\n'
    )
    items = load_dataset(data, check_images=False)
    assert items[0].images == ["https://example.org/a.jpg"]
    assert items[1].images[0].startswith("data:image/png") and items[1].images[1] == str((tmp_path / "local.jpg").resolve())
