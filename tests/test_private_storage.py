"""What agentvlm keeps for a user is private (0700/0600), and storage or tool failures degrade instead of crashing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent, Config
from agentvlm.errors import StorageError
from agentvlm.paths import private_dir, write_private
from agentvlm.tools.ocr_rapidocr import RapidOCRTool

PYTHON = sys.executable


def _env(home: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "AGENTVLM_HOME": str(home), "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _chat(args: list[str], stdin: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(check=False, args=[PYTHON, "-m", "agentvlm", "chat", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd, umask=0o022)  # fmt: skip


def test_private_dir_and_files_ignore_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        f = write_private(folder / "x.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_a_blocked_home_is_one_clear_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot write .*point AGENTVLM_HOME"):
        private_dir(blocker / "home")


@pytest.mark.slow
def test_sessions_traces_caches_and_history_are_private(tmp_path: Path, examples_dir: Path) -> None:
    home, cache = tmp_path / "home", tmp_path / "cache"
    env = _env(home, cache)
    sign = examples_dir / "sign_no_double_parking.jpg"
    out = _chat([str(sign), "--session", "s1"], "What does the sign say?\n/quit\n", env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
    found = [p for root in (home, cache) for p in [root, *root.rglob("*")]]
    assert any(p.name == "session.sqlite" for p in found) and any(p.suffix == ".png" for p in found)
    assert any("perception" in p.parts for p in found)
    loose = [f"{p} {oct(stat.S_IMODE(p.stat().st_mode))}" for p in found
             if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)]  # fmt: skip
    assert loose == []


@pytest.mark.slow
def test_chat_goes_on_without_saving_when_home_cannot_be_written(tmp_path: Path, examples_dir: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    env = _env(blocker / "home", tmp_path / "cache")
    sign = examples_dir / "sign_no_double_parking.jpg"
    out = _chat([str(sign), "--session", "kept"], "What does the sign say?\n/quit\n", env, tmp_path)
    assert out.returncode == 0, out.stderr
    both = " ".join((out.stdout + out.stderr).split())  # rich wraps long warnings
    assert "this chat goes on without saving" in both and "Traceback" not in both
    assert both.count("goes on without saving") == 1
    assert "PARKING" in out.stdout.upper()  # the answer still came


class BrokenOCR(RapidOCRTool):
    """PP-OCR whose runtime dies mid-run (a scripted failure of a real tool)."""

    def _run(self, pixels: Any, params: Any, *, prompts: Any) -> Any:
        raise RuntimeError("onnxruntime session died")


@pytest.mark.slow
def test_a_tool_that_raises_mid_run_becomes_a_note_and_the_answer_uses_the_rest(examples_dir: Path) -> None:
    agent = Agent(Config(cache=False), tools={"ocr": BrokenOCR()})
    answer = agent.ask(examples_dir / "street_scene_pedestrians.jpg", "How many people are there and what does the text say?")
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "rapidocr failed on image 1 (RuntimeError: onnxruntime session died); answering without it" in notes
    assert any(e.tool == "darknet" for e in answer.evidence)
    assert answer.text.strip()
