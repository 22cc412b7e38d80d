"""End to end: the ``udkag`` graph answers from a local corpus what the photo alone cannot tell.

The real sign photo (OCR reads "Sports Centre / Wivennoe Fark / Conference Centre /
Car Parks"), the real OCR and detector, BM25 + MiniLM reranking, and SmolLM2
writing the queries and the cited answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm.agent import Agent
from agentvlm.config import Config

QUESTION = "Which painter painted the park named on this sign?"

pytestmark = pytest.mark.slow


@pytest.mark.retrieval
def test_cli_answers_from_the_local_corpus_and_cites_it(examples_dir: Path, corpus: Path, tmp_path: Path) -> None:
    image = examples_dir / "sign_sports_centre_directions.jpg"
    env_cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--json", "--graph", "udkag", "--search", f"local:{corpus}", str(image), QUESTION],
        capture_output=True, text=True, timeout=600, check=False, env={**os.environ, **env_cache},
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    # What SmolLM2 writes is its own; that it cites only real sources, and that the source holds the fact, is the code's.
    cited = {f"[{s['n']}]" for s in answer["sources"]}
    assert set(re.findall(r"\[\d+\]", answer["text"])) <= cited and "Constable" in answer["sources"][0]["snippet"]
    assert [s["node"] for s in answer["steps"]][-4:] == ["web_search", "verbalize", "reason", "answer"]
    search_step = next(s for s in answer["steps"] if s["node"] == "web_search")
    assert any(c["name"] == "search:local" for c in search_step["calls"])


@pytest.mark.retrieval
def test_answer_carries_its_sources(examples_dir: Path, corpus: Path, tmp_path: Path) -> None:
    agent = Agent(Config(graph="udkag", search=f"local:{corpus}", cache_dir=tmp_path / "cache"))
    answer = agent.ask(examples_dir / "sign_sports_centre_directions.jpg", QUESTION)
    assert answer.sources, "Agent._answer must pass state['sources'] into Answer.sources"
    assert answer.sources[0].n == 1 and answer.sources[0].url.endswith("wivenhoe_park.md")
    assert answer.sources[0].title == "Wivenhoe Park" and "Constable" in answer.sources[0].snippet


@pytest.mark.retrieval
def test_without_network_the_answer_says_what_was_not_checked(examples_dir: Path, tmp_path: Path) -> None:
    import socket

    try:
        socket.getaddrinfo("duckduckgo.com", 443)
        pytest.skip("this machine has internet; the test needs one without")
    except OSError:
        pass
    agent = Agent(Config(graph="udkag", search="ddgs", cache_dir=tmp_path / "cache"))
    answer = agent.ask(examples_dir / "sign_copy_centre_shop.jpg", "When was this shop founded?")
    assert "not checked against outside sources: search unavailable" in answer.text
    step = next(s for s in answer.steps if s.node == "web_search")
    assert step.note and "no network" in step.note
