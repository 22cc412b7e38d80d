"""Annotated images: boxes, masks and the zoom path land where the evidence says, nothing elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agentvlm.images import load_image, pixels
from agentvlm.tools import load_tool_class
from agentvlm.trace import COLORS, annotate, write_trace, zoom_regions
from agentvlm.types import Answer, Box, Evidence

pytestmark = pytest.mark.slow


def _is(rgb: np.ndarray, kind: str) -> np.ndarray:
    return np.all(rgb == np.array(COLORS[kind], dtype=np.uint8), axis=-1)


@pytest.fixture(scope="module")
def bus_answer(bus_jpg: Path) -> Answer:
    """Real detections (darknet) and real masks (GrabCut, prompted by them) on the bus photo."""
    ref = load_image(bus_jpg)
    dets = load_tool_class("darknet")().run(ref)
    dets = [d.model_copy(update={"id": f"det{i}"}) for i, d in enumerate(dets)]
    assert len(dets) >= 3
    people = [d for d in dets if d.label == "person"][:1]
    masks = load_tool_class("grabcut")().run(ref, prompts=people)
    masks = [m.model_copy(update={"id": f"seg{i}"}) for i, m in enumerate(masks)]
    assert masks, "GrabCut found no mask for the person"
    return Answer(question="How many people?", text="4", images=[ref], evidence=[*dets, *masks])


def test_boxes_are_drawn_on_the_evidence_edges_and_nowhere_else(bus_answer: Answer) -> None:
    ref = bus_answer.images[0]
    wh = (ref.width, ref.height)
    out, original = annotate(bus_answer), pixels(ref)
    assert out.shape == original.shape
    objects = [e for e in bus_answer.evidence if e.kind == "object" and e.box]
    for ev in objects:
        assert ev.box is not None
        x1, y1, x2, y2 = ev.box.xyxy(wh)
        x1, x2 = min(x1, wh[0] - 1), min(x2, wh[0] - 1)
        rows = slice(y1 + (y2 - y1) // 4, y2 - (y2 - y1) // 4)  # the middle of the edge, clear of labels
        for column in (x1, x2):
            drawn = _is(out[rows, column], "object").mean()
            before = _is(original[rows, column], "object").mean()
            assert drawn > 0.6 and before < 0.05, (ev.id, column, drawn)
    # Far from every box (and its label above it) the photo is untouched.
    untouched = np.ones(original.shape[:2], dtype=bool)
    for ev in bus_answer.evidence:
        assert ev.box is not None
        x1, y1, x2, y2 = ev.box.xyxy(wh)
        untouched[max(y1 - 60, 0) : y2 + 12, max(x1 - 12, 0) : x2 + 200] = False
    assert untouched.sum() > 1000
    assert np.array_equal(out[untouched], original[untouched])


def test_masks_are_tinted_inside_and_only_inside(bus_answer: Answer) -> None:
    from agentvlm.tools.masks import paste_mask

    ref = bus_answer.images[0]
    wh = (ref.width, ref.height)
    mask_ev = next(e for e in bus_answer.evidence if e.kind == "mask")
    assert mask_ev.box is not None
    mask = paste_mask(mask_ev.attributes["mask"], mask_ev.box, resolution_wh=wh)
    out = annotate(Answer(question="q", text="a", images=[ref], evidence=[mask_ev.model_copy(update={"box": None})]))
    assert np.array_equal(out, pixels(ref)), "a mask without a box is not drawn"
    out = annotate(Answer(question="q", text="a", images=[ref], evidence=[mask_ev]))
    original = pixels(ref).astype(int)
    blue = np.array(COLORS["mask"])
    inside_before = np.abs(original[mask] - blue).sum(axis=1).mean()
    inside_after = np.abs(out[mask].astype(int) - blue).sum(axis=1).mean()
    assert inside_after < 0.7 * inside_before  # the tint pulls the masked pixels towards the mask colour
    far = np.ones_like(mask)
    x1, y1, x2, y2 = mask_ev.box.xyxy(wh)
    far[max(y1 - 60, 0) : y2 + 12, max(x1 - 12, 0) : x2 + 200] = False
    assert np.array_equal(out[far], pixels(ref)[far])


def test_zoom_path_is_a_dashed_line_around_each_region(zidane_jpg: Path) -> None:
    ref = load_image(zidane_jpg)
    region = Box(x1=0.5, y1=0.0, x2=1.0, y2=1.0)
    looked = load_tool_class("darknet")().run(ref, region=region)  # a real look at the right half
    assert looked and all(e.region == region for e in looked)
    inner = [0.55, 0.05, 0.9, 0.6]
    statement = Evidence(tool="vlm", kind="statement", text="a man", attributes={"zoom_path": [[0.0, 0.0, 1.0, 1.0], inner]})
    answer = Answer(question="q", text="a", images=[ref], evidence=[statement, *looked])
    assert zoom_regions(answer.evidence) == [Box(x1=0, y1=0, x2=1, y2=1), Box(x1=0.55, y1=0.05, x2=0.9, y2=0.6), region]
    out = annotate(answer)
    x1, y1, x2, _ = Box(x1=inner[0], y1=inner[1], x2=inner[2], y2=inner[3]).xyxy((ref.width, ref.height))
    top = _is(out[y1, x1:x2], "zoom").mean()
    assert 0.25 < top < 0.8, top  # dashed: drawn in stretches, with gaps


def test_write_trace_gives_json_that_round_trips_and_a_png_per_image(tmp_path: Path, bus_answer: Answer, zidane_jpg: Path) -> None:
    import cv2

    two = bus_answer.model_copy(update={"images": [*bus_answer.images, load_image(zidane_jpg)]})
    files = write_trace(two, tmp_path / "t", "turn-001")
    assert Answer.model_validate_json(files.json_path.read_text()) == two
    assert json.loads(files.json_path.read_text())["text"] == "4"
    assert [p.name for p in files.images] == ["turn-001-i0.png", "turn-001-i1.png"]
    for path, ref in zip(files.images, two.images):
        img = cv2.imread(str(path))
        assert img is not None and img.shape[:2] == (ref.height, ref.width)
    # The second image has no evidence: it is the photo as it was.
    assert np.array_equal(cv2.imread(str(files.images[1]))[:, :, ::-1], pixels(two.images[1]))
