"""Dev and test splits: which half of a dataset an item belongs to, and how that was decided.

An item's split is, first found:

1. its own ``split`` field (``dev`` or ``test``);
2. its place in a ``splits.json`` in the dataset file's folder or up to three folders above
   it, ``{"rule": "...", "<folder>": {"dev": [ids], "test": [ids]}}``, keyed by the dataset's
   name or folder name (a ``splits.json`` beside the file may hold just ``{"dev", "test"}``);
3. the shared evaluation data's rule: ``sha1(id)`` even -> dev, odd -> test.

Read failures and tune on dev; report test.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from agentvlm.errors import InputError
from agentvlm.eval.dataset import EvalItem, dataset_name

__all__ = ["RULE", "SPLITS", "SPLITS_FILE", "SplitChoice", "find_splits_file", "rule_split", "split_items"]

SPLITS = ("dev", "test")
SPLITS_FILE = "splits.json"
RULE = "sha1(id) even -> dev, odd -> test"
_LEVELS_UP = 3


class SplitChoice(BaseModel):
    """How one dataset's items were sorted into the split: how many by each of the three ways."""

    dataset: str
    split: str
    n: int
    total: int
    by_field: int = 0
    by_file: int = 0
    by_rule: int = 0
    file: str | None = None

    def describe(self) -> str:
        """E.g. ``blink_jigsaw: 77 of 150 items are test (150 decided by /data/splits.json)``."""
        ways = [f"{self.by_field} decided by their 'split' field"] if self.by_field else []
        ways += [f"{self.by_file} decided by {self.file}"] if self.by_file else []
        ways += [f"{self.by_rule} decided by the rule {RULE}"] if self.by_rule else []
        return f"{self.dataset}: {self.n} of {self.total} items are {self.split} ({'; '.join(ways)})"


def rule_split(item_id: str) -> str:
    """``dev`` when the SHA-1 of ``item_id`` is even, else ``test`` (the shared data's ``splits.json`` rule)."""
    return "dev" if int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def _lists(file: Path, key: str, entry: object) -> dict[str, set[str]]:
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(s, []), list) and all(isinstance(i, str) for i in entry.get(s, [])) for s in SPLITS
    ):
        raise InputError(f"{file}: '{key}' must be {{\"dev\": [ids], \"test\": [ids]}} (lists of item ids)")
    lists = {s: set(entry.get(s, [])) for s in SPLITS}
    both = sorted(lists["dev"] & lists["test"])
    if both:
        raise InputError(f"{file}: '{key}' lists {len(both)} ids in both dev and test ({', '.join(both[:3])}); keep each in one")
    return lists


def find_splits_file(path: str | os.PathLike[str]) -> tuple[Path, dict[str, set[str]]] | None:
    """The nearest ``splits.json`` (the file's folder, then up to three above) with an entry for this dataset."""
    p = Path(path).resolve()
    folder = p.parent
    keys = list(dict.fromkeys((dataset_name(p), folder.name)))
    for level, where in enumerate([folder, *list(folder.parents)[:_LEVELS_UP]]):
        file = where / SPLITS_FILE
        if not file.is_file():
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{file} is not valid JSON ({exc}); fix it or remove it to use the rule {RULE}") from None
        if not isinstance(data, dict):
            raise InputError(f"{file} must be a JSON object keyed by dataset folder name")
        key = next((k for k in keys if k in data), None)
        if key is not None:
            return file, _lists(file, key, data[key])
        if level == 0 and any(s in data for s in SPLITS):
            return file, _lists(file, SPLITS_FILE, data)
    return None


def split_items(path: str | os.PathLike[str], items: Sequence[EvalItem], split: str) -> tuple[list[EvalItem], SplitChoice]:
    """The items of ``path`` in ``split``, in file order, and how their splits were decided.

    Raises:
        InputError: An unknown split, an item whose ``split`` field is not dev or test, or items
            that a ``splits.json`` covering the dataset does not list.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    found = find_splits_file(path)
    chosen: list[EvalItem] = []
    ways: Counter[str] = Counter()
    unlisted: list[str] = []
    for item in items:
        if item.split is not None:
            mine = item.split.strip().lower()
            if mine not in SPLITS:
                raise InputError(
                    f"{path}: item '{item.id}' has split '{item.split}'; a split is one of {', '.join(SPLITS)} "
                    "(or leave the field out)"
                )
            ways["field"] += 1
        elif found is not None:
            lists = found[1]
            listed = next((s for s in SPLITS if item.id in lists[s]), None)
            if listed is None:
                unlisted.append(item.id)
                continue
            mine = listed
            ways["file"] += 1
        else:
            mine = rule_split(item.id)
            ways["rule"] += 1
        if mine == split:
            chosen.append(item)
    if unlisted and found is not None:
        shown = ", ".join(unlisted[:5]) + (", ..." if len(unlisted) > 5 else "")
        raise InputError(
            f"{path}: {len(unlisted)} of {len(items)} items have no known split: no 'split' field and not listed in {found[0]} "
            f"({shown}); add them to its dev or test list, or give each a 'split' field"
        )
    choice = SplitChoice(
        dataset=items[0].dataset if items else dataset_name(path), split=split, n=len(chosen), total=len(items),
        by_field=ways["field"], by_file=ways["file"], by_rule=ways["rule"],
        file=str(found[0]) if found is not None else None,
    )
    return chosen, choice
