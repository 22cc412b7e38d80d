"""Every script in examples/ runs as a newcomer runs it, and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run_example(script: str, *args: str, home: Path) -> list[str]:
    """``python examples/SCRIPT ARGS`` from the repository root with fresh caches; its stdout lines."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        "XDG_CACHE_HOME": str(home / "cache"),
        "AGENTVLM_HOME": str(home / "data"),
    }
    proc = subprocess.run(
        [sys.executable, f"examples/{script}", *args],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


def section(lines: list[str], title: str) -> list[str]:
    start = lines.index(f"== {title}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("== ")), len(lines))
    return lines[start:end]


def test_ask_prints_the_answer_and_what_decided_it_then_streams_steps_before_the_answer(
    tmp_path: Path,
) -> None:
    lines = run_example("ask.py", home=tmp_path)
    asked = section(lines, "ask")
    assert asked[0].startswith("answer: ") and "PARKING" in asked[0]
    assert asked[1].startswith("form: read  basis: program  model calls: ")
    for title in ("stream", "astream"):
        events = section(lines, title)
        assert events[-1] == asked[0], title
        steps = [line for line in events[:-1] if line.startswith("step ")]
        assert len(steps) == len(events) - 1 and any(
            s.startswith("step perceive:ocr") for s in steps
        ), events
        assert steps[-1].startswith("step answer "), events


def test_ask_takes_an_image_and_a_question(tmp_path: Path) -> None:
    lines = run_example(
        "ask.py",
        "examples/images/street_scene_pedestrians.jpg",
        "How many people are in this picture?",
        home=tmp_path,
    )
    answer = section(lines, "ask")[0]
    assert answer.removeprefix("answer: ").isdigit(), answer
    assert section(lines, "ask")[1].startswith("form: count ")


def test_custom_graph_validates_catches_a_typo_and_answers_with_its_own_nodes(
    tmp_path: Path,
) -> None:
    lines = run_example("custom_graph.py", home=tmp_path)
    assert lines[0].endswith("custom_graph.yaml: ok (6 nodes, 5 edges)")
    assert "unknown node type 'verbalise'" in lines[1] and "broken.yaml:" in lines[1]
    assert (
        lines[2]
        == "graph custom_example: analyze -> plan -> perceive -> verbalize -> reason -> answer"
    )
    answer = next(line for line in lines if line.startswith("answer: "))
    assert answer.removeprefix("answer: ").isdigit(), lines
    assert "graph: custom_example" in next(line for line in lines if line.startswith("form: "))
    steps = next(line for line in lines if line.startswith("steps: "))
    assert {"perceive:detect", "perceive:ocr", "verbalize", "reason"} <= set(
        steps.removeprefix("steps: ").split(", ")
    )


def test_embed_langgraph_wraps_agentvlms_answer_in_the_users_own_reply(tmp_path: Path) -> None:
    lines = run_example(
        "embed_langgraph.py",
        "examples/images/sign_no_double_parking.jpg",
        "Hi there. What does the sign say? Thanks!",
        home=tmp_path,
    )
    nodes = lines[0].removeprefix("nodes: ").split(", ")
    assert {"pick", "format", "agentvlm:reason", "agentvlm:answer"} <= set(nodes)
    reply = lines[-1]
    assert reply.startswith("[my-app] You asked: What does the sign say? | agentvlm says: "), reply
    assert "PARKING" in reply and "decided by program" in reply and "perceive:ocr" in reply


def test_graph_input_checks_the_image_and_question_as_ask_does() -> None:
    from agentvlm import Agent, InputError

    agent = Agent()
    state = agent.graph_input(
        REPO / "examples/images/sign_no_double_parking.jpg", " What does the sign say? "
    )
    assert state["question"] == "What does the sign say?" and len(state["images"]) == 1
    with pytest.raises(InputError, match="the question is empty"):
        agent.graph_input(REPO / "examples/images/sign_no_double_parking.jpg", "  ")
    with pytest.raises(InputError):
        agent.graph_input(REPO / "examples/images/no_such_photo.jpg", "What does the sign say?")


_PLUGIN_RUN = """
import json, sys
from agentvlm import Agent, Config
from agentvlm.tools import tool_kinds
out = {"kinds": list(tool_kinds()), "config": Config.build({"tools": {"qr": "qr_opencv"}}).tools.qr}
for graph in ("auto", "proreason"):
    a = Agent(Config(cache=False, graph=graph)).ask(sys.argv[1], "What does the QR code say?")
    out[graph] = {
        "text": a.text,
        "steps": [s.node for s in a.steps],
        "tools": {s.node: [c.name for c in s.calls if c.kind == "tool"] for s in a.steps},
        "evidence": {e.id: e.text for e in a.evidence},
    }
print(json.dumps(out))
"""


def test_a_tool_kind_from_an_installed_plugin(tmp_path: Path) -> None:
    """examples/qr_plugin, installed with pip, adds the qr kind: auto runs it, ProReason dispatches to it."""
    import json

    import cv2
    import numpy as np

    site = tmp_path / "site"
    subprocess.run(  # as a user installs it: pip builds it in an isolated environment
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(REPO / "examples" / "qr_plugin")],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    code = cv2.resize(cv2.QRCodeEncoder.create().encode("TRAIN 4:15 PLATFORM 2"), (350, 350), interpolation=cv2.INTER_NEAREST)
    poster = np.full((600, 800), 255, np.uint8)
    poster[100:450, 200:550] = code
    image = tmp_path / "poster.png"
    cv2.imwrite(str(image), poster)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "AGENTVLM_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", _PLUGIN_RUN, str(image)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["kinds"] == ["detect", "ocr", "segment", "qr"] and out["config"] == "qr_opencv"
    auto, loop = out["auto"], out["proreason"]
    assert auto["tools"]["perceive:qr"] == ["qr_opencv"] and auto["evidence"]["qr0"] == "TRAIN 4:15 PLATFORM 2"
    assert auto["text"] == "TRAIN 4:15 PLATFORM 2"  # decided by the read program on the plugin's evidence
    # ProReason: the dispatcher's round ran the plugin's tool and its evidence reached the summarizer
    # (which of the read candidates SmolLM2 then picks is the small model's business, not the plugin's).
    read = {k: v for k, v in loop["evidence"].items() if k.startswith("r") and k.endswith(".qr0")}  # ids of act rounds
    assert list(read.values()) == ["TRAIN 4:15 PLATFORM 2"], loop
