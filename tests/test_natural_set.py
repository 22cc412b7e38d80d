"""The natural-question evaluation set (examples/natural) stays loadable, licensed and balanced.

No models: these checks read the JSON Lines file and open the photos, so a broken edit to
the set fails here in a second instead of halfway through an `agentvlm eval` run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agentvlm.eval.dataset import load_dataset

SET = Path(__file__).resolve().parents[1] / "examples" / "natural"
QUESTIONS = SET / "questions.jsonl"
MIN_PER_FORM = {
    "yes_no": 12, "alternative": 12, "count": 12, "number": 6, "read": 12, "attribute": 12,
    "position": 12, "place": 12, "identify": 12, "compare": 12, "choice": 10,
}
ANSWER_TYPE = {"yes_no": "true_false", "read": "ocr", "choice": "multiple_choice_letter"}
MAX_BYTES = 400_000


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    parsed = []
    for number, line in enumerate(lines, start=1):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{QUESTIONS}, line {number}: {exc.msg}")
        assert isinstance(item, dict), f"line {number} is not a JSON object"
        parsed.append(item)
    return parsed


MOVED_TO_DEV = {"sign_stationery_box.jpg"}
"""Test photos moved to dev because a rule was written after reading one of their failures (see the README)."""


def split_of(image: str) -> str:
    """The set's rule: the first hex digit of sha1(file name) even -> dev, odd -> test; moved photos are dev."""
    if Path(image).name in MOVED_TO_DEV:
        return "dev"
    digit = hashlib.sha1(Path(image).name.encode("utf-8")).hexdigest()[0]
    return "dev" if int(digit, 16) % 2 == 0 else "test"


@pytest.mark.parametrize(
    ("name", "split"),
    [("coffee_cup.jpg", "dev"), ("greek_coins.png", "test"), ("../images/sign_no_double_parking.jpg", "test")],
)
def test_split_rule_uses_the_file_name_only(name: str, split: str) -> None:
    assert split_of(name) == split


def test_agentvlm_eval_loads_every_item() -> None:
    loaded = load_dataset(QUESTIONS)
    assert len(loaded) >= 220
    assert {item.dataset for item in loaded} == {"natural"}


def test_fields_ids_and_answer_types(items: list[dict[str, Any]]) -> None:
    ids = Counter(item["id"] for item in items)
    assert [i for i, n in ids.items() if n > 1] == []
    for item in items:
        where = item["id"]
        assert re.fullmatch(r"nat-\d{3}", where)
        assert item["question"].strip() and item["image"]
        assert item["category"] in MIN_PER_FORM, f"{where}: unknown category {item['category']!r}"
        assert item["answer_type"] == ANSWER_TYPE.get(item["category"], "short_answer"), where
        answers = [item["answer"]] if isinstance(item["answer"], str) else item["answer"]
        assert answers and all(isinstance(a, str) and a.strip() for a in answers), where
        if item["category"] == "yes_no":
            assert item["answer"] in ("yes", "no"), where


def test_choices_match_their_letters(items: list[dict[str, Any]]) -> None:
    for item in items:
        if item["category"] == "choice":
            choices = item["choices"]
            assert 2 <= len(choices) <= 8 and len(set(choices)) == len(choices), item["id"]
            assert item["answer"] in "ABCDEFGH"[: len(choices)], item["id"]
        else:
            assert "choices" not in item, f"{item['id']}: only 'choice' items carry options"


def test_every_photo_exists_opens_and_is_attributed(items: list[dict[str, Any]]) -> None:
    attribution = (SET / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for image in sorted({item["image"] for item in items}):
        path = SET / image
        assert path.is_file(), image
        assert path.stat().st_size <= MAX_BYTES, f"{image} is over 400 KB"
        with Image.open(path) as im:
            im.verify()
        assert f"`{image if image.startswith('../') else Path(image).name}`" in attribution, (
            f"{image} is not listed in ATTRIBUTION.md"
        )


def test_every_file_in_images_is_used(items: list[dict[str, Any]]) -> None:
    used = {Path(item["image"]).name for item in items if not item["image"].startswith("../")}
    assert {p.name for p in (SET / "images").iterdir()} == used


def test_enough_photos_and_questions(items: list[dict[str, Any]]) -> None:
    photos = {Path(item["image"]).name for item in items}
    assert len(photos) >= 42
    assert len(items) >= 220
    counts = Counter(item["category"] for item in items)
    short = {form: counts[form] for form, least in MIN_PER_FORM.items() if counts[form] < least}
    assert short == {}, f"forms below their minimum: {short}"


def test_split_follows_the_rule_and_keeps_photos_whole(items: list[dict[str, Any]]) -> None:
    for item in items:
        assert item["split"] == split_of(item["image"]), item["id"]
    splits = Counter(item["split"] for item in items)
    assert set(splits) == {"dev", "test"}
    assert 0.4 <= splits["dev"] / len(items) <= 0.6, splits


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_form_in_each_split(items: list[dict[str, Any]], split: str) -> None:
    present = {item["category"] for item in items if item["split"] == split}
    assert set(MIN_PER_FORM) - present == set()


def test_yes_and_no_are_balanced(items: list[dict[str, Any]]) -> None:
    answers = Counter(item["answer"] for item in items if item["category"] == "yes_no")
    assert 0.4 <= answers["yes"] / sum(answers.values()) <= 0.6, answers
