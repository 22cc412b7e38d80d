"""The VLM at the centre of ``auto``: the ``look`` step asks a configured VLM the question in its answer form,
about a crop around what a tool located, and the tools check it.

The VLM is a scripted one behind a real OpenAI-compatible server on loopback
(``tests/scripted_vlm.py``): each test decides what it "sees" and checks what it was
sent (the prompt, the crop) and what reached the user. The tools and the reasoning
LLM are the real embedded ones, on real photos.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentvlm import Agent, Config
from agentvlm.look import SURE, View, focused_prompt, views_for, weigh
from agentvlm.question import analyze
from agentvlm.types import Box, Evidence, ImageRef
from tests.scripted_vlm import Reply, ScriptedVLM, Seen
from tests.tiny_vlm import tiny_vlm_dir  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STREET = REPO / "examples" / "images" / "street_scene_pedestrians.jpg"


@pytest.fixture(scope="module")
def vlm() -> Iterator[ScriptedVLM]:
    with ScriptedVLM("no") as server:
        yield server


@pytest.fixture(scope="module")
def agent(vlm: ScriptedVLM) -> Agent:
    return Agent(Config(vlm=vlm.spec, cache=False))


@pytest.fixture
def fresh(vlm: ScriptedVLM) -> ScriptedVLM:
    vlm.seen.clear()
    vlm.logprobs = True
    return vlm


def _notes(answer: object) -> str:
    return " | ".join(s.note or "" for s in answer.steps)  # type: ignore[attr-defined]


def _look_statements(answer: object) -> list[Evidence]:
    return [e for e in answer.evidence if e.id.startswith("look") and e.kind == "statement"]  # type: ignore[attr-defined]


# ---- what no tool can see goes to the VLM --------------------------------------------------------------


def test_an_unseen_noun_is_answered_by_the_vlm_in_the_question_form(agent: Agent, fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply("Ceramic.", p=0.8) if "material" in seen.prompt else Reply("I am not sure", p=0.2)
    answer = agent.ask(STREET, "What is the bench made of?")
    assert (answer.text.lower(), answer.basis, answer.form) == ("ceramic", "vlm", "attribute")
    assert answer.vlm_calls == 1 and len(fresh.seen) == 1
    sent = fresh.seen[0]
    assert "What is the bench made of?" in sent.prompt and "Answer with one word: the material." in sent.prompt
    assert sent.logprobs  # confidence comes from the server's logprobs
    assert "look: vlm decides" in _notes(answer)


def test_an_open_question_gets_the_vlms_sentence(agent: Agent, fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply("He is running to catch the bus.", p=0.7)
    answer = agent.ask(STREET, "Why is the man running?")
    assert answer.text.startswith("He is running to catch the bus") and answer.basis == "vlm"
    assert "Answer in one short sentence." in fresh.seen[0].prompt


def test_without_a_vlm_auto_never_looks(tmp_path: Path) -> None:
    answer = Agent(Config(cache=False)).ask(STREET, "Why is the man running?")
    assert "look" not in [s.node for s in answer.steps] and answer.vlm_calls == 0 and answer.basis != "vlm"
    assert "route: reason" in _notes(answer)


# ---- the tools check the VLM ---------------------------------------------------------------------------


def test_confident_detections_overrule_a_wrong_vlm_count(agent: Agent, fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply("3", p=0.99)
    answer = agent.ask(STREET, "How many people are there?")
    assert answer.basis == "program" and answer.text != "3" and int(answer.text) >= 4
    assert "Answer with a number only." in fresh.seen[0].prompt and answer.vlm_calls == 1
    notes = _notes(answer)
    assert "tools decides" in notes and "the VLM said '3'" in notes and "overruled" in notes
    said = _look_statements(answer)
    assert said and said[0].text == "3" and said[0].attributes["agrees"] is False and said[0].attributes["decided"] is False


def test_a_sure_vlm_outweighs_the_tools_guess_and_an_unsure_one_goes_to_reasoning(agent: Agent, fresh: ScriptedVLM) -> None:
    # "the man's shirt": the program measures the man's colour, not his shirt's, so its answer is a guess
    fresh.script = lambda seen: Reply("Blue", p=0.9)
    sure = agent.ask(STREET, "What colour is the man's shirt?")
    assert (sure.text, sure.basis) == ("blue", "vlm"), _notes(sure)

    fresh.script = lambda seen: Reply("Purple", p=0.2)
    unsure = agent.ask(STREET, "What colour is the man's shirt?")
    assert unsure.basis != "vlm" and "neither is decisive: reasoning reads both" in _notes(unsure)
    reasoned = next(s for s in unsure.steps if s.node == "reason")
    assert reasoned.calls, "the reasoning LLM must be asked when neither input decides"
    ids = {e.id for e in unsure.evidence}
    assert "look0" in ids or any(e.text == "Purple" for e in unsure.evidence)


def test_a_reply_out_of_form_costs_only_itself(agent: Agent, fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply("There are many people walking around in the street.", p=0.9)
    answer = agent.ask(STREET, "How many people are there?")
    assert answer.basis == "program" and answer.text.isdigit()
    assert "is not a count answer" in _notes(answer)


# ---- looking closer: a crop around what a tool located -------------------------------------------------


def test_a_small_person_in_a_large_image_is_shown_to_the_vlm_as_a_crop(agent: Agent, fresh: ScriptedVLM, tmp_path: Path) -> None:
    from tests.fixtures.zoom.canvas import make_canvas

    path = tmp_path / "canvas.jpg"
    (person,) = make_canvas(path)  # a 150-px person in a 3000x2250 photo

    def script(seen: Seen) -> Reply:
        if "Yes or No" in seen.prompt:  # ZoomEye's confidence questions, if it searches
            return Reply("Yes", p=0.6)
        close = any(max(img.size) < 600 for img in seen.images[1:])
        return Reply("Red", p=0.9) if close else Reply("Gray", p=0.3)

    fresh.script = script
    answer = agent.ask(path, "What colour is the person's jacket?")
    assert (answer.text, answer.basis) == ("red", "vlm"), _notes(answer)
    look = [s for s in fresh.seen if "Yes or No" not in s.prompt]
    assert len(look) == 1 and len(look[0].images) == 2, "the whole image and the crop, in one request"
    assert "close-up of the person" in look[0].prompt
    region = _look_statements(answer)[0].box
    assert region is not None and region.area < 0.05
    px1, py1, px2, py2 = person
    assert region.x1 <= px1 + 0.01 and region.y1 <= py1 + 0.01 and region.x2 >= px2 - 0.01 and region.y2 >= py2 - 0.01


def test_views_prefer_the_zoom_region_and_keep_the_whole_image_for_the_scene() -> None:
    ref = ImageRef(path="x.jpg", sha256="0" * 64, width=3000, height=2000, format="JPEG")
    zoomed = Evidence(id="zoom0", tool="zoomeye", kind="statement", box=Box(x1=0.7, y1=0.7, x2=0.75, y2=0.8), score=0.8, attributes={"cue": "person"})
    det = Evidence(id="det0", tool="darknet", kind="object", label="person", box=Box(x1=0.1, y1=0.1, x2=0.2, y2=0.3), score=0.9)
    views = views_for(analyze("What is the person wearing?"), [det, zoomed], [ref])
    assert [v.region is None for v in views] == [True, False] and views[1].source == "zoom0"
    assert views[1].region == zoomed.box  # the region ZoomEye found already holds its context
    assert views_for(analyze("What is the person wearing?"), [det], [ref])[1].region.x1 < 0.1  # a detection gets a margin
    assert [v.region for v in views_for(analyze("How many people are there?"), [det, zoomed], [ref])] == [None]
    assert [v.region for v in views_for(analyze("What is the person wearing?"), [det], [ref], context=False)] == [views_for(analyze("What is the person wearing?"), [det], [ref], context=False)[0].region]


def test_the_prompt_names_what_each_image_is_and_the_form() -> None:
    views = [View(), View(region=Box(x1=0.1, y1=0.1, x2=0.3, y2=0.3), about="a close-up of the dog from that photo")]
    text = focused_prompt(analyze("Is the dog asleep?"), views)
    assert "Image 2: a close-up of the dog from that photo." in text and text.endswith("Answer with yes or no only.")
    assert "Options:\nA. red\nB. blue" in focused_prompt(analyze("What colour?", ["red", "blue"]), [View()], ["red", "blue"])


# ---- the policy, written down in one place -------------------------------------------------------------


def test_the_policy() -> None:
    assert weigh("7", "program", "3", 0.99).decider == "tools"
    assert weigh("7", "program", "7", 0.99).agrees is True
    assert weigh(None, None, "wood", None).decider == "vlm"  # the only eye, confidence unknown
    assert weigh(None, None, "wood", SURE - 0.1).decider == "reason"
    assert weigh("black", "guess", "blue", SURE + 0.1).basis == "vlm"
    assert weigh("black", "guess", "blue", None).decider == "reason"
    assert weigh("black", "guess", "Black.", 0.1).decider == "vlm"  # agreement settles it
    assert weigh("black", "guess", None, None) .model_dump(include={"decider", "basis"}) == {"decider": "tools", "basis": "guess"}
    assert weigh(None, None, None, None).decider == "reason"


# ---- cost and failure ----------------------------------------------------------------------------------


def test_a_vlm_that_fails_costs_only_its_answer(agent: Agent, fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply(status=500)
    answer = agent.ask(STREET, "How many people are there?")
    assert answer.basis == "program" and answer.text.isdigit()
    assert "the VLM failed" in _notes(answer) and answer.vlm_calls == 1


def test_a_hanging_vlm_is_given_up_on_within_the_time_limit(vlm: ScriptedVLM) -> None:
    vlm.seen.clear()
    vlm.script = lambda seen: Reply("2", delay=30)
    hurried = Agent(Config(vlm=vlm.spec, vlm_timeout=2, cache=False))
    hurried.ask(STREET, "Is there a person?")  # warm the tools and the LLM
    start = time.monotonic()
    answer = hurried.ask(STREET, "How many people are there?")
    assert time.monotonic() - start < 15
    assert answer.basis == "program" and answer.text.isdigit()
    assert "no reply within 2 s" in _notes(answer)


def test_without_logprobs_the_confidence_is_sampled_in_the_same_round_once_known(fresh: ScriptedVLM, tmp_path: Path) -> None:
    fresh.logprobs = False
    fresh.script = lambda seen: Reply("Wood", p=0.9)
    agent = Agent(Config(vlm=fresh.spec, cache=False))
    first = agent.ask(STREET, "What is the bench made of?")
    assert (first.text.lower(), first.basis) == ("wood", "vlm")
    assert first.vlm_calls == 3  # the reply, then (the server gave no logprobs) two samples
    said = _look_statements(first)[0]
    assert said.attributes["method"] == "sampling" and said.score == 1.0
    assert sorted(s.body.get("temperature") for s in fresh.seen) == [0.0, 0.7, 0.7]
    assert [s.logprobs for s in fresh.seen].count(True) == 1  # asked for once; known missing after

    fresh.seen.clear()
    second = agent.ask(STREET, "What is the bench made of?")
    look = next(s for s in second.steps if s.node == "look")
    assert len(look.calls) == 3 and second.vlm_calls == 3 and not any(s.logprobs for s in fresh.seen)

    graph = tmp_path / "unsampled.yaml"
    spec = (REPO / "agentvlm" / "graphs" / "auto.yaml").read_text().replace("look: {type: look}", "look: {type: look, params: {samples: 0}}")
    graph.write_text(spec.replace("name: auto", "name: auto-unsampled"))
    plain = Agent(Config(vlm=fresh.spec, graph=str(graph), cache=False)).ask(STREET, "What is the bench made of?")
    assert plain.vlm_calls == 1 and "confidence unknown" in _notes(plain)


# ---- every way out shows which input decided -----------------------------------------------------------


def test_json_and_trace_show_the_vlm_decided(fresh: ScriptedVLM) -> None:
    fresh.script = lambda seen: Reply("Wood", p=0.9)
    out = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--vlm", fresh.spec, "--json", str(STREET), "What is the bench made of?"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    assert (data["text"].lower(), data["basis"], data["vlm_calls"]) == ("wood", "vlm", 1)
    look = next(s for s in data["steps"] if s["node"] == "look")
    assert look["calls"][0]["detail"]["vision"] is True and look["calls"][0]["detail"]["confidence"] == pytest.approx(0.9)


def test_proreason_asks_the_vlm_through_the_same_focused_ask(fresh: ScriptedVLM) -> None:
    from agentvlm.graph.services import Recorder
    from agentvlm.images import load_image
    from agentvlm.look.nodes import ASK_VLM_ACTION

    fresh.script = lambda seen: Reply("Wood", p=0.9)
    agent = Agent(Config(vlm=fresh.spec, cache=False))
    state = {"question": "What is the bench made of?", "images": [load_image(STREET)], "evidence": []}
    decision = type("D", (), {"target": "What is the bench made of?"})()
    out = ASK_VLM_ACTION.run(agent.services, state, Recorder(), decision, "r1.")
    assert [e.text for e in out["evidence"]] == ["Wood"] and out["evidence"][0].id == "r1.vlm0"
    assert "Answer with one word: the material." in fresh.seen[-1].prompt


# ---- the hf: path: a real (tiny, random) transformers VLM through the same step ------------------------


def test_a_local_transformers_vlm_looks_with_a_confidence_from_its_logits(tiny_vlm_dir: Path) -> None:  # noqa: F811
    pytest.importorskip("transformers")
    spec = f"hf:{tiny_vlm_dir}"
    answer = Agent(Config(vlm=spec, cache=False)).ask(STREET, "What is the bench made of?")
    look = next(s for s in answer.steps if s.node == "look")
    (call,) = look.calls
    assert call.name == spec and call.detail["vision"] is True and 0.0 < call.detail["confidence"] <= 1.0
    assert answer.vlm_calls == 1 and answer.form == "attribute" and answer.text
    assert "look:" in (look.note or "")


def _magenta(img: object) -> float:
    import numpy as np

    a = np.asarray(img)
    return float(((a[..., 0] > 190) & (a[..., 1] < 80) & (a[..., 2] > 190)).mean())


def test_zoomeye_finds_a_small_thing_and_the_vlm_is_asked_about_the_region_it_found(agent: Agent, fresh: ScriptedVLM, tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    from tests.fixtures.zoom.canvas import make_canvas

    path = tmp_path / "kite.jpg"
    make_canvas(path, people=[])  # a 3000-px street scene with nobody pasted in
    with Image.open(path) as img:
        canvas = img.convert("RGB")
    ImageDraw.Draw(canvas).polygon([(2400, 1650), (2440, 1610), (2480, 1650), (2440, 1700)], fill=(230, 20, 230))  # a small kite
    canvas.save(path, quality=95)

    def script(seen: Seen) -> Reply:
        close = seen.images[-1]
        if "Yes or No" in seen.prompt:  # ZoomEye's scores: too small to tell in the whole view; in a patch, is it there?
            return Reply("Yes", p=0.95) if len(seen.images) == 2 and _magenta(close) > 0.0003 else Reply("No", p=0.95)
        return Reply("Purple", p=0.9) if len(seen.images) == 2 and _magenta(close) > 0.001 else Reply("Green", p=0.3)

    fresh.script = script
    answer = agent.ask(path, "What colour is the kite?")
    nodes = [s.node for s in answer.steps]
    assert "zoom" in nodes and nodes.index("zoom") < nodes.index("look"), nodes
    assert (answer.text, answer.basis) == ("purple", "vlm"), _notes(answer)
    said = _look_statements(answer)[0]
    zoomed = next(e for e in answer.evidence if e.tool == "zoomeye" and e.box is not None)
    assert said.attributes.get("region_of") == zoomed.id and said.box == zoomed.box and said.box.area < 0.5
    kite = (2440 / 3000, 1655 / 2250)
    assert said.box.x1 < kite[0] < said.box.x2 and said.box.y1 < kite[1] < said.box.y2
