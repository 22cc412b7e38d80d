"""The document evaluation set (examples/documents) stays loadable, split by image and balanced.

No models and no rendering: these checks read questions.jsonl, the README and the images, so a
broken edit to the set fails here in a second instead of halfway through an `agentvlm eval` run.
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

REPO = Path(__file__).resolve().parents[1]
SET = REPO / "examples" / "documents"
QUESTIONS = SET / "questions.jsonl"
NATURAL = REPO / "examples" / "natural" / "questions.jsonl"
OPERATIONS = (
    "lookup", "sum", "average", "difference", "count", "product", "unit_quantity", "percentage",
    "discount", "extreme", "series_compare", "equation", "read_all", "read_field",
)  # fmt: skip
KINDS = {
    "receipt",
    "menu",
    "price_board",
    "sale_tag",
    "table",
    "form",
    "chart",
    "equation",
    "sign",
    "page",
}
NUMERIC = {
    "sum",
    "average",
    "difference",
    "count",
    "product",
    "unit_quantity",
    "percentage",
    "discount",
    "equation",
}
MIN_PER_OPERATION = 8
MAX_BYTES = 400_000


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    parsed = []
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{QUESTIONS}, line {number}: {exc.msg}")
        assert isinstance(item, dict), f"line {number} is not a JSON object"
        parsed.append(item)
    return parsed


def split_of(image: str) -> str:
    """The README's rule: the first hex digit of sha1(file name) even -> dev, odd -> test."""
    digit = hashlib.sha1(Path(image).name.encode("utf-8")).hexdigest()[0]
    return "dev" if int(digit, 16) % 2 == 0 else "test"


def answers(item: dict[str, Any]) -> list[Any]:
    return [item["answer"]] if isinstance(item["answer"], str) else list(item["answer"])


@pytest.mark.parametrize(
    ("name", "split"),
    [("receipt_01.jpg", "test"), ("receipt_02.jpg", "dev"), ("images/sign_01.jpg", "dev")],
)
def test_split_rule_uses_the_file_name_only(name: str, split: str) -> None:
    assert split_of(name) == split


def test_agentvlm_eval_loads_every_item(items: list[dict[str, Any]]) -> None:
    loaded = load_dataset(QUESTIONS)
    assert len(loaded) == len(items)
    assert {item.split for item in loaded} == {"dev", "test"}


def test_fields_ids_and_answers(items: list[dict[str, Any]]) -> None:
    ids = Counter(item["id"] for item in items)
    assert [i for i, n in ids.items() if n > 1] == []
    for item in items:
        where = item["id"]
        assert re.fullmatch(r"doc-\d{3}", where), where
        assert item["question"].strip() and item["image"], where
        assert item["category"] in OPERATIONS, f"{where}: unknown operation {item['category']!r}"
        assert item["kind"] in KINDS, f"{where}: unknown kind {item['kind']!r}"
        assert item["split"] in ("dev", "test"), where
        gold = answers(item)
        assert gold and all(isinstance(a, str) and a.strip() for a in gold), (
            f"{where}: empty answer"
        )
        assert len(set(gold)) == len(gold), f"{where}: repeated alternative"
        expected_type = "ocr" if item["category"] == "read_all" else None
        if item["category"] in NUMERIC:
            expected_type = "short_answer"
            assert re.search(r"\d", gold[0]), f"{where}: a {item['category']} answer is a number"
            assert not gold[0].lstrip().startswith(("-", "−")), (
                f"{where}: the scorer drops minus signs"
            )
        if expected_type:
            assert item["answer_type"] == expected_type, where
        else:
            assert item["answer_type"] in ("short_answer", "ocr"), where
        if item["category"] == "count":
            assert re.fullmatch(r"\d+", gold[0]), f"{where}: a count is a whole number"


def test_every_image_exists_opens_and_is_used(items: list[dict[str, Any]]) -> None:
    for image in sorted({item["image"] for item in items}):
        path = SET / image
        assert path.is_file(), image
        assert path.stat().st_size <= MAX_BYTES, f"{image} is over 400 KB"
        with Image.open(path) as im:
            im.verify()
    used = {Path(item["image"]).name for item in items if not item["image"].startswith("../")}
    assert {p.name for p in (SET / "images").iterdir()} == used


def test_real_photos_are_attributed(items: list[dict[str, Any]]) -> None:
    """Rendered images are JPEGs named by kind; anything else is a real photo and needs its source."""
    attribution = (SET / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for image in sorted({item["image"] for item in items}):
        if image.startswith("../") or not image.endswith(".jpg"):
            shown = image if image.startswith("../") else Path(image).name
            assert f"`{shown}`" in attribution, f"{image} is not listed in ATTRIBUTION.md"


def test_split_is_by_image_and_follows_the_rule(items: list[dict[str, Any]]) -> None:
    by_image: dict[str, set[str]] = {}
    for item in items:
        by_image.setdefault(item["image"], set()).add(item["split"])
        assert item["split"] == split_of(item["image"]), (
            f"{item['id']}: {item['image']} belongs in {split_of(item['image'])}"
        )
    assert [image for image, splits in by_image.items() if len(splits) > 1] == []
    natural = {
        json.loads(line)["image"]: json.loads(line)["split"]
        for line in NATURAL.read_text(encoding="utf-8").splitlines()
    }
    for image, splits in by_image.items():
        if image.startswith("../"):
            assert image in natural, f"{image}: a shared photo must be one the natural set uses"
            assert splits == {natural[image]}, f"{image} must keep its split from examples/natural"
    counts = Counter(next(iter(s)) for s in by_image.values())
    assert abs(counts["dev"] - counts["test"]) <= 0.2 * len(by_image), (
        f"images per split: {dict(counts)}"
    )


def test_enough_images_questions_and_operations_in_both_splits(items: list[dict[str, Any]]) -> None:
    assert len({item["image"] for item in items}) >= 50
    assert len(items) >= 150
    per = Counter((item["category"], item["split"]) for item in items)
    short = {
        op: per[op, "dev"] + per[op, "test"]
        for op in OPERATIONS
        if per[op, "dev"] + per[op, "test"] < MIN_PER_OPERATION
    }
    assert short == {}, f"operations below {MIN_PER_OPERATION} questions: {short}"
    missing = [(op, split) for op in OPERATIONS for split in ("dev", "test") if per[op, split] == 0]
    assert missing == [], f"operations missing from a split: {missing}"


def test_readme_table_matches_the_set(items: list[dict[str, Any]]) -> None:
    readme = (SET / "README.md").read_text(encoding="utf-8")
    per = Counter((item["category"], item["split"]) for item in items)
    for op in OPERATIONS:
        row = re.search(rf"^\| `{op}` \|.*\| (\d+) \| (\d+) \| (\d+) \|$", readme, re.MULTILINE)
        assert row, f"README has no row for {op}"
        assert [int(g) for g in row.groups()] == [
            per[op, "dev"],
            per[op, "test"],
            per[op, "dev"] + per[op, "test"],
        ], op
    total = re.search(
        r"^\| \| \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", readme, re.MULTILINE
    )
    dev = sum(1 for item in items if item["split"] == "dev")
    assert total and [int(g) for g in total.groups()] == [dev, len(items) - dev, len(items)]


def test_generator_uses_the_same_rule_and_operations() -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("make_documents", SET / "make_documents.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert tuple(module.OPERATIONS) == OPERATIONS
    for name in ("receipt_01.jpg", "sign_07.jpg", "../images/sign_no_double_parking.jpg"):
        assert module.split_of(name) == split_of(name)
