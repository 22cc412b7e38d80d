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
    return subprocess.run([PYTHON, "-m", "agentvlm", *args], check=False, capture_output=True, text=True, timeout=timeout)


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
    not_gguf = d / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 a zip file, not a model")
    return {
        "not_image": not_image,
        "truncated": truncated,
        "unsupported": unsupported,
        "bomb": _png_header_only(d / "bomb.png", 100_000, 100_000),
        "config": config,
        "broken_yaml": broken_yaml,
        "not_gguf": not_gguf,
        "empty": (d / "empty.jpg"),
    }


COUNTED = "How many people are in this picture?"  # the default graph counts in code: no model call
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
    # A broken model setting fails at start, even for a question the program answers without a model.
    ("missing GGUF, no model needed", lambda b, z: ["ask", "--llm", "llamacpp:/no/model.gguf", str(z), COUNTED], "GGUF model not found: /no/model.gguf; pass llamacpp:PATH.gguf with an existing file"),
    ("not a GGUF", lambda b, z: ["ask", "--llm", f"llamacpp:{b['not_gguf']}", str(z), COUNTED], "is not a GGUF model file (no GGUF header); convert it"),
    ("folder as GGUF", lambda b, z: ["ask", "--llm", f"llamacpp:{z.parent}", str(z), COUNTED], "GGUF model is a folder, not a file"),
    ("missing hf folder", lambda b, z: ["ask", "--vlm", "hf:/no/such/model", str(z), COUNTED], "/no/such/model does not exist; pass a folder written by save_pretrained"),
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
@pytest.mark.parametrize("command", ["chat", "eval", "serve"])
def test_every_command_checks_the_model_setting_at_start(command: str, zidane_jpg: Path, tmp_path: Path) -> None:
    argv = {"chat": ["chat", str(zidane_jpg)], "eval": ["eval", str(tmp_path / "none.jsonl")], "serve": ["serve", "--port", "1"]}[command]
    result = agentvlm(*argv, "--llm", "llamacpp:/no/model.gguf", "--vlm", "hf:/no/such/model")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "agentvlm: error: GGUF model not found: /no/model.gguf; pass llamacpp:PATH.gguf with an existing file, or llamacpp:smollm2"
    )


def test_doctor_reports_a_server_that_does_not_answer_and_a_missing_model() -> None:
    from tests.servers import closed_port

    result = agentvlm("doctor", "--llm", f"openai:m@http://127.0.0.1:{closed_port()}/v1", "--vlm", "hf:/no/such/model")
    rows = [line for line in result.stdout.splitlines() if " model:" in line]
    assert rows[0].startswith("no  model:llm") and "unreachable" in rows[0] and "is the server running?" in rows[0]
    assert rows[1].startswith("no  model:vlm") and "/no/such/model does not exist" in rows[1]


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
