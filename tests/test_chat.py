"""``agentvlm chat`` driven as a user would: piped, and through a pseudo-terminal (pexpect)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from agentvlm.sessions import CHAT_THREAD, SessionStore, open_saver, turns

pytestmark = pytest.mark.slow
PROMPT = "agentvlm>"
AGENTVLM = str(Path(sys.executable).parent / "agentvlm")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTVLM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return tmp_path / "home"


def _spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    child = pexpect.spawn(AGENTVLM, ["chat", *args], env=env, encoding="utf-8", timeout=300, dimensions=(40, 140))
    child.expect(PROMPT)
    return child


def _ask(child: pexpect.spawn, question: str) -> str:
    child.sendline(question)
    child.expect(r"Answer:\S* ([^\r\n]*)")
    answer = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.match.group(1)).strip()
    child.expect(PROMPT)
    return answer


def _turns(name: str) -> list[tuple[object, dict[str, object]]]:
    saver = open_saver(SessionStore().folder(name) / "session.sqlite")
    try:
        return list(turns(saver, CHAT_THREAD, with_values=True))
    finally:
        saver.conn.close()


def test_piped_chat_prints_one_answer_per_line(home: Path, examples_dir: Path) -> None:
    sign = examples_dir / "sign_no_double_parking.jpg"
    out = subprocess.run(
        [AGENTVLM, "chat", str(sign)], input="What does the sign say?\n\n/images\n/bogus\n/quit\nnever asked\n",
        check=False, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stdout
    assert "DOUBLE PARKING" in lines[0].upper()
    assert lines[1].startswith(f"1. {sign}") and "(800x600, " in lines[1]
    assert "unknown command '/bogus'" in out.stderr
    assert not (home / "sessions").exists() or not any((home / "sessions").iterdir()), "no session without --session"


def test_terminal_chat_follow_up_new_image_and_ctrl_c(home: Path, zidane_jpg: Path, bus_jpg: Path) -> None:
    child = _spawn(str(zidane_jpg), "--session", "talk")
    assert _ask(child, "How many people are in this picture?") == "2"
    follow = _ask(child, "and the one on the left?")
    assert follow  # whatever the small model says, the turn finished and was shown

    child.sendline("/image " + str(bus_jpg))
    child.expect(r"image 2: bus\.jpg \(810x1080\)")
    child.expect(PROMPT)
    child.sendline("/images")
    child.expect("zidane.jpg")
    child.expect("bus.jpg")
    child.expect(PROMPT)
    assert _ask(child, "Is there a bus?") == "yes"

    child.sendline("/show")
    child.expect(r"(\S+chat-003-i1\.png)")
    assert Path(child.match.group(1)).exists()
    child.expect("no display here")
    child.expect(PROMPT)

    child.sendline("Why are these people out today?")  # a question the LLM must reason about
    child.expect("reason · ")  # the live view shows the reasoning step running: cancel it there
    child.sendintr()
    index = child.expect(["cancelled", "Answer:"])
    assert index == 0, "Ctrl-C during a step cancels the answer"
    child.expect(PROMPT)
    child.sendline("/trace")  # still the last finished answer's trace
    child.expect("Is there a bus")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    done = _turns("talk")
    assert [(t.question, t.finished) for t, _ in done] == [  # type: ignore[attr-defined]
        ("How many people are in this picture?", True),
        ("and the one on the left?", True),
        ("Is there a bus?", True),
        ("Why are these people out today?", False),
    ]
    assert [h["question"] for h in done[2][1]["history"]] == ["How many people are in this picture?", "and the one on the left?"]  # type: ignore[index]
    traces = sorted(p.name for p in (home / "sessions" / "talk" / "traces").iterdir())
    assert traces == ["chat-001-i0.png", "chat-001.json", "chat-002-i0.png", "chat-002.json", "chat-003-i0.png", "chat-003-i1.png", "chat-003.json"]


def test_kill_9_loses_no_finished_turn_and_the_session_resumes(home: Path, zidane_jpg: Path) -> None:
    child = _spawn(str(zidane_jpg), "--session", "crash")
    assert _ask(child, "How many people are in this picture?") == "2"
    _ask(child, "Is there a tie?")
    child.sendline("Why is the person on the left smiling?")
    child.expect("reason · ")
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL

    shown = subprocess.run([AGENTVLM, "sessions", "show", "crash"], check=False, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "1. How many people are in this picture?" in shown.stdout and "→ 2" in shown.stdout
    assert "2. Is there a tie?" in shown.stdout
    assert "3. Why is the person on the left smiling?" in shown.stdout and "not finished" in shown.stdout

    child = _spawn("--session", "crash")  # no image given: the session's image comes back
    text = child.before
    assert "resumed, 2 turns" in text and "How many people are in this picture? → 2" in text and "zidane.jpg" in text
    assert _ask(child, "How many people are in this picture?") == "2"
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    done = _turns("crash")
    assert [t.finished for t, _ in done] == [True, True, False, True]  # type: ignore[attr-defined]
    assert [h["question"] for h in done[3][1]["history"]] == ["How many people are in this picture?", "Is there a tie?"]  # type: ignore[index]
