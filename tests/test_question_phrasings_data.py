"""Shape of tests/data/question_phrasings.yaml, the phrasing table the question analysis is held to.

The table is only worth trusting if every value is one the analysis can produce and the
coverage it promises is really there; this checks both without loading any model.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentvlm.question.vocabulary import COCO_CLASSES, canonical

DATA = Path(__file__).parent / "data" / "question_phrasings.yaml"

FORMS = (
    "yes_no", "alternative", "count", "number", "read", "attribute", "position", "place",
    "identify", "compare", "choice", "open",
)  # fmt: skip
MIN_PER_FORM = {form: 15 if form == "choice" else 20 for form in FORMS}
MIN_ENTRIES = 320
RELATIONS = (
    "left_of", "right_of", "above", "below", "on", "under", "inside", "outside", "contains",
    "overlaps", "near", "far", "in_front_of", "behind", "undecidable",
)  # fmt: skip
MIN_PER_RELATION = 6
ATTRIBUTES = ("color", "size", "shape", "material", "state")
POSITIONS = (
    "left", "right", "top", "bottom", "center", "top_left", "top_right", "bottom_left",
    "bottom_right",
)  # fmt: skip
FIELDS = (
    "q", "form", "targets", "relation", "options", "choices", "attribute", "position_value",
    "count_value", "number_value", "knowledge",
)  # fmt: skip
# Words that name no object to look for.
NOT_TARGETS = frozenset(
    {"it", "this", "that", "these", "those", "they", "them", "here", "there",
     "picture", "photo", "image", "frame", "scene"}
)  # fmt: skip
ATTRIBUTE_FORMS = ("attribute", "yes_no", "alternative", "choice")
CHECK_FORMS = ("yes_no", "choice")  # forms whose answer checks a stated value

# The phrasings the brief names, with the fields it fixes for each.
REQUIRED: tuple[dict[str, Any], ...] = (
    {"q": "Is the cup full or empty?", "form": "alternative", "options": ["full", "empty"]},
    {
        "q": "Is the cup on the left or the right of the picture?",
        "form": "alternative",
        "options": ["left", "right"],
    },
    {"q": "Where was this photo taken?", "form": "place"},
    {
        "q": "What colour is the saucer?",
        "form": "attribute",
        "attribute": "color",
        "targets": ["saucer"],
    },
    {"q": "What time does this place open?", "form": "read"},
    {"q": "How much for two lattes and a muffin?", "form": "number"},
    {"q": "Is there a cup in this picture?", "form": "yes_no", "targets": ["cup"]},
    {
        "q": "Is the sign above the cup?",
        "form": "yes_no",
        "targets": ["sign", "cup"],
        "relation": "above",
    },
    {
        "q": "Is the man with the umbrella to the left of the car?",
        "form": "yes_no",
        "targets": ["person", "car"],
        "relation": "left_of",
    },
    {
        "q": "Is the dog in the photo on the left of the cat?",
        "form": "yes_no",
        "targets": ["dog", "cat"],
        "relation": "left_of",
    },
    {"q": "Which side is the dog on?", "form": "position"},
    {"q": "Is it daytime or night-time?", "form": "alternative"},
    {
        "q": "How many people are waiting at the stop, and when does the next bus come according to the sign?",
        "form": "count",
    },
    {"q": "What number is on the bus?", "form": "read"},
    {"q": "What is the number of buses?", "form": "count"},
    {"q": "How old is the building?", "knowledge": True},
    {
        "q": "Is the stop sign red?",
        "form": "yes_no",
        "attribute": "color",
        "targets": ["stop sign"],
    },
    {"q": "What's written on the mug?", "form": "read"},
    {"q": "Is the orange on the table?", "targets": ["orange", "dining table"], "relation": "on"},
    {"q": "Is there a cat or a dog?", "form": "yes_no"},
    {"q": "Is the dog on the left of the cat?", "choices": ["yes", "no"], "form": "choice"},
)


@cache
def _entries() -> tuple[dict[str, Any], ...]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    assert isinstance(data, list), (
        f"{DATA.name} must be a YAML list of entries, got {type(data).__name__}"
    )
    return tuple(data)


def _strings(value: Any, field: str, *, at_least: int) -> list[str]:
    """Problems with a field that must be a list of at least ``at_least`` non-empty strings."""
    if not isinstance(value, list) or len(value) < at_least:
        return [f"{field} must be a list of at least {at_least}, got {value!r}"]
    bad = [v for v in value if not isinstance(v, str) or not v.strip() or v != v.strip()]
    return [f"{field} holds {bad!r}: quote yes/no/on/off, no padding"] if bad else []


def _target_problems(targets: Any) -> list[str]:
    problems = _strings(targets, "targets", at_least=0)
    if problems:
        return problems
    for t in targets:
        if t != t.lower() or t.split()[0] in ("a", "an", "the"):
            problems.append(f"target {t!r} must be a lower-case noun without an article")
        elif t in NOT_TARGETS:
            problems.append(f"target {t!r} names no object")
        elif t not in COCO_CLASSES and canonical(t):
            problems.append(f"target {t!r} is the COCO class {canonical(t)!r}: write that")
    return problems


def _problems(entry: Any) -> list[str]:
    """Everything wrong with one entry, as messages that say what to fix."""
    if not isinstance(entry, dict):
        return [f"an entry must be a mapping, got {entry!r}"]
    problems = [
        f"unknown field {k!r} (known: {', '.join(FIELDS)})" for k in entry if k not in FIELDS
    ]
    q, form = entry.get("q"), entry.get("form")
    if not isinstance(q, str) or not q.strip() or q != q.strip():
        problems.append(f"q must be a non-empty string without padding, got {q!r}")
        q = ""
    if form not in FORMS:
        problems.append(f"form {form!r} is not one of {', '.join(FORMS)}")
    if ("choices" in entry) != (form == "choice"):
        problems.append("form is choice exactly when choices are given")
    if "choices" in entry:
        problems += _strings(entry["choices"], "choices", at_least=2)
    if form in ("alternative", "compare") and "options" not in entry:
        problems.append(f"a {form} question needs options")
    if "options" in entry:
        if form not in ("alternative", "compare"):
            problems.append("options belong to alternative and compare questions only")
        found = _strings(entry["options"], "options", at_least=2)
        problems += found
        if not found:
            problems += [
                f"option {o!r} must be lower case and worded as in the question"
                for o in entry["options"]
                if o != o.lower() or o not in q.lower()
            ]
    if "targets" in entry:
        problems += _target_problems(entry["targets"])
    if "relation" in entry:
        if entry["relation"] not in RELATIONS:
            problems.append(f"relation {entry['relation']!r} is not one of {', '.join(RELATIONS)}")
        if not isinstance(entry.get("targets"), list) or len(entry["targets"]) < 2:
            problems.append("a relation needs its two targets, subject first")
    if "attribute" in entry:
        if entry["attribute"] not in ATTRIBUTES:
            problems.append(
                f"attribute {entry['attribute']!r} is not one of {', '.join(ATTRIBUTES)}"
            )
        if form not in ATTRIBUTE_FORMS:
            problems.append(
                f"attribute belongs to {', '.join(ATTRIBUTE_FORMS)} questions, not {form}"
            )
    elif form == "attribute":
        problems.append("an attribute question must say which attribute")
    if "position_value" in entry and entry["position_value"] not in POSITIONS:
        problems.append(
            f"position_value {entry['position_value']!r} is not one of {', '.join(POSITIONS)}"
        )
    count = entry.get("count_value", 0)
    if type(count) is not int or count < 0:
        problems.append(f"count_value must be a whole number, got {count!r}")
    number = entry.get("number_value", 0)
    if type(number) not in (int, float):
        problems.append(f"number_value must be a number, got {number!r}")
    for field in ("position_value", "count_value", "number_value"):
        if field in entry and form not in CHECK_FORMS:
            problems.append(f"{field} belongs to {' and '.join(CHECK_FORMS)} questions, not {form}")
    if "knowledge" in entry and not isinstance(entry["knowledge"], bool):
        problems.append(f"knowledge must be true or false, got {entry['knowledge']!r}")
    return problems


def test_the_table_is_big_enough() -> None:
    assert len(_entries()) >= MIN_ENTRIES


def test_every_entry_is_well_formed() -> None:
    bad = {
        str(e.get("q") if isinstance(e, dict) else e): p for e in _entries() if (p := _problems(e))
    }
    assert not bad, "\n".join(f"{q}: {'; '.join(p)}" for q, p in bad.items())


def test_questions_are_unique() -> None:
    repeated = [q for q, n in Counter(e["q"] for e in _entries()).items() if n > 1]
    assert not repeated


def test_every_form_has_its_minimum() -> None:
    per_form = Counter(e["form"] for e in _entries())
    short = {f: per_form[f] for f, least in MIN_PER_FORM.items() if per_form[f] < least}
    assert not short, f"phrasings per form below the minimum {MIN_PER_FORM}: {short}"


def test_every_relation_has_its_minimum() -> None:
    per_relation = Counter(e["relation"] for e in _entries() if "relation" in e)
    short = {r: per_relation[r] for r in RELATIONS if per_relation[r] < MIN_PER_RELATION}
    assert not short, f"relations below {MIN_PER_RELATION} phrasings: {short}"


@pytest.mark.parametrize("required", REQUIRED, ids=lambda r: r["q"])
def test_the_briefs_phrasings_are_there_as_specified(required: dict[str, Any]) -> None:
    by_q = {e["q"]: e for e in _entries()}
    assert required["q"] in by_q, "missing"
    entry = by_q[required["q"]]
    assert {k: entry.get(k) for k in required} == required


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            {
                "q": "Is the cat on the bed?",
                "form": "yes_no",
                "targets": ["cat", "bed"],
                "relation": "on",
            },
            None,
        ),
        (
            {
                "q": "Is the cat on the bed?",
                "form": "yes_no",
                "targets": ["cat", "bed"],
                "relation": True,
            },
            "relation",
        ),
        ({"q": "Is it red?", "form": "yes_or_no"}, "form"),
        ({"q": "Is it red?", "form": "yes_no", "colour": "red"}, "unknown field"),
        ({"q": " Is it red?", "form": "yes_no"}, "q must be"),
        ({"q": "Is the car red or blue?", "form": "alternative"}, "needs options"),
        (
            {"q": "Is the car red or blue?", "form": "alternative", "options": ["red", "green"]},
            "worded as",
        ),
        ({"q": "Is the car red?", "form": "yes_no", "options": ["red"]}, "options belong"),
        ({"q": "Is the dog left?", "choices": [True, False], "form": "choice"}, "quote yes/no"),
        (
            {"q": "Is the dog left?", "choices": ["yes", "no"], "form": "yes_no"},
            "exactly when choices",
        ),
        ({"q": "Is the man here?", "form": "yes_no", "targets": ["man"]}, "COCO class 'person'"),
        ({"q": "Are there cars?", "form": "yes_no", "targets": ["cars"]}, "COCO class 'car'"),
        (
            {"q": "What is this picture?", "form": "identify", "targets": ["picture"]},
            "names no object",
        ),
        (
            {"q": "Is the Sign red?", "form": "yes_no", "targets": ["the sign"]},
            "without an article",
        ),
        (
            {
                "q": "Is the cat on the left?",
                "form": "yes_no",
                "targets": ["cat"],
                "relation": "left_of",
            },
            "two targets",
        ),
        ({"q": "What colour is it?", "form": "attribute"}, "which attribute"),
        ({"q": "What colour is it?", "form": "attribute", "attribute": "colour"}, "not one of"),
        ({"q": "Where is it?", "form": "position", "attribute": "color"}, "not position"),
        ({"q": "Is it on the left?", "form": "yes_no", "position_value": "west"}, "position_value"),
        ({"q": "Where is it?", "form": "position", "position_value": "left"}, "belongs to"),
        ({"q": "Are there 3 cats?", "form": "yes_no", "count_value": "3"}, "whole number"),
        ({"q": "Does it cost 4?", "form": "yes_no", "number_value": True}, "must be a number"),
        ({"q": "Who built it?", "form": "identify", "knowledge": "yes"}, "true or false"),
    ],
)
def test_the_shape_check_catches_each_mistake(entry: dict[str, Any], complaint: str | None) -> None:
    problems = _problems(entry)
    if complaint is None:
        assert problems == []
    else:
        assert any(complaint in p for p in problems), problems
