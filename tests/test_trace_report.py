"""The HTML report of a session, built through the Agent API, opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentvlm import Agent
from agentvlm.cli import main
from agentvlm.sessions import CHAT_THREAD, SessionStore, open_saver, turns
from agentvlm.trace.report import ReportTurn, render_report
from agentvlm.types import Answer

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path, bus_jpg: Path) -> Iterator[Path]:
    """Session ``rep``: a finished turn, a turn closed before reasoning (cancelled), a finished follow-up."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("AGENTVLM_HOME", str(home))
    store = SessionStore()
    sign = examples_dir / "sign_no_double_parking.jpg"
    store.write_meta("rep", {"graph": "prism", "images": [str(sign), str(bus_jpg)], "threads": [CHAT_THREAD]})
    saver = open_saver(store.folder("rep") / "session.sqlite")
    agent = Agent(checkpointer=saver)
    first = agent.ask(sign, "What does the sign say?", thread_id=CHAT_THREAD)
    assert "PARKING" in first.text.upper()
    stream = agent.stream(sign, "Is <b>this</b> a trap?", thread_id=CHAT_THREAD, progress=True)
    for event in stream:
        if event.kind == "start" and event.node == "reason":
            break
    stream.close()  # cancelled before the answer: the turn stays unfinished
    agent.ask([sign, bus_jpg], "Is there a bus?", thread_id=CHAT_THREAD)
    saver.conn.close()
    yield home
    mp.undo()


def test_a_cancelled_turn_is_kept_out_of_the_history(session: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTVLM_HOME", str(session))
    saver = open_saver(SessionStore().folder("rep") / "session.sqlite")
    done = turns(saver, CHAT_THREAD, with_values=True)
    assert [t.finished for t, _ in done] == [True, False, True]
    assert [h["question"] for h in done[2][1]["history"]] == ["What does the sign say?"]
    saver.conn.close()


def test_report_escapes_untrusted_text() -> None:
    answer = Answer(question="<script>alert(1)</script>", text='"><img src=x onerror=alert(2)>', images=[])
    html = render_report("t <i>", [ReportTurn(n=1, question=answer.question, answer=answer)])
    assert "<script>alert" not in html and "<img src=x" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)")
def test_report_renders_in_chromium_with_every_turn_and_image(session: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AGENTVLM_HOME", str(session))
    page = tmp_path / "rep.html"
    assert main(["report", "rep", "--out", str(page)]) == 0
    html = page.read_text()
    assert "src=\"http" not in html and "src='http" not in html  # self-contained
    for text in ("What does the sign say?", "Is &lt;b&gt;this&lt;/b&gt; a trap?", "Is there a bus?", "(no answer)"):
        assert text in html
    assert html.count("data:image/jpeg;base64,") == 3  # 1 image in turn 1, 2 in turn 3

    shot = tmp_path / "shot.png"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()], check=True, capture_output=True, timeout=120)
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1200, 2000)
        assert len(set(img.convert("L").resize((60, 100)).getdata())) > 20  # not a blank page

    probe = tmp_path / "probe.html"
    marker = (
        "<script>addEventListener('load', () => { document.body.dataset.loaded = Array.from(document.images)"
        ".map(i => i.complete && i.naturalWidth > 0 ? '1' : '0').join(''); });</script></body>"
    )
    probe.write_text(html.replace("</body>", marker))
    dom = subprocess.run(
        [*common, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    loaded = re.search(r'data-loaded="([01]*)"', dom)
    assert loaded is not None, dom[:500]
    assert loaded.group(1) == "111", "every annotated image decodes in the browser"
