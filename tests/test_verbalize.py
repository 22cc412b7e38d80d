"""Verbalization and question vocabulary, on fixed hand-built evidence with exact expected text."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys

import pytest

from agentvlm.evidence import estimate_tokens, verbalize
from agentvlm.question import analyze
from agentvlm.question.vocabulary import COCO_CLASSES, labels_in, plural
from agentvlm.types import Box, Evidence


def box(x1: float, y1: float, x2: float, y2: float) -> Box:
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


def obj(id: str, label: str, b: Box, score: float) -> Evidence:
    return Evidence(id=id, tool="darknet", kind="object", label=label, box=b, score=score)


def ocr(id: str, text: str, b: Box | None) -> Evidence:
    return Evidence(id=id, tool="rapidocr", kind="text", text=text, box=b, score=0.9)


BUS_SCENE = [
    obj("det0", "person", box(0.06, 0.23, 0.30, 0.90), 0.87),
    obj("det1", "person", box(0.27, 0.25, 0.45, 0.88), 0.85),
    obj("det2", "person", box(0.83, 0.27, 0.99, 0.86), 0.81),
    obj("det3", "bus", box(0.02, 0.12, 0.99, 0.78), 0.93),
    ocr("ocr0", "BUS STOP", box(0.10, 0.05, 0.30, 0.09)),
    ocr("ocr1", "No. 12", box(0.34, 0.055, 0.44, 0.085)),
    ocr("ocr2", "Line 12 Madrid Centro", box(0.40, 0.20, 0.75, 0.25)),
    ocr("ocr3", "Every 10 min", box(0.40, 0.26, 0.60, 0.30)),
    ocr("ocr4", "emt", box(0.70, 0.60, 0.78, 0.64)),
    ocr("ocr5", "4853 KLM", box(0.45, 0.80, 0.58, 0.84)),
]

BUS_TEXT = """\
Facts:
There are 3 people.
person #1 (det0) is at the left.
person #2 (det1) is at the center.
person #3 (det2) is at the right.
There is 1 bus.
bus #1 (det3) is at the center.
person #1 (det0) is left of, under, overlapping and smaller than bus #1 (det3).
person #2 (det1) is left of, below, under, overlapping and smaller than bus #1 (det3).
person #3 (det2) is right of, under, overlapping and smaller than bus #1 (det3).
person #1 (det0) is left of, overlapping and larger than person #2 (det1).
person #2 (det1) is left of and larger than person #3 (det2).
person #1 (det0) is left of and larger than person #3 (det2).
Objects:
person [0.06, 0.23, 0.30, 0.90] 0.87
person [0.27, 0.25, 0.45, 0.88] 0.85
person [0.83, 0.27, 0.99, 0.86] 0.81
bus [0.02, 0.12, 0.99, 0.78] 0.93
Text:
[top-left] "BUS STOP | No. 12"
[top] "Line 12 Madrid Centro / Every 10 min"
[right] "emt"
[bottom] "4853 KLM\""""


def test_realistic_scene_exact_text() -> None:
    v = verbalize(BUS_SCENE, question="How many people are in front of the bus?")
    assert v.text == BUS_TEXT
    assert v.evidence_ids == [f"det{i}" for i in range(4)] + [f"ocr{i}" for i in range(6)]
    assert v.truncated == 0
    assert v.tokens == estimate_tokens(v.text) <= 400


def test_target_facts_and_objects_come_first() -> None:
    people = [
        obj(f"det{i}", "person", box(0.1 * i, 0.1, 0.1 * i + 0.08, 0.3), 0.95) for i in range(5)
    ]
    car = obj("det9", "car", box(0.4, 0.6, 0.7, 0.9), 0.55)
    lines = verbalize([*people, car], question="What color is the car?").text.splitlines()
    assert lines[:3] == ["Facts:", "There is 1 car.", "car #1 (det9) is at the bottom."]
    assert lines[lines.index("Objects:") + 1] == "car [0.40, 0.60, 0.70, 0.90] 0.55"


def test_explicit_targets_override_the_question() -> None:
    text = verbalize(BUS_SCENE, question="What is this?", targets=["bus", "dog"]).text
    assert text.startswith(
        "Facts:\nThere is 1 bus.\nbus #1 (det3) is at the center.\nNo dog was detected.\n"
    )


def _menu(n: int) -> list[Evidence]:
    return [
        ocr(f"ocr{i}", f"Line {i:03d} of the menu", box(0.1, 0.005 * i, 0.6, 0.005 * i + 0.004))
        for i in range(n)
    ]


def test_long_ocr_stays_within_budget_and_says_how_much_was_omitted() -> None:
    v = verbalize(_menu(200), question="What is written at the top?", budget_tokens=400)
    assert v.tokens <= 400 and estimate_tokens(v.text) == v.tokens
    lines = [line for line in v.text.splitlines() if line.startswith("[")]
    kept = len(v.evidence_ids)
    assert 20 < kept < 200
    # reading order kept, the top survives; a long block is split into lines of bounded length
    assert lines[0].startswith('[center] "Line 000 of the menu / Line 001 of the menu / ')
    assert all(len(line) < 300 for line in lines)
    assert re.search(r"\n\(\d+ more lines omitted\)$", v.text)
    assert v.text.count("more lines omitted") == 1
    assert v.truncated == 200 - kept


def test_ocr_rows_naming_question_words_survive_the_budget() -> None:
    menu = _menu(200)
    menu[150] = ocr("ocr150", "Coffee 2.50", menu[150].box)
    v = verbalize(menu, question="What is the price of coffee?", budget_tokens=150)
    assert "Coffee 2.50" in v.text and "ocr150" in v.evidence_ids


def test_target_facts_are_the_last_to_go() -> None:
    evidence = [obj("det0", "car", box(0.4, 0.6, 0.7, 0.9), 0.8), *_menu(50)]
    v = verbalize(evidence, question="Is there a car?", budget_tokens=25)
    assert re.fullmatch(
        r"Facts:\nThere is 1 car.\ncar #1 \(det0\) is at the bottom.\n\(\d+ more lines omitted\)", v.text
    )
    assert v.tokens <= 25


def test_boxes_on_one_row_join_left_to_right() -> None:
    right = ocr("ocr0", "No. 12", box(0.34, 0.06, 0.44, 0.09))  # centre 0.005 lower: same row
    left = ocr("ocr1", "BUS STOP", box(0.10, 0.05, 0.30, 0.09))
    below = ocr("ocr2", "Madrid", box(0.10, 0.70, 0.30, 0.75))
    unplaced = ocr("ocr3", "caption", None)
    text = verbalize([right, below, unplaced, left], question="What does it say?").text
    assert text == 'Text:\n[top-left] "BUS STOP | No. 12"\n[bottom-left] "Madrid"\n"caption"'


def test_masks_and_statements() -> None:
    mask = Evidence(
        id="seg0", tool="grabcut", kind="mask", label="person", box=box(0.3, 0.2, 0.7, 0.9),
        attributes={"area": 0.23, "centroid": [0.5, 0.55]},
    )  # fmt: skip
    said = Evidence(id="cap0", tool="captioner", kind="statement", text="A man  stands\nby a bus.")
    v = verbalize([mask, said], question="Where is the man?")
    assert v.text == (
        "Facts:\nThe person mask (seg0) covers 23% of the image, at the center.\n"
        "Masks:\nperson covers 23% at center\nStatements:\nA man stands by a bus."
    )


def test_several_images_get_their_own_sections() -> None:
    first = obj("det0", "dog", box(0.1, 0.1, 0.3, 0.3), 0.9)
    second = obj("det1", "cat", box(0.6, 0.6, 0.9, 0.9), 0.8).model_copy(update={"image": 1})
    text = verbalize([first, second], question="Which image shows a cat?", image_count=3).text
    assert text.splitlines()[:4] == [
        "Image 1:",
        "Facts:",
        "No cat was detected.",
        "There is 1 dog.",
    ]
    assert "Image 2:\nFacts:\nThere is 1 cat.\ncat #1 (det1) is at the bottom-right." in text
    assert text.endswith("Image 3:\nFacts:\nNo cat was detected.")


def test_empty_evidence_and_bad_arguments() -> None:
    assert verbalize([], question="Is there a dog?").text == "Facts:\nNo dog was detected."
    assert verbalize([], question="What is this?").text == "Nothing was detected."
    with pytest.raises(ValueError, match="budget_tokens"):
        verbalize([], question="?", budget_tokens=0)
    with pytest.raises(ValueError, match="image_count"):
        verbalize([], question="?", image_count=0)


def test_output_does_not_depend_on_input_order() -> None:
    question = "Is the person left of the bus?"
    assert verbalize(BUS_SCENE[::-1], question=question) == verbalize(BUS_SCENE, question=question)


@pytest.mark.slow
def test_byte_identical_across_processes() -> None:
    code = (
        "import sys; sys.path[:0] = [sys.argv[1]]; import test_verbalize as t; "
        "print(t.verbalize(t.BUS_SCENE + t._menu(40), question='What does the sign say?', "
        "budget_tokens=200).text)"
    )
    here = os.path.dirname(__file__)
    outs = {
        subprocess.run(
            [sys.executable, "-c", code, here], capture_output=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert len(outs) == 1 and b"more lines omitted" in outs.pop()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many people are in the picture?", ["person"]),
        ("Is the stop sign left of the car?", ["stop sign", "car"]),
        ("Are there more men and women than kids?", ["person"]),
        ("What color are the traffic lights?", ["traffic light"]),
        ("How many fire hydrants are on the street?", ["fire hydrant"]),
        ("Are the stop signs red?", ["stop sign"]),
        ("What does the sign say?", []),  # "sign" alone is not a COCO class
        ("Is the TV on?", ["tv"]),
        ("Is the television mounted on the wall?", ["tv"]),
        ("Is there a sofa or a couch?", ["couch"]),
        ("Is the motorbike parked next to the bike?", ["motorcycle", "bicycle"]),
        ("Is the plane landing near the aeroplane?", ["airplane"]),
        ("Whose cellphone is on the table?", ["cell phone", "dining table"]),
        ("Is the mobile phone next to the laptop computer?", ["cell phone", "laptop"]),
        ("Is there a plant in the vase?", ["potted plant", "vase"]),
        ("How many doughnuts are in the box?", ["donut"]),
        ("What is on the hot dog?", ["hot dog"]),  # not "dog"
        ("Is the teddy-bear on the bed?", ["teddy bear", "bed"]),
        ("How many persons wait at the bus stop?", ["person"]),  # a bus stop is no bus
        ("Is the player holding a tennis racket?", ["person", "tennis racket"]),
        ("Are there zebras or giraffes?", ["zebra", "giraffe"]),
        ("Any buses? Any BUS?", ["bus"]),
        ("How many knives and mice are there?", ["knife", "mouse"]),
        ("Is the pedestrian crossing?", ["person"]),
        ("Where are the wine glasses?", ["wine glass"]),
        ("Is the girl or the boy taller?", ["person"]),
        ("What is the weather like?", []),
    ],
)
def test_labels_in(question: str, expected: list[str]) -> None:
    assert labels_in(question) == expected


def test_labels_in_respects_known_classes() -> None:
    assert labels_in("Is the dog left of the car?", known=["dog", "cat"]) == ["dog"]
    assert labels_in("How many traffic cones?", known=("traffic cone",)) == ["traffic cone"]
    assert len(COCO_CLASSES) == 80 and len(set(COCO_CLASSES)) == 80


@pytest.mark.parametrize(
    ("question", "text", "count"),
    [
        ("What does the sign say?", True, False),
        ("What is written on the bus?", True, False),
        ("What number is on the jersey?", True, False),
        ("What is the name of the store?", True, False),
        ("What brand is the laptop?", True, False),
        ("Is the stop sign red?", False, False),
        ("How many people are there?", False, True),
        ("What is the number of cars?", False, True),
        ("Count the birds.", False, True),
        ("How many words are on the sign?", True, True),
        ("Is the dog asleep?", False, False),
    ],
)
def test_tool_cues(question: str, text: bool, count: bool) -> None:
    q = analyze(question)
    assert (q.text_need == "needed", q.form == "count") == (text, count)


@pytest.mark.parametrize(
    ("noun", "expected"),
    [("person", "people"), ("bus", "buses"), ("traffic light", "traffic lights"),
     ("knife", "knives"), ("mouse", "mice"), ("sheep", "sheep"), ("lady", "ladies"),
     ("toothbrush", "toothbrushes")],
)  # fmt: skip
def test_plural(noun: str, expected: str) -> None:
    assert plural(noun) == expected


def test_package_exports_every_public_name_sorted() -> None:
    package = importlib.import_module("agentvlm.evidence")
    modules = ("cache", "candidates", "facts", "scenes", "spatial", "verbalize")
    names = {n for m in modules for n in sys.modules[f"agentvlm.evidence.{m}"].__all__}
    assert set(package.__all__) == names
    constants = [n for n in package.__all__ if n.isupper()]
    assert package.__all__ == sorted(constants) + sorted(set(package.__all__) - set(constants))
