"""Sessions without a model run: the CLI's listing, errors that teach, /save, and the Agent API's checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm import Agent
from agentvlm.cli import main
from agentvlm.errors import ConfigError, InputError
from agentvlm.sessions import SessionStore, data_home, open_saver

AGENTVLM = str(Path(sys.executable).parent / "agentvlm")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTVLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_data_home_follows_agentvlm_home_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTVLM_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "xdg" / "agentvlm"
    monkeypatch.setenv("AGENTVLM_HOME", str(tmp_path / "mine"))
    assert data_home() == tmp_path / "mine"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sessions", "show", "nope"], "no session named 'nope'"),
        (["sessions", "delete", "nope"], "there are no sessions yet"),
        (["report", "nope"], "no session named 'nope'"),
        (["sessions", "show", "../etc"], "bad session name '../etc'"),
        (["chat", "--session", "a b"], "bad session name 'a b'"),
        (["chat", "--session", "okname\n"], "bad session name 'okname\\n'"),  # "$" would have let the newline through
        (["sessions", "delete", "okname\n"], "bad session name 'okname\\n'"),
        (["chat", "missing.jpg"], "missing.jpg"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(home: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.slow
def test_save_keeps_a_temporary_chat_and_commands_report_errors(home: Path, examples_dir: Path) -> None:
    sign = examples_dir / "sign_no_double_parking.jpg"
    script = "/graph no-such-graph\n/image /no/such.jpg\n/save\n/trace\n/reset\n/save kept\n/quit\n"
    out = subprocess.run([AGENTVLM, "chat", str(sign)], input=script, check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "no-such-graph" in out.stderr and "/no/such.jpg" in out.stderr
    assert "give the session a name: /save NAME" in out.stderr
    assert "no answer yet" in out.stdout
    assert "saved as session kept" in out.stderr
    store = SessionStore()
    assert store.names() == ["kept"]
    meta = store.read_meta("kept")
    assert meta["images"] == [str(sign)] and meta["threads"] == ["chat", "chat2"] and meta["graph"] == "auto"

    listed = subprocess.run([AGENTVLM, "sessions", "list"], check=False, capture_output=True, text=True, timeout=120)
    assert listed.stdout.split()[:3] == ["kept", "0", "turns"]
    assert main(["sessions", "delete", "kept"]) == 0
    assert store.names() == []


def test_a_session_name_may_not_end_in_a_newline(home: Path) -> None:
    with pytest.raises(InputError, match="bad session name"):
        SessionStore().folder("okname\n")
    assert SessionStore().folder("okname").name == "okname"


def test_the_report_is_written_private_like_the_traces(home: Path, tmp_path: Path) -> None:
    from agentvlm.sessions import CHAT_THREAD

    store = SessionStore()
    store.write_meta("quiet", {"graph": "prism", "images": [], "threads": [CHAT_THREAD]})
    open_saver(store.folder("quiet") / "session.sqlite").conn.close()
    page = tmp_path / "quiet.html"
    page.write_text("an older, readable copy")
    page.chmod(0o644)
    assert main(["report", "quiet", "--out", str(page)]) == 0
    assert page.stat().st_mode & 0o777 == 0o600 and "<html" in page.read_text().lower()


def test_agent_conversation_needs_both_checkpointer_and_thread_id(tmp_path: Path, examples_dir: Path) -> None:
    sign = examples_dir / "sign_no_double_parking.jpg"
    with pytest.raises(ConfigError, match="needs both Agent\\(checkpointer=...\\) and thread_id"):
        Agent().ask(sign, "What does it say?", thread_id="t")
    saver = open_saver(tmp_path / "s.sqlite")
    with pytest.raises(ConfigError, match="thread_id"):
        Agent(checkpointer=saver).ask(sign, "What does it say?")
    with pytest.raises(InputError, match="question is empty"):
        Agent(checkpointer=saver).ask(sign, " ", thread_id="t")
    saver.conn.close()


@pytest.mark.slow
def test_a_checkpoint_with_the_question_analysis_loads_back(tmp_path: Path, zidane_jpg: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The state's ``analysis`` (a pydantic Question) is one of the types a checkpoint may hold."""
    import logging

    from agentvlm import Agent, Config
    from agentvlm.sessions import open_saver

    caplog.set_level(logging.WARNING)
    agent = Agent(Config(cache=False), checkpointer=open_saver(tmp_path / "s.sqlite"))
    agent.ask(zidane_jpg, "How many people are in this picture?", thread_id="t")
    agent.ask(zidane_jpg, "and the one on the left?", thread_id="t")  # reads the first turn back
    saved = [c.checkpoint["channel_values"].get("analysis") for c in agent.graph.checkpointer.list(None)]
    assert {q.form for q in saved if q is not None} >= {"count"}
    assert not [r for r in caplog.records if "Blocked deserialization" in r.getMessage()]
