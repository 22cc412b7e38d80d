"""The CLI as a person sees it: the live view on a terminal, and `agentvlm doctor`."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

SIGN = Path(__file__).resolve().parents[1] / "examples" / "images" / "sign_no_double_parking.jpg"


@pytest.mark.slow
def test_live_display_on_a_terminal_shows_steps_then_the_answer() -> None:
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentvlm", "ask", "--no-cache", str(SIGN), "What does the sign say?"],
        stdin=child, stdout=child, stderr=child, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    for node in ("analyze", "plan", "perceive:detect", "perceive:ocr", "program", "route"):
        assert node in screen
    assert "Answer: NOTICE DOUBLE PARKING" in screen
    assert "model calls" in screen


@pytest.mark.slow
def test_doctor_lists_every_backend_and_tool() -> None:
    out = subprocess.run([sys.executable, "-m", "agentvlm", "doctor"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("agentvlm ")
    rows = {line.split()[2]: line.split()[0] for line in lines[2:]}
    assert rows["llamacpp"] == "ok" and rows["darknet"] == "ok" and rows["rapidocr"] == "ok" and rows["grabcut"] == "ok"
    assert {"openai", "transformers", "ollama", "paddleocr", "ultralytics", "sam"} <= set(rows)
