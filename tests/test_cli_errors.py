"""Every kind of bad input gets one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

PYTHON = sys.executable


def agentvlm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "agentvlm", *args], capture_output=True, text=True, timeout=timeout)


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width`` x ``height`` but carries one byte of data: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, zidane_jpg: Path) -> dict[str, Path]:
    from PIL import Image

    d = tmp_path_factory.mktemp("bad")
    not_image = d / "notes.jpg"
    not_image.write_text("these are meeting notes, not a photo\n")
    truncated = d / "truncated.jpg"
    truncated.write_bytes(zidane_jpg.read_bytes()[:20_000])
    unsupported = d / "photo.ppm"
    Image.open(zidane_jpg).convert("RGB").resize((64, 40)).save(unsupported)
    config = d / "config.yaml"
    config.write_text("llm: llamacpp:smollm2\nllmm: typo\n")
    broken_yaml = d / "broken.yaml"
    broken_yaml.write_text("llm: [unclosed\n")
    return {
        "not_image": not_image,
        "truncated": truncated,
        "unsupported": unsupported,
        "bomb": _png_header_only(d / "bomb.png", 100_000, 100_000),
        "config": config,
        "broken_yaml": broken_yaml,
        "empty": (d / "empty.jpg"),
    }


CASES = [
    ("missing file", lambda b, z: ["ask", "/no/such/photo.jpg", "What is this?"], "image not found: /no/such/photo.jpg"),
    ("not an image", lambda b, z: ["ask", str(b["not_image"]), "What is this?"], "is not an image agentvlm can read"),
    ("truncated", lambda b, z: ["ask", str(b["truncated"]), "What is this?"], "truncated or corrupt"),
    ("decompression bomb", lambda b, z: ["ask", str(b["bomb"]), "What is this?"], "decompression bomb"),
    ("over the pixel limit", lambda b, z: ["ask", "--max-pixels", "1000", str(z), "What is this?"], "over the limit of 1,000"),
    ("unsupported format", lambda b, z: ["ask", str(b["unsupported"]), "What is this?"], "which is not supported; convert it"),
    ("empty question", lambda b, z: ["ask", str(z), "   "], "the question is empty"),
    ("question missing", lambda b, z: ["ask", str(z)], "give one or more images and then the question"),
    ("unknown config key", lambda b, z: ["ask", "--config", str(b["config"]), str(z), "How many?"], "unknown config key 'llmm'"),
    ("malformed config YAML", lambda b, z: ["ask", "--config", str(b["broken_yaml"]), str(z), "How many?"], "is not valid YAML"),
    ("unknown graph", lambda b, z: ["ask", "--graph", "no_such_graph", str(z), "How many?"], "unknown graph 'no_such_graph'"),
    ("bad model spec", lambda b, z: ["ask", "--llm", "gpt4", str(z), "How many?"], "has no backend"),
    ("missing GGUF", lambda b, z: ["ask", "--llm", "llamacpp:/no/model.gguf", str(z), "How many?"], "GGUF model not found"),
    ("folder as image", lambda b, z: ["ask", str(z.parent), "What is this?"], "is a folder, not an image"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "argv", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line_and_exit_2(case: str, argv, message: str, bad_inputs, zidane_jpg: Path) -> None:
    result = agentvlm(*argv(bad_inputs, zidane_jpg))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("agentvlm: error: ")
    assert message in lines[0]
    assert result.stdout == ""


@pytest.mark.slow
def test_a_bad_second_image_fails_before_any_work(bad_inputs, zidane_jpg: Path) -> None:
    result = agentvlm("ask", str(zidane_jpg), str(bad_inputs["truncated"]), "How many people?")
    assert result.returncode == 2
    assert "truncated.jpg" in result.stderr


def test_help_and_version() -> None:
    result = agentvlm("--help")
    assert result.returncode == 0
    assert "ask" in result.stdout and "doctor" in result.stdout
    assert agentvlm("--version").stdout.startswith("agentvlm ")
