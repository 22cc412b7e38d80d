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

A question with several parts lists them in ``parts``, each with its own ``question``,
``answer`` (a string or accepted alternatives), ``answer_type`` (inferred as above; not
multiple choice), ``category`` and ``depends_on`` (the index, from 0, of the earlier part
whose answer it uses, else null); the item's ``question`` is the whole question asked, its
``answer`` (the parts' answers joined by "; " when absent) is for reading only, and
``dependent`` (optional) says whether any part uses another's answer. Each part is scored on
its own (``agentvlm.eval.multipart``). Any other key is ignored.
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

__all__ = ["ANSWER_TYPES", "EvalItem", "EvalPart", "dataset_name", "load_dataset", "rotate", "select"]

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


def _known(value: str) -> str:
    if value not in ANSWER_TYPES:
        raise ValueError(f"unknown answer_type '{value}'; use one of {', '.join(ANSWER_TYPES)}")
    return ANSWER_TYPES[value]


class EvalPart(BaseModel):
    """One part of a multi-part item: its question, expected answer and how to score it.

    ``depends_on`` is the index (from 0, as the data sets write it) of the earlier part whose
    answer this one uses; ``agentvlm.types.PartAnswer.depends_on`` counts from 1 instead.

    Example:
        >>> EvalPart(question="Is anyone on a bicycle?", answer="no", answer_type="yes_no").answer_type
        'true_false'
    """

    model_config = ConfigDict(frozen=True)

    question: str = Field(min_length=1)
    answer: str | list[str]
    answer_type: str = "short_answer"
    category: str = "all"
    depends_on: int | None = None

    @field_validator("answer_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _known(value)

    @field_validator("answer")
    @classmethod
    def _some_answer(cls, value: str | list[str]) -> str | list[str]:
        if not (value.strip() if isinstance(value, str) else [a for a in value if a.strip()]):
            raise ValueError("give the part's expected answer: a string or a list of accepted answers")
        return value

    @property
    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)


class EvalItem(BaseModel):
    """One question, its images (absolute paths) and the expected answer; ``parts`` where it has several."""

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
    parts: list[EvalPart] = Field(default_factory=list)
    dependent: bool | None = None

    @field_validator("answer_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _known(value)

    @property
    def key(self) -> str:
        """Unique across the datasets of one run."""
        return f"{self.dataset}/{self.id}"

    @property
    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)

    @property
    def depends(self) -> bool:
        """Whether a part uses another's answer: ``dependent`` where the data says, else any part's ``depends_on``."""
        return self.dependent if self.dependent is not None else any(p.depends_on is not None for p in self.parts)

    def part_item(self, index: int) -> EvalItem:
        """Part ``index`` (from 0) as an item of its own, on this item's images (for the answer-form check)."""
        part = self.parts[index]
        return EvalItem(id=f"{self.id}#{index + 1}", dataset=self.dataset, question=part.question, images=self.images,
                        answer=part.answer, answer_type=part.answer_type, category=part.category, split=self.split)


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
        parts = _raw_parts(raw.get("parts"), where)
        if raw.get("answer") is None and parts:
            raw = {**raw, "answer": "; ".join(_first(p["answer"]) for p in parts)}
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
            "parts": parts,
            "dependent": raw.get("dependent"),
        }
        try:
            item = EvalItem.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = list(err["loc"])
            part = f"part {int(loc[1]) + 1} " if loc[:1] == ["parts"] and len(loc) > 2 and isinstance(loc[1], int) else ""
            field = ".".join(str(x) for x in (loc[2:] if part else loc)) or "item"
            raise InputError(f"{where}: {part}'{field}': {err['msg'].removeprefix('Value error, ')}") from None
        _check(item, where, seen, check_images)
        seen.add(item.id)
        items.append(item)
    if not items:
        raise InputError(f"{p} holds no items; write one JSON object a line")
    return items


def _raw_parts(parts: Any, where: str) -> list[dict[str, Any]]:
    """The ``parts`` of a line as fields of ``EvalPart``, each part's answer type inferred where absent."""
    if parts is None:
        return []
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise InputError(f"{where}: 'parts' must be a list of objects with question and answer")
    return [{
        "question": p.get("question", ""), "answer": p.get("answer"),
        "answer_type": p.get("answer_type") or _infer_type({"answer": p.get("answer")}),
        "category": str(p.get("category") or "all"), "depends_on": p.get("depends_on"),
    } for p in parts]


def _first(answer: Any) -> str:
    return answer if isinstance(answer, str) else str(answer[0]) if isinstance(answer, list) and answer else ""


def _check_parts(item: EvalItem, where: str) -> None:
    if item.parts and item.choices:
        raise InputError(f"{where}: a multi-part item takes no 'choices'; each part is scored by its own answer_type")
    for index, part in enumerate(item.parts):
        n = index + 1
        if part.answer_type == "multiple_choice_letter":
            raise InputError(f"{where}: part {n} is multiple choice, which a part cannot be (it has no choices); "
                             "use true_false, short_answer or ocr")
        if part.answer_type == "true_false" and (not isinstance(part.answer, str) or part.answer.lower() not in _TF_WORDS):
            raise InputError(f"{where}: part {n}: a true_false 'answer' must be true, false, yes or no, got {part.answer!r}")
        if part.depends_on is not None and not 0 <= part.depends_on < index:
            earlier = f"the index (from 0) of an earlier part, 0 to {index - 1}, or null" if index else "null (no part comes before it)"
            raise InputError(f"{where}: part {n}: 'depends_on' must be {earlier}, got {part.depends_on}")


def _check(item: EvalItem, where: str, seen: set[str], check_images: bool) -> None:
    if item.id in seen:
        raise InputError(f"{where}: duplicate id '{item.id}'; every item needs its own id")
    _check_parts(item, where)
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
