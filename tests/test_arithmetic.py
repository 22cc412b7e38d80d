"""Arithmetic over OCR lines: prices paired with labels, questions computed, equations solved.

Unit tests build OCR lines the way rapidocr returns them (split rows, merged "Latte 3.20"
lines, misspellings, tilted quads); the slow tests render a menu, a receipt, a price table
and two whiteboards with Pillow, degrade them like a phone photo, and run the real RapidOCR.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agentvlm.programs.arithmetic import compute, priced_items
from agentvlm.types import Box, Evidence

FONTS = Path("/usr/share/fonts/truetype/dejavu")


def ocr(
    *rows: list[tuple[str, float, float]], top: float = 0.05, step: float = 0.07
) -> list[Evidence]:
    """OCR lines, one list per row of (text, x1, x2), rows ``step`` apart from ``top``, ids in reading order."""
    lines = []
    for r, row in enumerate(rows):
        y = top + r * step
        for text, x1, x2 in row:
            box = Box(x1=x1, y1=y, x2=x2, y2=y + 0.04)
            lines.append(
                Evidence(
                    id=f"ocr{len(lines)}",
                    tool="rapidocr",
                    kind="text",
                    text=text,
                    box=box,
                    score=0.95,
                )
            )
    return lines


def by_text(lines: list[Evidence], text: str) -> str:
    return next(ln.id for ln in lines if ln.text == text)


@pytest.fixture
def menu() -> list[Evidence]:
    """A café board as rapidocr reads one: a merged line with leaders, split rows, a misspelling, a footer."""
    return ocr(
        [("CAFE MENU", 0.3, 0.7)],
        [("Latte .......... $3.20", 0.1, 0.9)],
        [("Cappucino", 0.1, 0.4), ("$3.50", 0.8, 0.9)],  # OCR dropped a "c"
        [("Muffln", 0.1, 0.3), ("1.70", 0.8, 0.9)],  # "i" read as "l", price without its "$"
        [("Tea 1.60 Coffee 2.50", 0.1, 0.9)],  # two columns merged into one line
        [("Open 7:30 - 16:00", 0.1, 0.5)],
        [("Tel (555) 010-4477", 0.1, 0.6)],
        [("Est. 1998", 0.1, 0.3)],
    )


@pytest.fixture
def receipt() -> list[Evidence]:
    return ocr(
        [("THE GREEN CAFE", 0.2, 0.8)],
        [("12 High Street", 0.2, 0.8)],
        [("12/03/2024 10:42", 0.1, 0.6), ("Table 4", 0.7, 0.9)],
        [("2 x Latte", 0.1, 0.5), ("6.40", 0.8, 0.9)],
        [("Muffin", 0.1, 0.3), ("1.70", 0.8, 0.9)],
        [("Orange Juice", 0.1, 0.45), ("2.50", 0.8, 0.9)],
        [("SUBTOTAL", 0.1, 0.35), ("10.60", 0.8, 0.9)],
        [("VAT 20%", 0.1, 0.3), ("1.77", 0.8, 0.9)],
        [("TOTAL", 0.1, 0.3), ("£10.60", 0.75, 0.9)],
        [("CASH £20.00", 0.1, 0.9)],
        [("CHANGE", 0.1, 0.3), ("£9.40", 0.78, 0.9)],
    )


# --- pairing numbers with labels -------------------------------------------------------------


def test_pairs_merged_split_and_column_rows(menu: list[Evidence]) -> None:
    items = {i.label: (i.value, i.unit, i.evidence) for i in priced_items(menu)}
    assert items == {
        "Latte": (Decimal("3.20"), "$", [by_text(menu, "Latte .......... $3.20")]),
        "Cappucino": (Decimal("3.50"), "$", [by_text(menu, "Cappucino"), by_text(menu, "$3.50")]),
        "Muffln": (Decimal("1.70"), "", [by_text(menu, "Muffln"), by_text(menu, "1.70")]),
        "Tea": (Decimal("1.60"), "", [by_text(menu, "Tea 1.60 Coffee 2.50")]),
        "Coffee": (Decimal("2.50"), "", [by_text(menu, "Tea 1.60 Coffee 2.50")]),
    }  # no 7:30, 16:00, 555 010-4477 or 1998


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Burger 8,50 €", ("Burger", "8.50", "€")),
        ("Cola EUR 2.50", ("Cola", "2.50", "€")),
        ("Kaffe 35 kr", ("Kaffe", "35", "kr")),
        ("Scone 2", ("Scone", "2", "")),
        ("Latte3.20", ("Latte", "3.20", "")),
        ("Fruit juice 250 ml ..... £2.80", ("Fruit juice 250 ml", "2.80", "£")),
        ("VAT 20%", ("VAT", "20", "%")),
        ("Catering 1,250.00", ("Catering", "1250.00", "")),
        ("Call 555-0123-4567", None),
        ("Open 8am - 4pm", None),
        ("Open 7 days", None),
        ("Serves 4", None),
        ("Table 12", None),
        ("Order #57", None),
        ("Since 2009", None),
        ("14 March 2024", None),
        ("2 x", None),
        ("Veggie 0000", None),  # OCR's reading of a smudged "€9.00": a code, not a free pizza
    ],
)
def test_values_and_what_is_not_a_value(text: str, expected: tuple[str, str, str] | None) -> None:
    items = priced_items(ocr([(text, 0.1, 0.9)]))
    assert [(i.label, str(i.value), i.unit) for i in items] == ([expected] if expected else [])


def test_label_above_price_board() -> None:
    board = ocr(
        [("ESPRESSO", 0.05, 0.3), ("LATTE", 0.4, 0.6), ("MOCHA", 0.7, 0.95)],
        [("2.50", 0.1, 0.25), ("3.20", 0.42, 0.58), ("3.60", 0.75, 0.9)],
    )
    assert [(i.label, str(i.value)) for i in priced_items(board)] == [
        ("ESPRESSO", "2.50"),
        ("LATTE", "3.20"),
        ("MOCHA", "3.60"),
    ]


def test_table_header_names_the_columns() -> None:
    table = ocr(
        [("Small", 0.45, 0.6), ("Large", 0.7, 0.85)],
        [("Pizza", 0.1, 0.3), ("$8.00", 0.47, 0.58), ("$12.00", 0.71, 0.84)],
        [("Calzone", 0.1, 0.3), ("$9.00", 0.47, 0.58), ("$13.50", 0.71, 0.84)],
    )
    items = priced_items(table)
    assert [(i.label, str(i.value)) for i in items] == [
        ("Pizza Small", "8.00"), ("Pizza Large", "12.00"), ("Calzone Small", "9.00"), ("Calzone Large", "13.50"),
    ]  # fmt: skip
    assert items[1].evidence == [
        by_text(table, "Pizza"),
        by_text(table, "Large"),
        by_text(table, "$12.00"),
    ]
    assert compute("How much more is a large pizza than a small one?", table).value == "$4.00"  # type: ignore[union-attr]
    assert compute("How much is a pizza?", table) is None  # two sizes, two prices: not a guess


def test_table_row_missing_a_cell_keeps_its_column() -> None:
    table = ocr(
        [("Small", 0.45, 0.6), ("Large", 0.7, 0.85)],
        [("Pizza", 0.1, 0.3), ("$8.00", 0.47, 0.58), ("$12.00", 0.71, 0.84)],
        [("Veggie", 0.1, 0.3), ("$13.50", 0.71, 0.84)],  # OCR missed the small price
    )
    assert compute("How much is a large veggie?", table).value == "$13.50"  # type: ignore[union-attr]
    assert compute("How much is a small veggie?", table) is None


def test_tilted_photo_rows_pair_by_quad_slope() -> None:
    """On a photo tilted 4 degrees, a price sits a row higher than its label; the quads give the tilt."""
    slope = 0.07
    lines = []
    for i, (label, price) in enumerate([("Latte", "$3.20"), ("Muffin", "$1.70"), ("Tea", "$1.60")]):
        for text, x1, x2 in ((label, 0.1, 0.3), (price, 0.8, 0.9)):
            y1 = 0.2 + 0.05 * i - slope * (x1 + x2) / 2 + 0.1
            quad = [
                [x1, y1 + 0.005],
                [x2, y1 + 0.005 - slope * (x2 - x1)],
                [x2, y1 + 0.03],
                [x1, y1 + 0.03],
            ]
            box = Box(x1=x1, y1=y1 - slope * (x2 - x1), x2=x2, y2=y1 + 0.03)
            ev = Evidence(
                id=f"ocr{len(lines)}",
                tool="rapidocr",
                kind="text",
                text=text,
                box=box,
                attributes={"quad": quad},
            )
            lines.append(ev)
    assert [(i.label, str(i.value)) for i in priced_items(lines)] == [
        ("Latte", "3.20"),
        ("Muffin", "1.70"),
        ("Tea", "1.60"),
    ]


# --- questions about prices ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "value", "number"),
    [
        ("How much for two lattes and a muffin?", "$8.10", 8.1),
        ("What would 3 teas cost?", "$4.80", 4.8),
        ("how much are 2 cappuccinos", "$7.00", 7.0),
        ("What do twelve muffins cost?", "$20.40", 20.4),
        ("How much is a latte?", "$3.20", 3.2),
        ("What does a coffee cost?", "$2.50", 2.5),
        ("What's the price of a cappuccino and two teas?", "$6.70", 6.7),
        ("How much more is a latte than a tea?", "$1.60", 1.6),
        ("How much cheaper is a tea than a coffee?", "$0.90", 0.9),
        ("What's the difference between a coffee and a muffin?", "$0.80", 0.8),
        ("How many times more expensive is a latte than a tea?", "2 times", 2.0),
        ("Which is cheaper, the tea or the coffee?", "the tea", None),
        ("Which is more expensive: a latte or a cappuccino?", "the cappuccino", None),
        ("Is the tea cheaper than the coffee?", "yes", None),
        ("Is a muffin more expensive than a latte?", "no", None),
        ("Which is the cheapest?", "Tea", None),
        ("What is the most expensive item on the menu?", "Cappucino", None),
    ],
)
def test_price_questions(
    menu: list[Evidence], question: str, value: str, number: float | None
) -> None:
    result = compute(question, menu)
    assert result is not None, question
    assert (result.value, result.number) == (value, number)
    assert result.evidence and set(result.evidence) <= {ln.id for ln in menu}


@pytest.mark.parametrize(
    "question",
    [
        "How much for a latte and a bagel?",  # no bagel on the menu: not the latte's price alone
        "How much is a pizza?",
        "Is a bagel cheaper than a tea?",
        "What colour is the board?",  # not a computation
        "What does the sign say?",
        "How much is it?",  # names nothing
        "How many lattes are there?",
    ],
)
def test_not_decidable_is_none(menu: list[Evidence], question: str) -> None:
    assert compute(question, menu) is None


def test_detail_shows_the_sum_and_cites_the_lines(menu: list[Evidence]) -> None:
    result = compute("How much for two lattes and a muffin?", menu)
    assert result is not None
    assert result.detail == "2 x Latte $3.20 + 1 x Muffln $1.70 = $8.10"
    assert result.evidence == [
        by_text(menu, "Latte .......... $3.20"),
        by_text(menu, "Muffln"),
        by_text(menu, "1.70"),
    ]


def test_a_total_keeps_the_currency_as_written_after() -> None:
    lines = ocr(
        [("Burger ... 8,50 €", 0.1, 0.9)],
        [("Fries ... 3,00 €", 0.1, 0.9)],
        [("Cola ... 2,50 €", 0.1, 0.9)],
    )
    assert compute("What's the total for a burger and fries?", lines).value == "11.50 €"  # type: ignore[union-attr]
    assert compute("how much would 2 colas be?", lines).value == "5.00 €"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("How much is fish and chips?", "9.50"),
        ("How much for two fish & chips and a cola?", "21.00"),
        ("How much is the mac and cheese?", "7.00"),
        ("How much for a cola and a burger?", None),
    ],
)
def test_and_inside_an_item_name_is_one_item(question: str, value: str | None) -> None:
    lines = ocr(
        [("Fish & Chips 9.50", 0.1, 0.9)],
        [("Mac and Cheese 7.00", 0.1, 0.9)],
        [("Cola 2.00", 0.1, 0.9)],
    )
    result = compute(question, lines)
    assert (result.value if result else None) == value


def test_mixed_currencies_are_not_added() -> None:
    lines = ocr([("Tea $2.00", 0.1, 0.9)], [("Cake £3.00", 0.1, 0.9)])
    assert compute("How much for a tea and a cake?", lines) is None


# --- receipts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["What's the total?", "How much was paid?", "What is the total on this receipt?"]
)
def test_receipt_total_is_its_total_line(receipt: list[Evidence], question: str) -> None:
    result = compute(question, receipt)
    assert result is not None
    assert (result.value, result.number) == ("£10.60", 10.6)
    assert result.evidence == [by_text(receipt, "TOTAL"), by_text(receipt, "£10.60")]


def test_receipt_item_price(receipt: list[Evidence]) -> None:
    assert compute("How much was the orange juice?", receipt).value == "£2.50"  # type: ignore[union-attr]


def test_receipt_without_total_line_sums_its_items(receipt: list[Evidence]) -> None:
    no_total = [ln for ln in receipt if ln.text not in ("TOTAL", "£10.60")]
    result = compute("What's the total?", no_total)
    assert result is not None
    assert result.value == "£10.60"  # 6.40 + 1.70 + 2.50: subtotal, VAT, cash and change left out
    assert result.detail.startswith("no TOTAL line")


# --- equations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "rows", "value", "number"),
    [
        ("What is x?", [["2x + 3 = 11"]], "x = 4", 4.0),
        ("Solve the equation on the board", [["Solve: 2X+3=11"]], "x = 4", 4.0),
        ("What is x?", [["2x + 3", "= 11"]], "x = 4", 4.0),  # one row read as two lines
        ("What is the value of y?", [["x + 1 = 5"], ["2y = 10"]], "y = 5", 5.0),
        ("What's the answer to the sum on the board?", [["3 × 4 = ?"]], "12", 12.0),
        ("What is the answer?", [["3 x 4 = ?"]], "12", 12.0),
        ("What is the answer?", [["3×4=？"]], "12", 12.0),  # a full-width question mark
        ("Calculate the result", [["12 ÷ 4"]], "3", 3.0),
        ("What's the answer?", [["5 + 7 ="]], "12", 12.0),
        ("What's the answer?", [["7 − 2 ="]], "5", 5.0),
        ("What's the answer?", [["8 : 2 ="]], "4", 4.0),
        ("What's the answer?", [["7 ÷ 2 ="]], "3.5", 3.5),
        ("What is the missing number?", [["3 + ? = 7"]], "4", 4.0),
        ("Solve the equation", [["x² = 9"]], "x = -3 or x = 3", None),
        (
            "What's the answer?",
            [["Monday 12/03/2024"], ["7 − 2 ="]],
            "5",
            5.0,
        ),  # a date is no subtraction
        ("What is x?", [["x / 0 = 1"]], None, None),
        ("What is x?", [["Latte 3.20"]], None, None),
    ],
)
def test_equations(
    question: str, rows: list[list[str]], value: str | None, number: float | None
) -> None:
    lines = ocr(*[[(t, 0.1 + 0.45 * i, 0.5 + 0.45 * i) for i, t in enumerate(row)] for row in rows])
    result = compute(question, lines)
    assert ((result.value, result.number) if result else None) == (
        (value, number) if value else None
    )


@pytest.mark.parametrize(
    "question",
    [  # benchmark prompts: a jigsaw's "missing part", an instruction to answer with a letter
        (
            "Given the first image with the lower right corner missing, which one of the second image or the third "
            "image is the missing part?"
        ),
        "Is the car left of the person? Answer with the option's letter from the given choices directly.",
        "What is in the image?",
    ],
)
def test_prompts_that_are_not_sums(question: str) -> None:
    board = ocr([("3 + 4 = 7", 0.1, 0.5)], [("12 ÷ 4", 0.1, 0.5)], [("Latte $3.20", 0.1, 0.5)])
    assert compute(question, board) is None


def test_equation_cites_its_row() -> None:
    lines = ocr([("Solve for x:", 0.3, 0.7)], [("2x + 3", 0.1, 0.5), ("= 11", 0.55, 0.8)])
    result = compute("What is x?", lines)
    assert result is not None and result.evidence == ["ocr1", "ocr2"]
    assert result.detail == "2x + 3 = 11 gives x = 4"


def test_no_text_no_answer() -> None:
    person = Evidence(
        id="det0", tool="darknet", kind="object", label="person", box=Box(x1=0, y1=0, x2=1, y2=1)
    )
    assert compute("How much is a latte?", [person]) is None
    assert compute("What is x?", []) is None


# --- real OCR on rendered photos -------------------------------------------------------------


def _font(name: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONTS / name), size)


def _menu(draw: Any) -> None:
    chalk = (240, 236, 220)
    draw.text(
        (450, 60), "CAFÉ MENU", font=_font("DejaVuSerif-Bold.ttf", 64), fill=chalk, anchor="mt"
    )
    draw.text(
        (450, 150),
        "Hot drinks & bakes",
        font=_font("DejaVuSerif-Italic.ttf", 34),
        fill=(220, 200, 150),
        anchor="mt",
    )
    font = _font("DejaVuSans.ttf", 40)
    prices = [("Latte", "$3.20"), ("Cappuccino", "$3.50"), ("Flat White", "$3.40"), ("Tea", "$2.10"),
              ("Hot Chocolate", "$3.80"), ("Muffin", "$1.70"), ("Croissant", "$2.30")]  # fmt: skip
    for row, (name, price) in enumerate(prices):
        y = 240 + 80 * row
        draw.text((80, y), name, font=font, fill=chalk)
        dots = 80 + draw.textlength(name, font=font) + 16
        while dots < 660:  # dotted leaders up to the price column
            draw.text((dots, y), ".", font=font, fill=chalk)
            dots += 18
        draw.text((820, y), price, font=font, fill=chalk, anchor="ra")
    draw.text(
        (450, 880),
        "Open 7:30 - 16:00   Tel (555) 010-4477",
        font=_font("DejaVuSans.ttf", 28),
        fill=chalk,
        anchor="mt",
    )


def _receipt(draw: Any) -> None:
    ink, font, bold = (
        (30, 30, 30),
        _font("DejaVuSansMono.ttf", 28),
        _font("DejaVuSansMono-Bold.ttf", 32),
    )
    for y, text, f in [
        (40, "THE GREEN CAFE", bold),
        (90, "12 High Street, Leeds", font),
        (130, "Tel 0113 496 0123", font),
    ]:
        draw.text((280, y), text, font=f, fill=ink, anchor="mt")
    draw.text((40, 200), "12/03/2024 10:42", font=font, fill=ink)
    draw.text((520, 200), "Table 4", font=font, fill=ink, anchor="ra")
    rows = [("2 x Latte", "6.40", font), ("Muffin", "1.70", font), ("Orange Juice", "2.50", font), ("SUBTOTAL", "10.60", font),
            ("VAT 20% incl.", "1.77", font), ("TOTAL", "£10.60", bold), ("CASH", "£20.00", font), ("CHANGE", "£9.40", font)]  # fmt: skip
    for row, (text, price, f) in enumerate(rows):
        y = 280 + 52 * row + (20 if row >= 3 else 0)
        draw.text((40, y), text, font=f, fill=ink)
        draw.text((520, y), price, font=f, fill=ink, anchor="ra")
    draw.line((40, 430, 520, 430), fill=ink, width=2)
    draw.text((280, 760), "Thank you! Visit again", font=font, fill=ink, anchor="mt")


def _pizza(draw: Any) -> None:
    white, bold, font = (
        (255, 255, 255),
        _font("DejaVuSans-Bold.ttf", 44),
        _font("DejaVuSans.ttf", 44),
    )
    draw.text((500, 50), "PIZZA", font=_font("DejaVuSans-Bold.ttf", 70), fill=white, anchor="mt")
    for x, size in [(560, "Small"), (820, "Large")]:
        draw.text((x, 200), size, font=bold, fill=white, anchor="mt")
    rows = [
        ("Margherita", "€8.00", "€12.00"),
        ("Pepperoni", "€9.50", "€14.00"),
        ("Veggie", "€9.00", "€13.50"),
    ]
    for y, (name, small, large) in zip((300, 390, 480), rows):
        draw.text((60, y), name, font=font, fill=white)
        draw.text((560, y), small, font=font, fill=white, anchor="mt")
        draw.text((820, y), large, font=font, fill=white, anchor="mt")


def _board(*lines: tuple[str, int, tuple[int, int, int]]) -> Any:
    def draw_board(draw: Any) -> None:
        draw.rectangle((10, 10, 990, 590), outline=(160, 160, 170), width=8)
        y = 120
        for text, size, colour in lines:
            draw.text((500, y), text, font=_font("DejaVuSans.ttf", size), fill=colour, anchor="mt")
            y += size + 90

    return draw_board


PHOTOS: dict[str, tuple[tuple[int, int], tuple[int, int, int], Any]] = {
    "menu": ((900, 1000), (34, 52, 44), _menu),  # a chalkboard
    "receipt": ((560, 820), (250, 250, 246), _receipt),
    "pizza": ((1000, 700), (180, 30, 30), _pizza),
    "equation": (
        (1000, 600),
        (245, 247, 250),
        _board(("Solve for x:", 56, (30, 60, 160)), ("2x + 3 = 11", 96, (20, 20, 20))),
    ),
    "sum": ((1000, 600), (245, 247, 250), _board(("3 × 4 = ?", 110, (20, 20, 20)))),
}


@pytest.fixture(scope="module")
def photo_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Evidence]]:
    """Each picture drawn, tilted 3 degrees, blurred, noised, shrunk and saved as a JPEG; then real RapidOCR."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    from agentvlm.images import load_image
    from agentvlm.tools.ocr_rapidocr import RapidOCRTool

    folder, tool, rng = tmp_path_factory.mktemp("photos"), RapidOCRTool(), np.random.default_rng(0)
    read = {}
    for name, (size, background, draw) in PHOTOS.items():
        img = Image.new("RGB", size, background)
        draw(ImageDraw.Draw(img))
        img = img.rotate(
            3.0, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128)
        )
        img = img.filter(ImageFilter.GaussianBlur(1.2)).resize(
            (img.width * 3 // 5, img.height * 3 // 5)
        )
        noisy = np.asarray(img, dtype=float) + rng.normal(0, 12, (img.height, img.width, 3))
        path = folder / f"{name}.jpg"
        Image.fromarray(np.clip(noisy, 0, 255).astype("uint8")).save(path, quality=45)
        read[name] = tool.run(load_image(path))
    return read


@pytest.mark.slow
@pytest.mark.parametrize(
    ("photo", "question", "answer"),
    [
        ("menu", "How much for two lattes and a muffin?", "$8.10"),
        ("menu", "Which is cheaper, the tea or the croissant?", "the tea"),
        ("menu", "How much more is a hot chocolate than a tea?", "$1.70"),
        ("menu", "What does a flat white cost?", "$3.40"),
        ("menu", "Which is the most expensive?", "Hot Chocolate"),
        ("menu", "How much for a latte and a bagel?", None),
        ("receipt", "What's the total?", "£10.60"),
        ("receipt", "How much was paid?", "£10.60"),
        ("receipt", "How much was the orange juice?", "£2.50"),
        ("pizza", "How much more is a large pepperoni than a small one?", "4.50 €"),
        ("pizza", "How much for two small margheritas?", "16.00 €"),
        (
            "pizza",
            "What does a large veggie cost?",
            "13.50 €",
        ),  # OCR read its small price as "0000"
        ("equation", "What is x?", "x = 4"),
        ("sum", "What's the answer to the sum on the board?", "12"),
    ],
)
def test_real_ocr_photos(
    photo_lines: dict[str, list[Evidence]], photo: str, question: str, answer: str | None
) -> None:
    result = compute(question, photo_lines[photo])
    read = [ln.text for ln in photo_lines[photo]]
    assert (result.value if result else None) == answer, (
        f"OCR read {read}; {result.detail if result else 'no result'}"
    )
