"""The default ``auto`` graph on real photos: every answer has the form its question asks, from the evidence
that decides it, and the route it took is in the trace.

The café photo is a real photograph (``examples/natural/images/coffee_cup.jpg``, scikit-image's CC0
coffee) under a sign panel rendered above it; the menu is a rendered chalkboard read by the real OCR.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentvlm import Agent
from agentvlm.question.forms import is_position

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def _font(name: str, size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    path = FONTS / name
    if not path.exists():
        pytest.skip(f"DejaVu fonts not found at {FONTS} (Debian: apt-get install fonts-dejavu-core)")
    return ImageFont.truetype(str(path), size)


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image, ImageDraw

    cup = Image.open(REPO / "examples" / "natural" / "images" / "coffee_cup.jpg").convert("RGB")
    w, h = cup.size
    canvas = Image.new("RGB", (w, h + 200), (235, 228, 215))
    canvas.paste(cup, (0, 200))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([w // 2 - 260, 30, w // 2 + 260, 170], fill=(40, 40, 40))
    draw.text((w // 2, 100), "OPEN DAILY\n7AM-3PM", font=_font("DejaVuSans-Bold.ttf", 48), fill=(250, 250, 250), anchor="mm", align="center")
    path = tmp_path_factory.mktemp("cafe") / "cafe.jpg"
    canvas.save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def menu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image, ImageDraw

    board = Image.new("RGB", (900, 760), (38, 46, 40))
    draw = ImageDraw.Draw(board)
    chalk = (240, 236, 220)
    draw.text((450, 50), "CAFE MENU", font=_font("DejaVuSerif-Bold.ttf", 60), fill=chalk, anchor="mt")
    font = _font("DejaVuSans.ttf", 40)
    for row, (name, price) in enumerate([("Latte", "$3.20"), ("Cappuccino", "$3.50"), ("Tea", "$2.10"), ("Muffin", "$1.70")]):
        y = 180 + 90 * row
        draw.text((80, y), name, font=font, fill=chalk)
        draw.text((820, y), price, font=font, fill=chalk, anchor="ra")
    path = tmp_path_factory.mktemp("menu") / "menu.jpg"
    board.save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent()


def test_auto_is_the_default_graph(agent: Agent) -> None:
    assert agent.spec.name == "auto"


@pytest.mark.parametrize(
    ("question", "form", "accepted"),
    [
        ("Is the cup full or empty?", "alternative", {"full", "empty"}),
        ("Is the cup on the left or the right of the picture?", "alternative", {"left", "right"}),
        ("What time does this place open?", "read", {"7AM"}),
        ("Until when is this place open?", "read", {"3PM"}),  # the end of the range the sign states
        ("Is there a cup in this picture?", "yes_no", {"yes"}),
        ("Is there a dog in this picture?", "yes_no", {"no"}),
        ("Is the sign above the cup?", "yes_no", {"yes"}),
        ("Is the cup above the sign?", "yes_no", {"no"}),
        ("What does the sign say?", "read", {"OPEN DAILY 7AM-3PM"}),
    ],
)
def test_cafe_questions_get_answers_of_their_form(agent: Agent, cafe: Path, question: str, form: str, accepted: set[str]) -> None:
    answer = agent.ask(cafe, question)
    assert answer.form == form
    assert answer.text in accepted, [s.note for s in answer.steps]
    assert any(s.note and s.note.startswith("route:") for s in answer.steps)


def test_a_place_question_gets_a_place_not_a_position(agent: Agent, cafe: Path) -> None:
    answer = agent.ask(cafe, "Where was this photo taken?")
    assert answer.form == "place"
    assert not is_position(answer.text) and answer.text != "not found in the image"
    assert answer.text == "a café"  # the cup (0.95) outvotes the table; one place left, so no model is asked
    assert answer.model_calls == 0


def test_a_colour_question_gets_a_colour_never_a_score(agent: Agent, cafe: Path) -> None:
    answer = agent.ask(cafe, "What colour is the saucer?")
    assert answer.form == "attribute"
    assert re.fullmatch(r"[a-z]+", answer.text) and answer.text in {"red", "orange", "brown"}
    assert answer.basis == "guess"  # no detector class names a saucer: the trace says so
    assert any("no tool can see saucer" in (s.note or "") for s in answer.steps)


def test_a_program_answer_that_rests_on_what_no_tool_checks_is_a_guess(agent: Agent, cafe: Path) -> None:
    answer = agent.ask(cafe, "Is the cup steaming?")
    assert answer.form == "yes_no" and answer.basis in ("guess", "model")  # the cup is seen; whether it steams is not
    assert answer.basis != "evidence" and any("no tool checks" in (s.note or "") for s in answer.steps)


def test_arithmetic_over_a_menu(agent: Agent, menu: Path) -> None:
    answer = agent.ask(menu, "How much for two lattes and a muffin?")
    assert (answer.text, answer.form, answer.basis) == ("$8.10", "number", "program")
    cheaper = agent.ask(menu, "Which is cheaper, the tea or the latte?")
    assert cheaper.form == "compare"
    assert "tea" in cheaper.text.lower()


def test_program_decided_answers_ask_no_model(agent: Agent, zidane_jpg: Path) -> None:
    answer = agent.ask(zidane_jpg, "How many people are in this picture?")
    assert (answer.text, answer.basis, answer.model_calls) == ("2", "program", 0)


def test_cli_ask_runs_auto_and_shows_form_and_basis(cafe: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agentvlm", "ask", "--json", str(cafe), "Is the sign above the cup?"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    data = json.loads(out.stdout)
    assert (data["graph"], data["text"], data["form"], data["basis"]) == ("auto", "yes", "yes_no", "program")


def test_a_small_person_in_a_large_image_is_found(agent: Agent, tmp_path: Path) -> None:
    from tests.fixtures.zoom.canvas import make_canvas

    path = tmp_path / "canvas.jpg"
    make_canvas(path)  # a 150-px person in a 3000x2250 photo: one full-image detector pass misses it
    answer = agent.ask(path, "Is there a person in this picture?")
    assert (answer.text, answer.form) == ("yes", "yes_no")
    notes = " ".join(s.note or "" for s in answer.steps)
    assert "recall (input 832) found person" in notes and answer.basis == "program", notes  # a larger input, not a zoom
