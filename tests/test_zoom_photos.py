"""ZoomEye on real photos: a small person in a 3000-px canvas, small people counted, text cues
read by OCR, the VLM scorer on the tiny test VLM, and the ``zoomeye`` graph end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent, Config
from agentvlm.evidence.facts import SURE_SCORE
from agentvlm.graph.services import Recorder, Services
from agentvlm.images import load_image
from agentvlm.tools.detect_darknet import DarknetDetector
from agentvlm.tools.ocr_rapidocr import RapidOCRTool
from agentvlm.types import Box
from agentvlm.zoom import Cue, DetectorScorer, OCRScorer, VLMScorer, regions, search_cue
from tests.fixtures.zoom.canvas import make_canvas
from tests.tiny_vlm import tiny_vlm_dir  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
PERSON = Cue(phrase="person", label="person")


def _overlaps(a: tuple[float, ...], b: Box) -> bool:
    return min(a[2], b.x2) > max(a[0], b.x1) and min(a[3], b.y2) > max(a[1], b.y1)


def _services() -> Services:
    return Services(Config(cache=False))


@pytest.fixture(scope="module")
def small_person(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[float, ...]]:
    path = tmp_path_factory.mktemp("zoom") / "canvas.jpg"
    (truth,) = make_canvas(path)  # bus.jpg's left passenger, 150 px tall, bottom-right of a 3000x2250 sign photo
    return path, truth


def test_zoom_finds_a_person_the_full_image_pass_misses_at_a_fifth_of_a_scan(small_person: Any) -> None:
    path, truth = small_person
    image, det = load_image(path), DarknetDetector()
    assert not [e for e in det.run(image, det.params(classes=("person",)))]  # 20 px tall at 416: missed
    rec = Recorder()
    scorer = DetectorScorer(_services(), rec, tool=det, params={"confidence": 0.01})
    res = search_cue(image, "Is there a person in this picture?", PERSON, scorer)
    (region,) = regions(res.found, image, min_side=scorer.input_size)
    assert _overlaps(truth, region)
    found = det.run(image, det.params(classes=("person",)), region=region)
    assert any(_overlaps(truth, e.box) and (e.score or 0) >= SURE_SCORE for e in found if e.box)
    windows = 10 * 7  # 416-px windows at 25% overlap over 3000x2250
    assert scorer.calls == len(rec.calls) and scorer.calls <= windows // 3
    assert [n.depth for n in res.found[0].path()] == list(range(res.found[0].depth + 1))


def test_type2_counts_people_spread_over_the_image(tmp_path: Path) -> None:
    path = tmp_path / "three.jpg"
    truth = make_canvas(path, background="parking", people=[("bus-left", 0.1, 0.2), ("zidane", 0.55, 0.5), ("bus-middle", 0.85, 0.85)])
    image, det = load_image(path), DarknetDetector()
    scorer = DetectorScorer(_services(), Recorder(), tool=det, params={"confidence": 0.01})
    res = search_cue(image, "How many people are there?", Cue(phrase="person", label="person", exhaustive=True), scorer)
    assert res.kind == "type2" and scorer.calls == 21  # root + 4 + 16
    found = [e for r in regions(res.found, image, min_side=416) for e in det.run(image, det.params(classes=("person",)), region=r)]
    sure = [e for e in found if (e.score or 0) >= SURE_SCORE and e.box]
    assert all(any(_overlaps(t, e.box) for e in sure if e.box) for t in truth)
    assert len(sure) == 3


def test_ocr_scorer_prefers_the_text_it_was_asked_for(examples_dir: Path) -> None:
    image = load_image(examples_dir / "sign_copy_centre_shop.jpg")
    scorer = OCRScorer(_services(), Recorder(), tool=RapidOCRTool())
    whole = Box(x1=0, y1=0, x2=1, y2=1)
    asked = scorer.score(image, [whole], Cue(phrase="copy centre", text=True), ["existence", "latent"], "")[0]
    other = scorer.score(image, [whole], Cue(phrase="zebra crossing", text=True), ["existence"], "")[0]
    anything = scorer.score(image, [whole], Cue(phrase="text", text=True), ["existence"], "")[0]
    assert asked["existence"] > other["existence"] and anything["existence"] > 0.0
    assert -1.0 <= asked["latent"] <= 1.0
    assert scorer.calls == 1  # one OCR run per patch, shared by every cue


def test_vlm_scorer_batches_a_patch_set_into_one_call(tiny_vlm_dir: Path, zidane_jpg: Path) -> None:  # noqa: F811
    from agentvlm.models.vlm import load_vision_model

    rec = Recorder()
    scorer = VLMScorer(load_vision_model(f"hf:{tiny_vlm_dir}"), rec=rec, input_size=512)
    image = load_image(zidane_jpg)
    boxes = [Box(x1=0, y1=0, x2=1, y2=1), Box(x1=0, y1=0, x2=0.5, y2=0.5), Box(x1=0.5, y1=0.5, x2=1, y2=1)]
    rows = scorer.score(image, boxes, PERSON, ["existence", "latent"], "Is there a person?")
    assert all(-1.0 <= v <= 1.0 for r in rows for v in r.values()) and all(set(r) == {"existence", "latent"} for r in rows)
    assert scorer.calls == 1 and rec.calls[0].detail["items"] == 6
    res = search_cue(image, "Is there a person?", PERSON, scorer)
    expansions = sum(1 for n in res.popped if n.children)
    assert scorer.calls - 1 == expansions + len(res.popped)  # one batch per expansion, one answering call per pop


def test_zoomeye_graph_answers_yes_and_where_with_the_zoom_in_the_trace(small_person: Any, tmp_path: Path) -> None:
    path, _ = small_person
    answer = Agent(Config(graph="zoomeye", cache_dir=tmp_path)).ask(path, "Is there a person in this picture? Where?")
    assert answer.text.startswith("yes") and "bottom-right" in answer.text
    people = [e for e in answer.evidence if e.kind == "object" and e.label == "person"]
    assert people and all(len(e.attributes["zoom_path"]) >= 2 for e in people)
    drawing = Path(people[0].attributes["zoom_image"])
    assert drawing.exists() and drawing.is_relative_to(tmp_path / "zoom")
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "scorer calls" in notes and "path d0" in notes
