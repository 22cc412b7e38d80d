"""Evaluation datasets: JSON Lines files of questions about images, validated when loaded.

One item a line; image paths are relative to the dataset file::

    {"id": "q1", "image": "images/a.jpg", "question": "Is the car beneath the cat?",
     "choices": ["yes", "no"], "answer": "B", "answer_type": "multiple_choice_letter",
     "category": "spatial"}

``images`` (a list) replaces ``image`` for multi-image items. ``answer_type`` is one of
``ANSWER_TYPES`` (aliases accepted); when absent it is inferred: ``choices`` make a
multiple-choice item, true/false/yes/no answers a true/false item, anything else a short
answer. ``answer`` may be a list of accepted answers for short and text-reading items.
Optional: ``options`` (the alternatives an open "A or B?" question names, for the answer-form
check), ``split`` (``dev`` or ``test``; see ``agentvlm.eval.splits``) and ``pair_id``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agentvlm.errors import InputError
from agentvlm.images import is_remote

__all__ = ["ANSWER_TYPES", "EvalItem", "dataset_name", "load_dataset", "rotate", "select"]

LETTERS = "ABCDEFGH"
ANSWER_TYPES: dict[str, str] = {
    "multiple_choice_letter": "multiple_choice_letter",
    "multiple_choice": "multiple_choice_letter",
    "mc": "multiple_choice_letter",
    "true_false": "true_false",
    "yes_no": "true_false",
    "short_answer": "short_answer",
    "short": "short_answer",
    "number": "short_answer",
    "ocr": "ocr",
    "text": "ocr",
}
_TF_WORDS = {"true", "false", "yes", "no"}


class EvalItem(BaseModel):
    """One question, its images (absolute paths) and the expected answer."""

    model_config = ConfigDict(frozen=True)

    id: str
    dataset: str
    question: str = Field(min_length=1)
    images: list[str] = Field(min_length=1)
    answer: str | list[str]
    answer_type: str
    choices: list[str] = Field(default_factory=list, max_length=len(LETTERS))
    category: str = "all"
    pair_id: str | None = None
    options: list[str] = Field(default_factory=list)
    split: str | None = None

    @field_validator("answer_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ANSWER_TYPES:
            raise ValueError(f"unknown answer_type '{value}'; use one of {', '.join(ANSWER_TYPES)}")
        return ANSWER_TYPES[value]

    @property
    def key(self) -> str:
        """Unique across the datasets of one run."""
        return f"{self.dataset}/{self.id}"

    @property
    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)


def dataset_name(path: str | os.PathLike[str]) -> str:
    """``folder/questions.jsonl`` is named after its folder, anything else after its file."""
    p = Path(path)
    return p.parent.name if p.stem in ("questions", "data", "test", "val", "dev") and p.parent.name else p.stem


def _infer_type(raw: dict[str, Any]) -> str:
    if raw.get("choices"):
        return "multiple_choice_letter"
    answer = raw.get("answer")
    if isinstance(answer, str) and answer.strip().lower() in _TF_WORDS:
        return "true_false"
    return "short_answer"


def load_dataset(path: str | os.PathLike[str], *, check_images: bool = True) -> list[EvalItem]:
    """Read and validate every line of ``path``; errors name the file, line and what to fix.

    Raises:
        InputError: A missing file, a malformed line, a missing field or image, a duplicate id,
            or a multiple-choice answer that is not one of the option letters.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"dataset not found: {p}; pass a JSON Lines file (see the README section 'Evaluation')")
    name, root = dataset_name(p), p.parent.resolve()
    seen: set[str] = set()
    items: list[EvalItem] = []
    for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{p}, line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where} is not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(raw, dict):
            raise InputError(f"{where} must be a JSON object with id, image, question and answer")
        images = raw.get("images") or ([raw["image"]] if raw.get("image") else [])
        fields = {
            "id": str(raw.get("id", number)),
            "dataset": name,
            "question": raw.get("question", ""),
            "images": [i if is_remote(i) else str((root / i).resolve()) for i in images if isinstance(i, str)],
            "answer": raw.get("answer"),
            "answer_type": raw.get("answer_type") or _infer_type(raw),
            "choices": raw.get("choices") or [],
            "category": str(raw.get("category") or "all"),
            "pair_id": None if raw.get("pair_id") is None else str(raw["pair_id"]),
            "options": raw.get("options") or [],
            "split": None if raw.get("split") is None else str(raw["split"]),
        }
        try:
            item = EvalItem.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "item"
            raise InputError(f"{where}: '{field}': {err['msg'].removeprefix('Value error, ')}") from None
        _check(item, where, seen, check_images)
        seen.add(item.id)
        items.append(item)
    if not items:
        raise InputError(f"{p} holds no items; write one JSON object a line")
    return items


def _check(item: EvalItem, where: str, seen: set[str], check_images: bool) -> None:
    if item.id in seen:
        raise InputError(f"{where}: duplicate id '{item.id}'; every item needs its own id")
    if item.answer_type == "multiple_choice_letter":
        letters = LETTERS[: len(item.choices)]
        if len(item.choices) < 2:
            raise InputError(f"{where}: a multiple-choice item needs at least two 'choices'")
        if not isinstance(item.answer, str) or item.answer.strip().upper() not in letters:
            raise InputError(f"{where}: 'answer' must be an option letter ({', '.join(letters)}), got {item.answer!r}")
    if item.answer_type == "true_false" and (not isinstance(item.answer, str) or item.answer.lower() not in _TF_WORDS):
        raise InputError(f"{where}: a true_false 'answer' must be true, false, yes or no, got {item.answer!r}")
    if check_images:
        for image in item.images:
            if not is_remote(image) and not Path(image).is_file():
                raise InputError(f"{where}: image not found: {image} (image paths are relative to the dataset file)")


def select(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """A stratified, evenly spread subset of ``limit`` items, in file order.

    Each category gets a share proportional to its size (largest remainders first), taken
    at even intervals, so ``--limit 30`` of a sorted or balanced file stays balanced and
    the same limit always picks the same items.
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        raise InputError(f"--limit must be a positive number of items, got {limit}")
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[item.category].append(index)
    exact = {c: limit * len(ix) / len(items) for c, ix in groups.items()}
    quota = {c: int(v) for c, v in exact.items()}
    for c in sorted(exact, key=lambda c: (-(exact[c] - quota[c]), c))[: limit - sum(quota.values())]:
        quota[c] += 1
    chosen = [ix[int(k * len(ix) / quota[c])] for c, ix in groups.items() for k in range(quota[c])]
    return [items[i] for i in sorted(chosen)]


def rotate(item: EvalItem, rotation: int) -> tuple[list[str], str]:
    """The options shifted left by ``rotation`` and the gold letter among them (CircularEval)."""
    n = len(item.choices)
    choices = item.choices[rotation:] + item.choices[:rotation]
    gold = LETTERS.index(str(item.answer).strip().upper())
    return choices, LETTERS[(gold - rotation) % n]
