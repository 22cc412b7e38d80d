"""The transformers backend on a tiny randomly initialised Idefics3 VLM saved to disk and loaded back
through ``from_pretrained`` (``hf:DIR``), as users' SmolVLM or Qwen2.5-VL would be.

Random weights say nothing about quality: these tests check what a user relies on
(it loads once, generates, gives probabilities in [0, 1], one result per crop,
batching does not change results, bad paths are one clear error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentvlm import ConfigError
from agentvlm.images import load_image
from agentvlm.models import Message, load_chat_model
from agentvlm.models.vlm import DescribeRequest, VisionModel, YesNoRequest, load_vision_model
from tests.tiny_vlm import build_tiny_llm, tiny_vlm_dir  # noqa: F401  (fixture)

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def vlm(tiny_vlm_dir: Path) -> VisionModel:  # noqa: F811
    return load_vision_model(f"hf:{tiny_vlm_dir}")


def _crops(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, size=(20 + 7 * i, 30 + 3 * i, 3), dtype=np.uint8) for i in range(n)]


def test_generates_on_a_real_photo(vlm: VisionModel, tiny_vlm_dir: Path, bus_jpg: Path) -> None:  # noqa: F811
    out = vlm.describe([load_image(bus_jpg)], "Describe the image, especially the bus.", max_tokens=6)
    assert isinstance(out.text, str) and 0 < out.completion_tokens <= 6 and out.prompt_tokens > 10
    assert vlm.device == "cpu"


def test_yes_probability_is_a_probability_from_logits(vlm: VisionModel, bus_jpg: Path) -> None:
    yes = vlm.yes_probability([load_image(bus_jpg)], "Is there a bus?")
    assert 0.0 <= yes.p <= 1.0 and yes.method == "logits" and not yes.fallback


def test_a_batch_of_crops_gives_one_result_each_same_as_one_by_one(vlm: VisionModel) -> None:
    crops = _crops(8)
    questions = [f"Is there a {w}?" for w in ("bus", "red double-decker bus on a wet road", "dog", "sign", "car", "person", "tree", "cat")]
    batch = vlm.yes_probability_batch([YesNoRequest(images=[c], question=q) for c, q in zip(crops, questions, strict=True)])
    assert len(batch) == 8 and all(0.0 <= y.p <= 1.0 for y in batch)
    alone = [vlm.yes_probability([c], q).p for c, q in zip(crops[:2], questions[:2], strict=True)]
    assert [y.p for y in batch[:2]] == pytest.approx(alone, abs=1e-4)  # left padding does not leak
    described = vlm.describe_batch([DescribeRequest(images=[c], prompt="What is this?", max_tokens=4) for c in crops])
    assert len(described) == 8 and all(d.completion_tokens <= 4 for d in described)


def test_several_images_in_one_request(vlm: VisionModel) -> None:
    out = vlm.describe(_crops(2), "Compare the two images.", max_tokens=3)
    assert out.prompt_tokens > 10


@pytest.mark.parametrize("target", ["missing-folder", "file.txt", "empty-folder"])
def test_a_path_that_is_not_a_model_is_one_config_error(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    if target == "file.txt":
        path.write_text("hello")
    elif target == "empty-folder":
        path.mkdir()
    with pytest.raises(ConfigError, match=rf"hf:{path} is not a Hugging Face model: .* pass a folder written by save_pretrained"):
        load_vision_model(f"hf:{path}")


def test_a_local_text_llm_through_its_chat_template(tmp_path: Path) -> None:
    folder = build_tiny_llm(tmp_path / "tiny-llm")
    llm = load_chat_model(f"hf:{folder}")
    out = llm.complete([Message(role="user", content="Say yes.")], max_tokens=5)
    assert isinstance(out.text, str) and 0 < out.completion_tokens <= 5
    assert llm.complete([Message(role="user", content="Say yes.")], max_tokens=5).text == out.text
