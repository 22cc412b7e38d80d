"""The evidence-program executor on fixed evidence: every operation, ties, missing objects, several instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentvlm.programs import (
    Program,
    Result,
    execute,
    find,
    phrase,
    relation_holds,
    relation_in,
    resolve,
    rules_program,
)
from agentvlm.types import Box, Evidence, ImageRef


def obj(id_: str, label: str, box: tuple[float, float, float, float], score: float = 0.9) -> Evidence:
    return Evidence(id=id_, tool="darknet", kind="object", label=label, score=score, box=Box(x1=box[0], y1=box[1], x2=box[2], y2=box[3]))


def prog(op: str, target: str, **kw: str) -> Program:
    fields = {"other": "", "relation": "none", "attribute": "none", "value": "", "answer": "text", **kw}
    return Program.model_validate({"op": op, "target": target, **fields})


SCENE = [
    obj("det0", "person", (0.05, 0.2, 0.25, 0.9)),
    obj("det1", "person", (0.70, 0.2, 0.90, 0.9), score=0.8),
    obj("det2", "car", (0.30, 0.5, 0.65, 0.95)),
    obj("det3", "dog", (0.32, 0.3, 0.45, 0.5), score=0.6),
    obj("det4", "person", (0.71, 0.21, 0.90, 0.9), score=0.4),  # a second pass's duplicate of det1
    obj("det5", "cat", (0.5, 0.1, 0.55, 0.15), score=0.1),  # a low-confidence ghost
    Evidence(id="ocr0", tool="rapidocr", kind="text", text="NO PARKING", box=Box(x1=0.3, y1=0.05, x2=0.6, y2=0.12)),
    Evidence(id="ocr1", tool="rapidocr", kind="text", text="ANY TIME", box=Box(x1=0.3, y1=0.13, x2=0.6, y2=0.18)),
]


def test_count_merges_duplicates_and_ignores_ghosts() -> None:
    r = execute(prog("count", "men", answer="number"), SCENE)
    assert r.value == 2 and r.evidence == ["det0", "det1"]
    assert execute(prog("count", "cats", answer="number"), SCENE).value == 0
    yes_no = execute(prog("count", "people", value="two", answer="yes_no"), SCENE)
    assert yes_no.value is True and phrase(prog("count", "people", value="two", answer="yes_no"), yes_no) == "yes"


def test_exists() -> None:
    assert execute(prog("exists", "dog", answer="yes_no"), SCENE).value is True
    assert execute(prog("exists", "cat", answer="yes_no"), SCENE).value is False
    assert execute(prog("exists", "bus", answer="yes_no"), []).value is False


@pytest.mark.parametrize(
    ("target", "other", "relation", "expected"),
    [
        ("dog", "car", "on", True),
        ("dog", "car", "above", True),
        ("car", "dog", "under", True),
        ("car", "dog", "on", False),
        ("car", "person", "right_of", True),  # the most confident person, det0, is on the left
        ("car", "person", "left_of", False),
        ("car", "dog", "contains", False),
        ("dog", "car", "near", True),
        ("dog", "car", "far", False),
        ("car", "dog", "in_front_of", True),
        ("dog", "car", "behind", True),
        ("person", "person", "left_of", True),  # two instances of one class: det0 relative to det1
    ],
)
def test_relation(target: str, other: str, relation: str, expected: bool) -> None:
    r = execute(prog("relation", target, other=other, relation=relation, answer="yes_no"), SCENE)
    assert r.value is expected
    assert len(r.evidence) == 2 and r.evidence[0] != r.evidence[1]


def test_relation_missing_object_is_undecided_and_names_it() -> None:
    r = execute(prog("relation", "dog", other="bicycle", relation="left_of", answer="yes_no"), SCENE)
    assert r.value is None and r.missing == ["bicycle"]
    assert phrase(prog("relation", "dog", other="bicycle", relation="left_of", answer="yes_no"), r) is None
    assert execute(prog("color", "giraffe"), SCENE).missing == ["giraffe"]


def test_inside_and_overlap() -> None:
    cup, table = Box(x1=0.4, y1=0.4, x2=0.5, y2=0.5), Box(x1=0.2, y1=0.3, x2=0.8, y2=0.9)
    assert relation_holds(cup, table, "inside") and relation_holds(table, cup, "contains")
    assert relation_holds(cup, table, "overlaps") and not relation_holds(cup, table, "far")
    assert relation_holds(cup, table, "none") is None
    assert not relation_holds(cup, table, "outside") and relation_holds(table, cup, "outside")


def test_directions_need_the_offset_to_point_that_way() -> None:
    laptop, sandwich = Box(x1=0.3, y1=0.0, x2=0.9, y2=0.2), Box(x1=0.1, y1=0.4, x2=0.7, y2=0.9)
    assert relation_holds(sandwich, laptop, "below") and not relation_holds(sandwich, laptop, "left_of")
    car, dog_inside = Box(x1=0.05, y1=0.05, x2=0.95, y2=0.95), Box(x1=0.1, y1=0.2, x2=0.6, y2=0.9)
    assert not relation_holds(dog_inside, car, "left_of") and not relation_holds(dog_inside, car, "above")
    # Offsets are compared in pixels: 0.2 across a 4:1 panorama is further than 0.4 down it.
    a, b = Box(x1=0.1, y1=0.1, x2=0.2, y2=0.2), Box(x1=0.3, y1=0.5, x2=0.4, y2=0.6)
    assert relation_holds(a, b, "left_of", aspect=4.0) and not relation_holds(a, b, "left_of", aspect=0.5)


def test_on_means_resting_on_and_under_is_its_reverse() -> None:
    tv, cat = Box(x1=0.2, y1=0.5, x2=0.8, y2=1.0), Box(x1=0.1, y1=0.02, x2=0.37, y2=0.47)  # loose boxes: a 0.03 gap
    assert relation_holds(cat, tv, "on") and relation_holds(tv, cat, "under") and not relation_holds(tv, cat, "on")
    table, donut = Box(x1=0.0, y1=0.0, x2=1.0, y2=1.0), Box(x1=0.4, y1=0.4, x2=0.6, y2=0.7)  # a table seen from above
    assert relation_holds(donut, table, "on") and not relation_holds(table, donut, "on")
    cat_beside = Box(x1=0.85, y1=0.2, x2=0.95, y2=0.47)
    assert not relation_holds(cat_beside, tv, "on")


def test_far_is_judged_in_depth_too() -> None:
    plane, bike = Box(x1=0.78, y1=0.18, x2=0.88, y2=0.25), Box(x1=0.04, y1=0.22, x2=0.67, y2=0.95)
    assert relation_holds(plane, bike, "far") and relation_holds(plane, bike, "near")  # beside in the picture, apart in depth
    dog, car = Box(x1=0.32, y1=0.3, x2=0.45, y2=0.5), Box(x1=0.30, y1=0.5, x2=0.65, y2=0.95)
    assert not relation_holds(dog, car, "far")  # the dog rests on the car


def test_ties_pick_the_leftmost_instance() -> None:
    tied = [obj("det0", "dog", (0.6, 0.4, 0.7, 0.5)), obj("det1", "dog", (0.1, 0.4, 0.2, 0.5))]
    assert [e.id for e in find(tied, "dog")] == ["det1", "det0"]
    assert execute(prog("position", "dog"), tied).value == "left"


def test_compare() -> None:
    size = execute(prog("compare", "dog", other="car", attribute="size"), SCENE)
    assert size.value == "car" and size.evidence == ["det3", "det2"]
    assert execute(prog("compare", "person", other="car", attribute="count"), SCENE).value == "person"
    assert execute(prog("compare", "dog", other="car", attribute="size", value="bigger", answer="yes_no"), SCENE).value is False
    assert execute(prog("compare", "dog", other="car", attribute="size", value="smaller", answer="yes_no"), SCENE).value is True


def test_read_orders_lines_and_checks_words() -> None:
    r = execute(prog("read", "text"), SCENE)
    assert r.value == "NO PARKING ANY TIME" and r.evidence == ["ocr0", "ocr1"]
    assert execute(prog("read", "sign", value="parking", answer="yes_no"), SCENE).value is True
    assert execute(prog("read", "text"), SCENE[:3]).value is None


def test_position_and_find() -> None:
    assert execute(prog("position", "car"), SCENE).value == "bottom"
    assert execute(prog("position", "person", value="right", answer="yes_no"), SCENE).value is True
    found = execute(prog("find", "people"), SCENE)
    assert found.value == "2 person at left, right" and found.evidence == ["det0", "det1"]


def test_color_from_box_pixels_and_from_a_mask(tmp_path: Path) -> None:
    import hashlib

    import numpy as np
    from PIL import Image

    from agentvlm.tools.masks import encode_mask

    arr = np.full((100, 200, 3), 255, dtype=np.uint8)
    arr[20:80, 20:80] = (200, 20, 20)  # a red square
    arr[20:80, 120:180] = (20, 40, 200)  # a blue square
    arr[30:70, 130:170] = (240, 220, 20)  # with a yellow centre the mask leaves out
    path = tmp_path / "squares.png"
    Image.fromarray(arr).save(path)
    ref = ImageRef(path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(), width=200, height=100, format="PNG")
    ev = [obj("det0", "sports ball", (0.1, 0.2, 0.4, 0.8)), obj("det1", "kite", (0.6, 0.2, 0.9, 0.8))]
    assert execute(prog("color", "ball"), ev, images=[ref]).value == "red"
    assert execute(prog("color", "kite"), ev, images=[ref]).value == "yellow"  # the box centre
    ring = np.ones((60, 60), dtype=bool)
    ring[10:50, 10:50] = False
    mask = Evidence(id="seg0", tool="grabcut", kind="mask", label="kite", box=Box(x1=0.6, y1=0.2, x2=0.9, y2=0.8),
                    attributes={"prompt": "det1", "mask": encode_mask(ring)})
    assert execute(prog("color", "kite"), [*ev, mask], images=[ref]).value == "blue"
    assert execute(prog("color", "ball", value="red", answer="yes_no"), ev, images=[ref]).value is True


def test_answers_map_to_option_letters() -> None:
    yes_no = prog("relation", "dog", other="car", relation="on", answer="option")
    assert phrase(yes_no, Result(True), choices=["yes", "no"]) == "A"
    assert phrase(yes_no, Result(False), choices=["yes", "no"]) == "B"
    which = prog("compare", "dog", other="car", attribute="size", answer="option")
    assert phrase(which, Result("car"), choices=["the dog", "the car"]) == "B"
    assert phrase(which, Result("bus"), choices=["dog", "car"]) is None
    assert phrase(prog("count", "dog", answer="number"), Result(3)) == "3"


def test_words_resolve_to_detector_classes() -> None:
    assert resolve("men") == "person" and resolve("sofa") == "couch" and resolve("sign") == "text"
    assert resolve("unicorn") is None
    assert relation_in("Is the laptop at the right side of the sandwich?") == "right_of"
    assert relation_in("Is the laptop facing the chair?") is None
    assert relation_in("Is the cat facing away from the toilet?") is None  # not "away from" (far)
    assert relation_in("Is the sheep outside the bottle?") == "outside"


@pytest.mark.parametrize(
    ("question", "choices", "brief"),
    [
        ("How many people are there?", [], "count(person) -> number"),
        ("Are there three cars?", [], "count(car, =3) -> yes_no"),
        ("Is there a dog?", [], "exists(dog) -> yes_no"),
        ("Is the person left of the person?", ["yes", "no"], "relation(person, person, left_of) -> option"),
        ("What color is the bus?", [], "color(bus) -> text"),
        ("Is the bus red?", [], "color(bus, =red) -> yes_no"),
        ("What does the sign say?", [], "read(text) -> text"),
        ("Where is the cat?", [], "position(cat) -> text"),
        ("Which is bigger, the car or the bus?", [], "compare(car, bus, size, =bigger) -> text"),
        ("Is the laptop facing the chair?", ["yes", "no"], None),
        ("Is the cat facing away from the suitcase?", ["yes", "no"], None),
    ],
)
def test_rules_parse_common_templates(question: str, choices: list[str], brief: str | None) -> None:
    p = rules_program(question, choices)
    assert (p.brief() if p else None) == brief


def _text(id_: str, text: str, y: float, score: float = 0.99) -> Evidence:
    return Evidence(id=id_, tool="rapidocr", kind="text", text=text, score=score, box=Box(x1=0.2, y1=y, x2=0.8, y2=y + 0.08))


@pytest.mark.parametrize(
    ("question", "lines", "expected"),
    [
        ("What time does it open?", ["OPEN DAILY", "7AM-3PM"], "7AM"),
        ("When does it close?", ["OPEN DAILY", "7AM-3PM"], "3PM"),
        ("What is the closing time?", ["Hours 09:00 - 17:30"], "17:30"),
        ("Until when is the cafe open?", ["Mon-Fri 8am to 6pm"], "6pm"),
        ("How late is the bakery open?", ["OPEN 6AM", "CLOSES 2PM"], "2PM"),
        ("When does the shop shut?", ["OPEN 9AM"], None),  # a lone time may be the opening: nothing decides
    ],
)
def test_a_time_read_is_the_end_of_a_range_when_the_question_asks_the_closing(question: str, lines: list[str], expected: str | None) -> None:
    program = rules_program(question)
    assert program is not None and program.op == "read"
    evidence = [_text(f"ocr{i}", t, 0.1 + 0.1 * i) for i, t in enumerate(lines)]
    assert execute(program, evidence).value == expected


def test_either_or_numbers_are_counted_and_the_count_picks_the_option() -> None:
    program = rules_program("Are there two or three people?")
    assert program is not None and program.brief() == "count(person) -> text"
    people = [obj(f"det{i}", "person", (0.1 + 0.3 * i, 0.2, 0.3 + 0.3 * i, 0.9)) for i in range(3)]
    result = execute(program, people)
    assert (result.value, phrase(program, result, choices=["two", "three"])) == (3, "B")
    assert phrase(program, Result(4), choices=["2", "3"]) is None  # neither option: the program does not decide


def _image(tmp_path: Path, arr, name: str = "pic.png") -> ImageRef:  # type: ignore[no-untyped-def]
    import hashlib

    from PIL import Image

    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return ImageRef(path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(), width=arr.shape[1], height=arr.shape[0], format="PNG")


def test_colour_of_the_picture_its_background_and_its_text(tmp_path: Path) -> None:
    import numpy as np

    arr = np.full((100, 200, 3), (30, 70, 220), dtype=np.uint8)  # blue
    arr[30:70, 80:120] = (220, 30, 30)  # a red square in the middle
    ref = _image(tmp_path, arr)
    assert execute(rules_program("What colour is this?"), [], images=[ref]).value == "blue"
    assert execute(rules_program("What colour is the background?"), [], images=[ref]).value == "blue"
    assert execute(rules_program("Is the picture red?"), [], images=[ref]).value is False
    half = np.zeros((100, 200, 3), dtype=np.uint8)
    half[:, 100:] = (245, 245, 245)  # black and white halves: no one colour is the picture's
    assert execute(rules_program("What colour is this?"), [], images=[_image(tmp_path, half, "half.png")]).value is None
    sign = np.full((100, 200, 3), (245, 245, 245), dtype=np.uint8)
    sign[40:60, 30:170:4] = (15, 15, 15)  # black strokes on white
    line = [Evidence(id="ocr0", tool="rapidocr", kind="text", text="EXIT", score=0.99, box=Box(x1=0.1, y1=0.35, x2=0.9, y2=0.65))]
    signed = _image(tmp_path, sign, "sign.png")
    assert execute(rules_program("What colour is the text?"), line, images=[signed]).value == "black"
    assert execute(rules_program("What colour are the letters?"), line, images=[signed]).value == "black"
    assert execute(rules_program("What colour is the sign?"), line, images=[signed]).value == "white"
    assert execute(rules_program("What colour is the text?"), [], images=[signed]).value is None  # nothing read, nothing measured
