"""Render the document evaluation set: images/*.jpg and questions.jsonl, deterministically from SEED.

    python examples/documents/make_documents.py            # rebuild images/ and questions.jsonl
    python examples/documents/make_documents.py --check    # rebuild in a temp folder, compare questions

Every synthetic document's content (items, prices, values) is drawn from a random generator
seeded with SEED and the image's name, drawn with Pillow in DejaVu fonts, then made to look
photographed: a background, a slight rotation and perspective, uneven lighting, blur, noise
and JPEG compression, all from the same seed. The questions are written here next to the
content they ask about, so each answer is computed from what the image shows. The few real
photographs (see ATTRIBUTION.md) are copied in, not drawn; their questions are written by hand
in REAL_ITEMS. Which questions an image gets is chosen from its candidates so that every
operation appears in both splits (see README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SEED = 20261209
HERE = Path(__file__).resolve().parent
FONTS = Path("/usr/share/fonts/truetype/dejavu")
OPERATIONS = (
    "lookup", "sum", "average", "difference", "count", "product", "unit_quantity", "percentage",
    "discount", "extreme", "series_compare", "equation", "read_all", "read_field",
)  # fmt: skip
PER_IMAGE = 3


# ---------------------------------------------------------------------------------------------
# Questions


@dataclass
class Q:
    """One candidate question about an image."""

    question: str
    answer: str | list[str] | None
    category: str
    answer_type: str = "short_answer"


@dataclass
class Doc:
    """One image: its file name, kind, the rendered page and its candidate questions."""

    name: str
    kind: str
    page: Image.Image | None
    questions: list[Q] = field(default_factory=list)
    ask: int = PER_IMAGE


def split_of(name: str) -> str:
    """The set's rule: the first hex digit of sha1(file name) even -> dev, odd -> test."""
    return (
        "dev"
        if int(hashlib.sha1(Path(name).name.encode("utf-8")).hexdigest()[0], 16) % 2 == 0
        else "test"
    )


def rnd(value: float, places: int) -> float | None:
    """``value`` rounded to ``places``, or None where it lies on a half (the rounding would be a coin toss)."""
    scaled = abs(value) * 10**places
    if abs(scaled - math.floor(scaled) - 0.5) < 1e-6:
        return None
    return round(value + (1e-9 if value >= 0 else -1e-9), places)


def fmt(value: float, places: int = 2) -> str:
    return f"{value:.{places}f}"


def money(value: float | None, sym: str, places: int = 2, comma: bool = False) -> list[str] | None:
    """Accepted answers for an amount: with its symbol first, then bare, then without trailing zeros."""
    if value is None:
        return None
    plain = fmt(value, places)
    out = [f"{sym}{plain}" if sym != "€" or not comma else f"{plain} €", plain]
    if sym == "€":
        out.insert(1, f"{plain} €" if not comma else f"€{plain}")
    short = plain.rstrip("0").rstrip(".") if "." in plain else plain
    if short != plain:
        out.append(short)
    if comma:
        out.append(plain.replace(".", ","))
    return list(dict.fromkeys(out))


def number(value: float | None, places: int = 0, unit: str = "") -> list[str] | None:
    if value is None:
        return None
    plain = fmt(value, places) if places else str(round(value))
    out = [plain + unit, plain] if unit else [plain]
    short = plain.rstrip("0").rstrip(".") if "." in plain else plain
    if short != plain:
        out.append(short)
    return list(dict.fromkeys(out))


def show(value: float, sym: str, places: int = 2, comma: bool = False, suffix: bool = False) -> str:
    """How a price is printed on a document."""
    s = f"{value:,.{places}f}"
    if comma:
        s = s.replace(",", " ").replace(".", ",")
    return f"{s} {sym}" if suffix else f"{sym}{s}"


WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


# ---------------------------------------------------------------------------------------------
# Drawing


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / f"{name}.ttf"), size)


def text_w(draw: ImageDraw.ImageDraw, s: str, f: ImageFont.FreeTypeFont) -> int:
    box = draw.textbbox((0, 0), s, font=f)
    return int(box[2] - box[0])


PAPER = [(250, 250, 246), (255, 253, 240), (245, 245, 245), (252, 248, 236)]
INK = [(20, 20, 20), (30, 30, 60), (40, 35, 30)]


def page(
    w: int, h: int, rng: random.Random, color: tuple[int, int, int] | None = None
) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (w, h), color or rng.choice(PAPER))
    return im, ImageDraw.Draw(im)


def _perspective_coeffs(
    src: list[tuple[float, float]], dst: list[tuple[float, float]]
) -> list[float]:
    """Coefficients for Image.transform(PERSPECTIVE) mapping output points dst to input points src."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for p in src for c in p], dtype=float)
    return [float(c) for c in np.linalg.solve(a, b)]


BACKGROUNDS = [
    (120, 96, 70),
    (90, 90, 95),
    (150, 140, 120),
    (60, 70, 60),
    (170, 165, 160),
    (105, 80, 60),
]


def photograph(
    doc: Image.Image, rng: random.Random, strength: float = 1.0, max_side: int = 1100
) -> Image.Image:
    """Make a flat page look photographed: background, tilt, perspective, light, blur, noise."""
    w, h = doc.size
    margin = int(0.09 * max(w, h))
    bg_color = rng.choice(BACKGROUNDS)
    canvas = Image.new("RGB", (w + 2 * margin, h + 2 * margin), bg_color)
    texture = np.asarray(canvas, dtype=np.float32) + np.random.default_rng(
        rng.randrange(2**32)
    ).normal(0, 9, (h + 2 * margin, w + 2 * margin, 1))
    canvas = Image.fromarray(np.clip(texture, 0, 255).astype(np.uint8))
    canvas.paste(doc, (margin, margin))
    cw, ch = canvas.size
    # where each output corner looks in the input: a small rotation plus independent corner jitter
    angle = math.radians(rng.uniform(-3.5, 3.5) * strength)
    cx, cy = cw / 2, ch / 2
    jitter = 0.035 * strength * min(cw, ch)
    src = []
    for x, y in [(0, 0), (cw, 0), (cw, ch), (0, ch)]:
        dx, dy = x - cx, y - cy
        rx = cx + dx * math.cos(angle) - dy * math.sin(angle) + rng.uniform(-jitter, jitter)
        ry = cy + dx * math.sin(angle) + dy * math.cos(angle) + rng.uniform(-jitter, jitter)
        src.append((rx, ry))
    dst = [(0.0, 0.0), (float(cw), 0.0), (float(cw), float(ch)), (0.0, float(ch))]
    out = canvas.transform(
        (cw, ch),
        Image.Transform.PERSPECTIVE,
        _perspective_coeffs(src, dst),
        Image.Resampling.BICUBIC,
        fillcolor=bg_color,
    )
    # uneven lighting: a linear gradient times a soft radial falloff
    arr = np.asarray(out, dtype=np.float32)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    theta = rng.uniform(0, 2 * math.pi)
    grad = (
        ((xx / cw - 0.5) * math.cos(theta) + (yy / ch - 0.5) * math.sin(theta))
        * rng.uniform(0.15, 0.35)
        * strength
    )
    lx, ly = rng.uniform(0.2, 0.8) * cw, rng.uniform(0.2, 0.8) * ch
    radial = (
        np.sqrt(((xx - lx) / cw) ** 2 + ((yy - ly) / ch) ** 2) * rng.uniform(0.1, 0.3) * strength
    )
    light = (1.0 + grad - radial)[..., None]
    tint = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 0.98)], dtype=np.float32)
    arr = arr * light * tint
    noise = np.random.default_rng(rng.randrange(2**32)).normal(
        0, rng.uniform(3, 8) * strength, arr.shape
    )
    img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))
    scale = min(1.0, max_side / max(cw, ch))
    if scale < 1.0:
        img = img.resize((int(cw * scale), int(ch * scale)), Image.Resampling.LANCZOS)
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0) * strength))


def jpeg_bytes(img: Image.Image, rng: random.Random) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(68, 86))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Receipts

PLURALS = {
    "Milk 2L": "bottles of milk",
    "Eggs (dozen)": "dozen eggs",
    "Sourdough loaf": "sourdough loaves",
    "Bananas": "bunches of bananas",
    "Coffee beans": "bags of coffee beans",
    "Cheddar": "blocks of cheddar",
    "Apples 1kg": "bags of apples",
    "Basmati rice": "bags of basmati rice",
    "Butter": "packs of butter",
    "Tomatoes": "punnets of tomatoes",
    "Penne pasta": "packs of penne",
    "Orange juice": "cartons of orange juice",
    "Greek yogurt": "tubs of Greek yogurt",
    "Chicken breast": "packs of chicken breast",
    "Olive oil": "bottles of olive oil",
    "Dish soap": "bottles of dish soap",
    "Toothpaste": "tubes of toothpaste",
    "Oat biscuits": "packets of oat biscuits",
    "Ground coffee": "bags of ground coffee",
    "Honey jar": "jars of honey",
}
GROCERIES = list(PLURALS)


def spoken(name: str) -> str:
    """How people say a receipt line: "Milk 2L" -> "milk", "Eggs (dozen)" -> "eggs"."""
    words = [w for w in name.split(" (")[0].split() if w not in ("2L", "1kg", "jar")]
    return " ".join(w if w == "Greek" else w.lower() for w in words)


def item_answers(name: str) -> list[str]:
    return list(dict.fromkeys([name, name.split(" (")[0], spoken(name)]))


STORES = [
    ("GREENWAY MARKET", "$", "Sales tax"), ("CORNER GROCER", "£", "VAT"), ("MARCHÉ DU COIN", "€", "TVA"),
    ("FRESHMART #204", "$", "Tax"), ("THE PANTRY CO.", "£", "VAT"), ("BIOLADEN HAUS", "€", "MwSt"),
    ("VALLEY FOODS", "$", "Sales tax"), ("NORTHSIDE DELI", "$", "Tax"), ("SUNRISE MINIMART", "$", "Tax"),
    ("HIGH ST. GROCER", "£", "VAT"), ("ÉPICERIE FINE", "€", "TVA"),
]  # fmt: skip
ADDRESSES = {
    "$": ["455 Elm Ave", "1200 Main St", "87 Oak Blvd", "31 Harbor Rd"],
    "£": ["12 High Street", "4 Market Place", "27 Station Road", "9 Church Lane"],
    "€": ["8 Rue Victor Hugo", "Bahnhofstr. 3", "Via Roma 14", "Calle Mayor 22"],
}
DATE_STYLES = [
    "{d:02d}/{m:02d}/{y}",
    "{y}-{m:02d}-{d:02d}",
    "{mon} {d}, {y}",
    "{d:02d}.{m:02d}.{y}",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def receipt(n: int, rng: random.Random) -> Doc:
    store, sym, tax_name = STORES[n]
    names = rng.sample(GROCERIES, rng.randint(5, 7))
    while True:
        qty = [rng.choice([1, 1, 1, 2, 3]) for _ in names]
        unit = [rng.randint(79, 1299) / 100 for _ in names]
        lines = [round(q * u, 2) for q, u in zip(qty, unit, strict=True)]
        top = max(range(len(names)), key=lambda i: lines[i])
        low = min(range(len(names)), key=lambda i: lines[i])
        if (
            (ranked := sorted(lines))[-1] != ranked[-2]
            and ranked[0] != ranked[1]
            and max(unit) == unit[top]
            and min(unit) == unit[low]
            and 1 in qty
        ):
            break
    rate = rng.choice([0.05, 0.06, 0.08, 0.1, 0.2])
    sub = round(sum(lines), 2)
    tax = round(sub * rate, 2)
    total = round(sub + tax, 2)
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.choice([2023, 2024, 2025])
    date = rng.choice(DATE_STYLES).format(d=d, m=m, y=y, mon=MONTHS[m - 1])
    mono = n % 2 == 0
    f = font("DejaVuSansMono" if mono else "DejaVuSansCondensed", 24)
    fb = font("DejaVuSansMono-Bold" if mono else "DejaVuSansCondensed-Bold", 30)
    w = 560
    h = 330 + 34 * len(names) + 160
    im, dr = page(w, h, rng, (250, 250, 247))
    y0 = 24
    dr.text(((w - text_w(dr, store, fb)) / 2, y0), store, font=fb, fill=INK[0])
    y0 += 44
    for s in [
        rng.choice(ADDRESSES[sym]),
        f"Date: {date}  {rng.randint(8, 20)}:{rng.randint(0, 59):02d}",
    ]:
        dr.text(((w - text_w(dr, s, f)) / 2, y0), s, font=f, fill=INK[0])
        y0 += 32
    y0 += 10
    dr.line([(20, y0), (w - 20, y0)], fill=INK[0], width=2)
    y0 += 14
    for name, q, u, line in zip(names, qty, unit, lines, strict=True):
        label = f"{q} x {name}" if q > 1 else name
        dr.text((24, y0), label, font=f, fill=INK[0])
        if q > 1:
            y0 += 28
            dr.text((60, y0), f"@ {show(u, sym)} ea", font=f, fill=INK[0])
        s = show(line, sym)
        dr.text((w - 24 - text_w(dr, s, f), y0), s, font=f, fill=INK[0])
        y0 += 34
    dr.line([(20, y0), (w - 20, y0)], fill=INK[0], width=1)
    y0 += 12
    for label, val, fnt in [("SUBTOTAL", sub, f), (tax_name.upper(), tax, f), ("TOTAL", total, fb)]:
        dr.text((24, y0), label, font=fnt, fill=INK[0])
        s = show(val, sym)
        dr.text((w - 24 - text_w(dr, s, fnt), y0), s, font=fnt, fill=INK[0])
        y0 += 40
    dr.text(((w - text_w(dr, "THANK YOU!", f)) / 2, y0 + 10), "THANK YOU!", font=f, fill=INK[0])
    im = im.crop((0, 0, w, y0 + 60))

    i, j = rng.sample(range(len(names)), 2)
    k = rng.choice([x for x in range(len(names)) if qty[x] == 1])
    many = rng.choice([2, 3, 4])
    qs = [
        Q("What's the total on this receipt?", money(total, sym), "read_field"),
        Q("What date is printed on the receipt?", [date], "read_field", "ocr"),
        Q(
            f"How much would {WORDS[many]} {PLURALS[names[k]]} cost at these prices?",
            money(unit[k] * many, sym),
            "product",
        ),
        Q(
            f"How much did the {spoken(names[i])} and the {spoken(names[j])} come to together?",
            money(lines[i] + lines[j], sym),
            "sum",
        ),
        Q("How many different products are on the receipt?", number(len(names)), "count"),
        Q("What was the most expensive thing I bought?", item_answers(names[top]), "extreme"),
        Q(
            f"The {tax_name.lower() if tax_name in ('Tax', 'Sales tax') else tax_name} is what percentage of the subtotal? Round to a whole percent.",
            number(rate * 100, unit="%"),
            "percentage",
        ),
        Q(
            f"How much more did the {spoken(names[top])} cost than the {spoken(names[low])}?",
            money(lines[top] - lines[low], sym),
            "difference",
        ),
        Q(f"What did the {spoken(names[k])} cost?", money(unit[k], sym), "lookup"),
    ]
    if n % 3 == 0:
        qs.append(
            Q("Which item on the receipt was the cheapest?", item_answers(names[low]), "extreme")
        )
    return Doc(f"receipt_{n + 1:02d}.jpg", "receipt", im, qs)


# ---------------------------------------------------------------------------------------------
# Menus

DRINKS = [
    "Espresso",
    "Americano",
    "Latte",
    "Cappuccino",
    "Flat white",
    "Mocha",
    "Hot chocolate",
    "Chai latte",
    "Iced tea",
]
FOOD = {
    "Pastries": [
        "Croissant",
        "Pain au chocolat",
        "Blueberry muffin",
        "Cinnamon roll",
        "Scone",
        "Almond croissant",
    ],
    "Sandwiches": ["BLT", "Ham & cheese", "Tuna melt", "Caprese", "Chicken club", "Veggie wrap"],
    "Breakfast": ["Porridge", "Avocado toast", "Full breakfast", "Pancakes", "Granola bowl"],
}
CAFES = [
    ("The Daily Grind", "$"),
    ("Bean There", "£"),
    ("Café Lumière", "€"),
    ("Harbour Coffee", "$"),
    ("Kettle & Crumb", "£"),
    ("Kaffeehaus Blau", "€"),
]


def menu(n: int, rng: random.Random) -> Doc:
    cafe, sym = CAFES[n]
    comma = sym == "€" and n % 2 == 1
    drinks = rng.sample(DRINKS, 5)
    sizes = ["Small", "Regular", "Large"] if n % 2 == 0 else ["Reg", "Large"]
    said = {"Small": "small", "Regular": "regular", "Reg": "regular", "Large": "large"}
    happy = rng.choice([10, 20, 25, 50])
    base = [rng.randint(22, 36) / 10 for _ in drinks]
    step = rng.choice([0.4, 0.5, 0.6])
    price = [[round(b + step * s, 2) for s in range(len(sizes))] for b in base]
    section = rng.choice(sorted(FOOD))
    while True:
        foods = rng.sample(FOOD[section], 4)
        fprice = [rng.randint(25, 95) / 10 + (0.05 if rng.random() < 0.3 else 0) for _ in foods]
        fprice = [round(p, 2) for p in fprice]
        if len(set(fprice)) == 4 and round(sum(fprice) * 100) % 4 != 2:
            break
    dark = n % 3 == 1
    bgc = (35, 45, 40) if dark else rng.choice(PAPER)
    ink = (240, 240, 230) if dark else INK[rng.randrange(3)]
    serif = n % 2 == 1
    ft = font("DejaVuSerif-Bold" if serif else "DejaVuSans-Bold", 44)
    fh = font("DejaVuSerif-Bold" if serif else "DejaVuSansCondensed-Bold", 28)
    f = font("DejaVuSerif" if serif else "DejaVuSans", 25)
    w, h = 760, 260 + 44 * (len(drinks) + len(foods)) + 120
    im, dr = page(w, h, rng, bgc)
    dr.text(((w - text_w(dr, cafe, ft)) / 2, 26), cafe, font=ft, fill=ink)
    y = 110
    dr.text((40, y), "COFFEE & DRINKS", font=fh, fill=ink)
    cols = [w - 40 - 110 * (len(sizes) - 1 - c) for c in range(len(sizes))]
    for c, s in enumerate(sizes):
        dr.text((cols[c] - text_w(dr, s, fh), y), s, font=fh, fill=ink)
    y += 48
    for d, row in zip(drinks, price, strict=True):
        dr.text((40, y), d, font=f, fill=ink)
        for c, p in enumerate(row):
            s = show(p, "", comma=comma)
            dr.text((cols[c] - text_w(dr, s, f), y), s, font=f, fill=ink)
        y += 42
    dr.text(
        (40, y + 6),
        f"All prices in {'dollars' if sym == '$' else 'pounds' if sym == '£' else 'euros'} ({sym})",
        font=font("DejaVuSans-Oblique", 18),
        fill=ink,
    )
    y += 40
    dr.text(
        (40, y + 6),
        f"HAPPY HOUR 3-5 pm: {happy}% off all drinks",
        font=font("DejaVuSansCondensed-Bold", 24),
        fill=(200, 40, 40) if not dark else (250, 200, 80),
    )
    y += 60
    dr.text((40, y), section.upper(), font=fh, fill=ink)
    y += 48
    for d, p in zip(foods, fprice, strict=True):
        s = show(p, sym, comma=comma, suffix=comma)
        dr.text((40, y), d, font=f, fill=ink)
        dots_end = cols[-1] - text_w(dr, s, f) - 10
        x = 50 + text_w(dr, d, f)
        if not dark:
            while x < dots_end:
                dr.text((x, y), ".", font=f, fill=ink)
                x += 12
        dr.text((cols[-1] - text_w(dr, s, f), y), s, font=f, fill=ink)
        y += 42
    im = im.crop((0, 0, w, y + 40))

    a, b = rng.sample(range(len(drinks)), 2)
    big, small = len(sizes) - 1, 0
    cheap = min(range(4), key=lambda i: fprice[i])
    dear = max(range(4), key=lambda i: fprice[i])
    fi = rng.randrange(4)
    sb, ss = said[sizes[big]], said[sizes[small]]
    qs = [
        Q(
            f"How much is a {sb} {drinks[a].lower()}?",
            money(price[a][big], sym, comma=comma),
            "lookup",
        ),
        Q(
            f"What's the price of a {ss} {drinks[b].lower()}?",
            money(price[b][small], sym, comma=comma),
            "lookup",
        ),
        Q(
            f"What would {WORDS[2]} {ss} {drinks[b].lower()}s cost?",
            money(price[b][small] * 2, sym, comma=comma),
            "product",
        ),
        Q(
            f"How much more is a {sb} {drinks[a].lower()} than a {ss} one?",
            money(price[a][big] - price[a][small], sym, comma=comma),
            "difference",
        ),
        Q(
            f"What does a {sb} {drinks[b].lower()} cost during happy hour? Round to the nearest cent.",
            money(rnd(price[b][big] * (100 - happy) / 100, 2), sym, comma=comma),
            "discount",
        ),
        Q(f"Which of the {section.lower()} is the cheapest?", [foods[cheap]], "extreme"),
        Q(f"What's the most expensive item under {section.title()}?", [foods[dear]], "extreme"),
        Q(
            f"If I get a {sb} {drinks[a].lower()} and a {foods[fi].lower()}, how much is that altogether?",
            money(price[a][big] + fprice[fi], sym, comma=comma),
            "sum",
        ),
        Q("How many drinks are on the menu?", number(len(drinks)), "count"),
        Q(
            f"What's the average price of the {section.lower()} on the menu? Round to the nearest cent.",
            money(rnd(sum(fprice) / 4, 2), sym, comma=comma),
            "average",
        ),
        Q(
            f"I'd like {WORDS[3]} of the {foods[fi]}. How much is that?",
            money(fprice[fi] * 3, sym, comma=comma),
            "product",
        ),
    ]
    return Doc(f"menu_{n + 1:02d}.jpg", "menu", im, qs)


# ---------------------------------------------------------------------------------------------
# Price boards: fuel and market stalls

FUEL = [
    ("SUNOCO-STYLE", "$", "gallon", ["Regular", "Plus", "Premium", "Diesel"], 3),
    ("HIGHWAY FUELS", "$", "gallon", ["Unleaded 87", "Midgrade 89", "Super 93", "Diesel"], 3),
    (
        "RIVERSIDE SERVICES",
        "£",
        "litre",
        ["Unleaded", "Super Unleaded", "Diesel", "Premium Diesel"],
        3,
    ),
    ("STATION ALPINA", "€", "litre", ["Super E10", "Super E5", "Super Plus", "Diesel"], 3),
    ("PRAIRIE GAS & GO", "$", "gallon", ["Regular", "Midgrade", "Premium", "Diesel"], 3),
    ("CITY SERVE", "£", "litre", ["Unleaded", "Diesel", "Super"], 3),
    ("TANKSTELLE NORD", "€", "litre", ["Super 95", "Super 98", "Diesel", "LPG"], 3),
    ("MESA TRAVEL CENTER", "$", "gallon", ["Unleaded", "Super", "Diesel", "E85"], 3),
]
STALLS = [
    (
        "FARM STALL - TODAY'S PRICES",
        "£",
        "kg",
        ["Potatoes", "Carrots", "Tomatoes", "Apples", "Pears", "Onions"],
    ),
    ("MERCADO VERDE", "€", "kg", ["Oranges", "Lemons", "Grapes", "Peppers", "Courgettes", "Plums"]),
    ("DELI COUNTER", "$", "lb", ["Cheddar", "Smoked ham", "Turkey", "Swiss cheese", "Salami"]),
    ("GREENGROCER", "£", "kg", ["Cherries", "Mushrooms", "Leeks", "Beetroot", "Spinach"]),
    ("MARCHÉ DU SAMEDI", "€", "kg", ["Fraises", "Cerises", "Abricots", "Pêches", "Poires"]),
]


def fuel_board(n: int, rng: random.Random) -> Doc:
    brand, sym, unit, grades, _ = FUEL[n]
    brand = brand.replace("SUNOCO-STYLE", "LAKESIDE FUEL")
    comma = sym == "€"
    two_cols = n in (0, 4, 7)
    while True:
        if sym == "$":
            cash = [round(rng.randint(299, 459) / 100 + 0.009, 3) for _ in grades]
        else:
            cash = [round(rng.randint(139, 199) / 100 + 0.009, 3) for _ in grades]
        if len(set(cash)) == len(cash):
            break
    gas = sorted(i for i, g in enumerate(grades) if "Diesel" not in g and g not in ("LPG", "E85"))
    for i, v in zip(gas, sorted(cash[i] for i in gas), strict=True):
        cash[i] = v  # petrol grades go up with octane, as on real boards
    credit = [round(c + 0.10, 3) for c in cash]
    w, h = 700, 180 + 110 * len(grades) + 40
    im, dr = page(w, h, rng, (20, 30, 70) if n % 2 == 0 else (235, 235, 230))
    ink = (255, 255, 255) if n % 2 == 0 else (20, 20, 20)
    led = (255, 190, 40) if n % 2 == 0 else (200, 20, 20)
    fb = font("DejaVuSans-Bold", 40)
    fl = font("DejaVuSansCondensed-Bold", 34)
    fp = font("DejaVuSansMono-Bold", 56)
    dr.text(((w - text_w(dr, brand, fb)) / 2, 24), brand, font=fb, fill=ink)
    y = 100
    sub = f"PRICE PER {unit.upper()}"
    fsub = font("DejaVuSans", 22)
    if two_cols:
        dr.text((330, y), "CASH", font=fsub, fill=ink)
        dr.text((530, y), "CREDIT", font=fsub, fill=ink)
        dr.text((30, y), sub, font=fsub, fill=ink)
    else:
        dr.text(((w - text_w(dr, sub, fsub)) / 2, y), sub, font=fsub, fill=ink)
    y += 50
    for g, c, cr in zip(grades, cash, credit, strict=True):
        dr.rectangle([24, y - 6, w - 24, y + 84], outline=ink, width=2)
        dr.text((40, y + 20), g.upper(), font=fl, fill=ink)
        whole = f"{c:.3f}"[:-1]
        if comma:
            whole = whole.replace(".", ",")
        if two_cols:
            for x, v in [(300, c), (500, cr)]:
                wv = f"{v:.3f}"[:-1]
                dr.text((x, y + 14), wv, font=font("DejaVuSansMono-Bold", 44), fill=led)
                dr.text(
                    (x + text_w(dr, wv, font("DejaVuSansMono-Bold", 44)) + 2, y + 10),
                    "9/10" if sym == "$" else "9",
                    font=font("DejaVuSansMono-Bold", 20),
                    fill=led,
                )
        else:
            x = w - 60 - text_w(dr, whole, fp) - 40
            dr.text((x, y + 6), whole, font=fp, fill=led)
            dr.text(
                (x + text_w(dr, whole, fp) + 4, y + 6),
                "9" if sym != "$" else "9/10",
                font=font("DejaVuSansMono-Bold", 24),
                fill=led,
            )
        y += 110
    im = im.crop((0, 0, w, y + 10))

    a, b = rng.sample(range(len(grades)), 2)
    lo, hi = (a, b) if cash[a] < cash[b] else (b, a)
    budget = rng.choice([20, 25, 30, 40, 50, 60]) if sym == "$" else rng.choice([20, 30, 40, 50])
    amount = rng.choice([8, 10, 12, 14]) if sym == "$" else rng.choice([20, 30, 40])

    def price_txt(v: float) -> list[str]:
        out = [f"{sym}{v:.3f}", f"{v:.3f}"]
        return [*out, f"{v:.3f}".replace(".", ",")] if comma else out

    cheapest = min(range(len(grades)), key=lambda i: cash[i])
    col = " (cash)" if two_cols else ""
    qs = [
        Q(
            f"How many {unit}s of {grades[a]} can I buy for {sym}{budget}{' paying cash' if two_cols else ''}? Round to two decimal places.",
            number(rnd(budget / cash[a], 2), 2),
            "unit_quantity",
        ),
        Q(
            f"How much {grades[b]} would {sym}{budget + 10} get me{' with cash' if two_cols else ''}, in {unit}s, to one decimal place?",
            number(rnd((budget + 10) / cash[b], 1), 1),
            "unit_quantity",
        ),
        Q(f"What's the price of {grades[b]}{col}?", price_txt(cash[b]), "lookup"),
        Q(
            f"What would {amount} {unit}s of {grades[a]}{col} cost, to the nearest cent?",
            money(rnd(amount * cash[a], 2), sym, comma=comma),
            "product",
        ),
        Q(
            f"How much more per {unit} is {grades[hi]} than {grades[lo]}{col}?",
            money(cash[hi] - cash[lo], sym, 2, comma=comma),
            "difference",
        ),
        Q("Which fuel is the cheapest here?", [grades[cheapest]], "extreme"),
    ]
    if two_cols:
        qs.append(
            Q(
                f"What does {grades[a]} cost per {unit} if I pay by credit card?",
                price_txt(credit[a]),
                "lookup",
            )
        )
    return Doc(f"price_board_fuel_{n + 1:02d}.jpg", "price_board", im, qs)


def stall_board(n: int, rng: random.Random) -> Doc:
    title, sym, unit, goods = STALLS[n]
    prices = rng.sample(
        [1.2, 1.5, 1.6, 2.0, 2.4, 2.5, 3.0, 3.2, 4.0, 0.8]
        if unit == "kg"
        else [3.99, 5.49, 6.99, 7.49, 8.99, 9.49],
        len(goods),
    )
    w, h = 720, 140 + 70 * len(goods) + 40
    im, dr = page(w, h, rng, (30, 30, 30))
    chalk = (235, 235, 225)
    ft = font("DejaVuSerif-BoldItalic", 36)
    f = font("DejaVuSerifCondensed-Italic", 34)
    dr.text(((w - text_w(dr, title, ft)) / 2, 30), title, font=ft, fill=chalk)
    y = 120
    for g, p in zip(goods, prices, strict=True):
        s = show(p, sym, comma=sym == "€", suffix=sym == "€") + f" / {unit}"
        dr.text((50, y), g, font=f, fill=chalk)
        dr.text((w - 50 - text_w(dr, s, f), y), s, font=f, fill=(250, 220, 120))
        y += 70
    im = im.crop((0, 0, w, y + 20))
    a, b, c = rng.sample(range(len(goods)), 3)
    spend = rng.choice([5, 6, 10, 12]) if unit == "kg" else rng.choice([10, 15, 20])
    names = "kilos" if unit == "kg" else "pounds"
    shown = list(goods)
    goods = [g if g.startswith("Swiss") else g.lower() for g in goods]
    top = max(range(len(goods)), key=lambda i: prices[i])
    comma = sym == "€"
    qs = [
        Q(
            f"How many {names} of {goods[a]} can I get for {sym}{spend}? Round to one decimal place.",
            number(rnd(spend / prices[a], 1), 1),
            "unit_quantity",
        ),
        Q(
            f"How much {goods[b]} does {sym}{spend * 2} buy, in {unit}? Round to one decimal place.",
            number(rnd(spend * 2 / prices[b], 1), 1),
            "unit_quantity",
        ),
        Q(
            f"What do {WORDS[3]} {names} of {goods[c]} cost?",
            money(3 * prices[c], sym, comma=comma),
            "product",
        ),
        Q(
            f"What's the most expensive thing per {'kilo' if unit == 'kg' else 'pound'} on the board?",
            [shown[top]],
            "extreme",
        ),
        Q(
            f"How much {'are the' if goods[a].endswith('s') else 'is the'} {goods[a]} per {unit}?",
            money(prices[a], sym, comma=comma),
            "lookup",
        ),
    ]
    return Doc(f"price_board_market_{n + 1:02d}.jpg", "price_board", im, qs)


# ---------------------------------------------------------------------------------------------
# Sale tags

TAG_ITEMS = [
    "Rain jacket",
    "Desk lamp",
    "Running shoes",
    "Wool scarf",
    "Coffee maker",
    "Backpack",
    "Blender",
    "Denim jeans",
    "Table lamp",
    "Hiking boots",
]


def sale_tag(n: int, rng: random.Random) -> Doc:
    sym = ["$", "£", "€", "$", "£", "$", "€", "$", "£", "€"][n]
    item = TAG_ITEMS[n]
    pct = rng.choice([10, 15, 20, 25, 30, 40, 50])
    while True:
        orig: float = rng.choice([20, 24, 40, 48, 60, 80, 120, 36, 45, 59.6, 89.8, 129.5])
        sale = round(orig * (100 - pct) / 100, 2)
        if abs(sale * 100 - orig * (100 - pct)) < 1e-6:
            break
        pct = rng.choice([10, 15, 20, 25, 30, 40, 50])
    mode = n % 3  # 0: % + original printed, 1: % + sale printed, 2: was/now printed
    w, h = 520, 640
    red = (200, 30, 35)
    im, dr = page(w, h, rng, (255, 255, 255) if n % 2 else (255, 236, 90))
    dr.ellipse([w / 2 - 16, 20, w / 2 + 16, 52], outline=(80, 80, 80), width=4)
    fb = font("DejaVuSans-Bold", 96)
    fm = font("DejaVuSansCondensed-Bold", 40)
    f = font("DejaVuSans", 30)
    y = 80
    dr.text(((w - text_w(dr, item.upper(), fm)) / 2, y), item.upper(), font=fm, fill=(20, 20, 20))
    y += 70
    shown_pct = mode in (0, 1)
    if shown_pct:
        s = f"{pct}% OFF"
        dr.text(((w - text_w(dr, s, fb)) / 2, y), s, font=fb, fill=red)
        y += 140
    if mode == 0:
        s = f"Was {show(orig, sym)}"
        dr.text(((w - text_w(dr, s, fm)) / 2, y), s, font=fm, fill=(20, 20, 20))
        y += 70
        s2 = "Price shown before discount"
        dr.text(((w - text_w(dr, s2, f)) / 2, y), s2, font=f, fill=(60, 60, 60))
    elif mode == 1:
        s = f"NOW {show(sale, sym)}"
        dr.text(((w - text_w(dr, s, fm)) / 2, y), s, font=fm, fill=(20, 20, 20))
        y += 70
        s2 = "Sale price, discount applied"
        dr.text(((w - text_w(dr, s2, f)) / 2, y), s2, font=f, fill=(60, 60, 60))
    else:
        s = f"WAS {show(orig, sym)}"
        dr.text(((w - text_w(dr, s, fm)) / 2, y), s, font=fm, fill=(60, 60, 60))
        tw = text_w(dr, s, fm)
        dr.line([((w - tw) / 2, y + 26), ((w + tw) / 2, y + 26)], fill=red, width=4)
        y += 80
        s = f"NOW {show(sale, sym)}"
        fnow = next(
            fn
            for fn in (
                fb,
                font("DejaVuSansCondensed-Bold", 80),
                font("DejaVuSansCondensed-Bold", 64),
                fm,
            )
            if text_w(dr, s, fn) < w - 30
        )
        dr.text(((w - text_w(dr, s, fnow)) / 2, y), s, font=fnow, fill=red)
        y += 130
    im = im.crop((0, 0, w, max(y + 90, 420)))

    qs: list[Q] = []
    plural = item.endswith("s")
    does, is_ = ("do", "are") if plural else ("does", "is")
    if mode == 0:
        qs += [
            Q(
                f"What {does} the {item.lower()} cost after the discount?",
                money(sale, sym),
                "discount",
            ),
            Q(f"How much do I save on the {item.lower()}?", money(orig - sale, sym), "difference"),
            Q(
                f"What's the price of {WORDS[2]} of these {item.lower()}s at the sale price?"
                if not item.endswith("s")
                else "What do two pairs cost at the sale price?",
                money(2 * sale, sym),
                "product",
            ),
            Q("What was the price before the discount?", money(orig, sym), "read_field"),
        ]
    elif mode == 1:
        qs += [
            Q(
                f"What was the original price of the {item.lower()}?"
                if not plural
                else f"What did the {item.lower()} cost before the sale?",
                money(orig, sym),
                "discount",
            ),
            Q("How much is taken off the original price?", money(orig - sale, sym), "difference"),
            Q("What's the sale price on the tag?", money(sale, sym), "read_field"),
        ]
    else:
        qs += [
            Q("What percentage off is this?", number(pct, unit="%"), "percentage"),
            Q(
                f"How much cheaper {is_} the {item.lower()} now?",
                money(orig - sale, sym),
                "difference",
            ),
            Q("What's the new price?", money(sale, sym), "read_field"),
        ]
    return Doc(f"sale_tag_{n + 1:02d}.jpg", "sale_tag", im, qs)


# ---------------------------------------------------------------------------------------------
# Tables


def draw_table(
    header: list[str],
    rows: list[list[str]],
    rng: random.Random,
    ruled: bool,
    title: str,
    size: int = 26,
    paper: tuple[int, int, int] | None = None,
) -> Image.Image:
    f = font("DejaVuSans", size)
    fh = font("DejaVuSans-Bold", size)
    ft = font("DejaVuSerif-Bold", size + 8)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [
        max(text_w(probe, c, fh), *(text_w(probe, r[i], f) for r in rows)) + 40
        for i, c in enumerate(header)
    ]
    rh = size + 22
    w = sum(widths) + 60
    h = 100 + rh * (len(rows) + 1) + 40
    im, dr = page(w, h, rng, paper)
    dr.text((30, 24), title, font=ft, fill=INK[0])
    x0, y0 = 30, 90
    band = rng.random() < 0.5
    for r in range(len(rows) + 1):
        y = y0 + r * rh
        if r == 0 and not ruled:
            pass
        if band and r % 2 == 0 and r > 0 and not ruled:
            dr.rectangle([x0, y, x0 + sum(widths), y + rh], fill=(232, 236, 242))
        cells = header if r == 0 else rows[r - 1]
        x = x0
        for i, c in enumerate(cells):
            fnt = fh if r == 0 else f
            if i == 0:
                dr.text((x + 14, y + 10), c, font=fnt, fill=INK[0])
            else:
                dr.text((x + widths[i] - 14 - text_w(dr, c, fnt), y + 10), c, font=fnt, fill=INK[0])
            x += widths[i]
    if ruled:
        for r in range(len(rows) + 2):
            dr.line([(x0, y0 + r * rh), (x0 + sum(widths), y0 + r * rh)], fill=INK[0], width=2)
        x = x0
        for wd in [0, *widths]:
            x += wd
            dr.line([(x, y0), (x, y0 + (len(rows) + 1) * rh)], fill=INK[0], width=2)
    else:
        dr.line([(x0, y0 + rh), (x0 + sum(widths), y0 + rh)], fill=INK[0], width=3)
    return im


VEHICLES = ["Van", "Pickup", "Sedan", "Box truck", "SUV", "Minibus", "Hatchback", "Flatbed"]


def fuel_table(n: int, rng: random.Random) -> Doc:
    names = rng.sample(VEHICLES, rng.randint(5, 6))
    while True:
        gallons = [rng.randint(80, 260) / 10 for _ in names]
        ppg = [rng.randint(319, 419) / 100 for _ in names]
        if len(set(ppg)) == len(ppg) and len(set(gallons)) == len(gallons):
            break
    totals = [round(g * p, 2) for g, p in zip(gallons, ppg, strict=True)]
    rows = [
        [v, f"{g:.1f}", f"${p:.2f}", f"${t:.2f}"]
        for v, g, p, t in zip(names, gallons, ppg, totals, strict=True)
    ]
    im = draw_table(
        ["Vehicle", "Gallons", "Price/gal", "Total"],
        rows,
        rng,
        ruled=n % 2 == 0,
        title=f"Fleet fuel log - week {rng.randint(2, 51)}",
    )
    cheapest = min(range(len(names)), key=lambda i: ppg[i])
    most = max(range(len(names)), key=lambda i: gallons[i])
    threshold = int(sorted(gallons)[len(gallons) // 2])
    a = rng.randrange(len(names))
    avg_rest = sum(totals[1:]) / (len(totals) - 1)
    qs = [
        Q(
            "What's the average total, excluding the first row? Round to the nearest cent.",
            money(rnd(avg_rest, 2), "$"),
            "average",
        ),
        Q("Which vehicle has the lowest price per gallon?", [names[cheapest]], "extreme"),
        Q(f"How many gallons did the {names[a]} take?", number(gallons[a], 1), "lookup"),
        Q("How many gallons were bought altogether?", number(round(sum(gallons), 1), 1), "sum"),
        Q(
            f"How many vehicles took more than {threshold} gallons?",
            number(sum(g > threshold for g in gallons)),
            "count",
        ),
        Q("Which vehicle used the most fuel?", [names[most]], "extreme"),
        Q(
            f"What was the price per gallon for the {names[(a + 1) % len(names)]}?",
            money(ppg[(a + 1) % len(names)], "$"),
            "lookup",
        ),
        Q(
            "What's the average price per gallon over all the rows? Round to the nearest cent.",
            money(rnd(sum(ppg) / len(ppg), 2), "$"),
            "average",
        ),
    ]
    return Doc(f"table_fuel_log_{n + 1:02d}.jpg", "table", im, qs)


SERIES = [
    ("Imports", "Exports", "Trade (million $)"), ("Morning", "Evening", "Yoga classes held"),
    ("Team A", "Team B", "Goals per season"), ("North", "South", "Rainfall (mm)"),
    ("Cars", "Bikes", "Vehicles counted on Main St (hundreds)"), ("Men", "Women", "Marathon finishers (hundreds)"),
]  # fmt: skip


def series_values(
    rng: random.Random, years: list[int], lo: int, hi: int
) -> tuple[list[int], list[int], int]:
    """Two series that are equal in exactly one year, differ elsewhere, each with a unique max and min."""
    while True:
        a = [rng.randint(lo, hi) for _ in years]
        b = [rng.randint(lo, hi) for _ in years]
        eq = rng.randrange(1, len(years) - 1)
        b[eq] = a[eq]
        same = [i for i in range(len(years)) if a[i] == b[i]]
        if same == [eq] and len(set(a)) == len(a) and len(set(b)) == len(b):
            return a, b, eq


def years_table(n: int, rng: random.Random) -> Doc:
    sa, sb, title = SERIES[n]
    start = rng.choice([2012, 2014, 2015, 2016])
    years = list(range(start, start + rng.randint(6, 7)))
    a, b, eq = series_values(rng, years, 20, 95)
    rows = [[str(y), str(x), str(z)] for y, x, z in zip(years, a, b, strict=True)]
    im = draw_table(["Year", sa, sb], rows, rng, ruled=n % 2 == 1, title=title, size=28)
    top_b = years[max(range(len(years)), key=lambda i: b[i])]
    low_a = years[min(range(len(years)), key=lambda i: a[i])]
    if not any(x > z for x, z in zip(a, b, strict=True)):
        a, b = b, a
    y1 = rng.choice([i for i in range(len(years)) if a[i] > b[i]])
    gaps = [abs(x - z) for x, z in zip(a, b, strict=True)]
    widest = max(range(len(years)), key=lambda i: gaps[i])
    unique_gap = gaps.count(gaps[widest]) == 1
    above = sum(x > z for x, z in zip(a, b, strict=True))
    k = rng.randrange(len(years))
    qs = [
        Q(
            f"In which year were the {sa} and {sb} figures equal?",
            [str(years[eq])],
            "series_compare",
        ),
        Q(f"Which year had the highest {sb} figure?", [str(top_b)], "extreme"),
        Q(f"In which year was {sa} at its lowest?", [str(low_a)], "extreme"),
        Q(f"What was the {sa} figure in {years[k]}?", number(a[k]), "lookup"),
        Q(f"By how much was {sa} above {sb} in {years[y1]}?", number(a[y1] - b[y1]), "difference"),
        Q(f"In how many years was {sa} higher than {sb}?", number(above), "series_compare"),
        Q(f"What's the total of the {sb} column?", number(sum(b)), "sum"),
        Q(
            f"What's the average of the {sa} column, excluding the first row? Round to one decimal place.",
            number(rnd(sum(a[1:]) / (len(a) - 1), 1), 1),
            "average",
        ),
    ]
    if unique_gap:
        qs.append(
            Q(
                f"In which year was the gap between {sa} and {sb} the largest?",
                [str(years[widest])],
                "series_compare",
            )
        )
    return Doc(f"table_years_{n + 1:02d}.jpg", "table", im, qs)


REGIONS = ["North", "South", "East", "West", "Central"]


def quarter_table(n: int, rng: random.Random) -> Doc:
    regions = rng.sample(REGIONS, 4)
    qs_ = ["Q1", "Q2", "Q3", "Q4"]
    while True:
        vals = [[rng.randint(12, 98) * 10 for _ in qs_] for _ in regions]
        totals = [sum(r) for r in vals]
        if len(set(totals)) == 4 and len({v for r in vals for v in r}) == 16:
            break
    sep = n % 2 == 0
    rows = [
        [r, *[f"{v:,}" if sep else str(v) for v in row]]
        for r, row in zip(regions, vals, strict=True)
    ]
    im = draw_table(
        ["Region", *qs_],
        rows,
        rng,
        ruled=n % 2 == 0,
        title=["Unit sales by quarter", "Boxes shipped, 2024"][n],
        size=26,
    )
    i, j = rng.sample(range(4), 2)
    c = rng.randrange(4)
    best = max(range(4), key=lambda r: totals[r])
    col = [vals[r][c] for r in range(4)]
    above = sum(v > 500 for row in vals for v in row)
    qs = [
        Q(f"What's the {regions[i]} figure for {qs_[c]}?", number(vals[i][c]), "lookup"),
        Q(f"What's the total for {regions[j]} across all four quarters?", number(totals[j]), "sum"),
        Q("Which region has the highest total for the year?", [regions[best]], "extreme"),
        Q("How many cells in the table are above 500?", number(above), "count"),
        Q(
            f"What is the average for {qs_[c]} across the regions? Round to one decimal place.",
            number(rnd(sum(col) / 4, 1), 1),
            "average",
        ),
        Q(
            f"What share of {regions[j]}'s yearly total came in {qs_[3]}? Round to a whole percent.",
            number(rnd(100 * vals[j][3] / totals[j], 0), unit="%"),
            "percentage",
        ),
        Q(
            f"How much higher was {regions[i]} in Q4 than in Q1?"
            if vals[i][3] > vals[i][0]
            else f"How much lower was {regions[i]} in Q4 than in Q1?",
            number(abs(vals[i][3] - vals[i][0])),
            "difference",
        ),
    ]
    return Doc(f"table_quarters_{n + 1:02d}.jpg", "table", im, qs)


# ---------------------------------------------------------------------------------------------
# Forms and labels


def nutrition(n: int, rng: random.Random) -> Doc:
    cal = rng.randint(12, 45) * 10 + rng.choice([0, 5])
    fat = rng.randint(2, 22)
    sodium = rng.randint(8, 80) * 10
    carbs = rng.randint(10, 60)
    protein = rng.randint(2, 30)
    sugars = rng.randint(1, min(carbs, 25))
    servings = rng.randint(2, 8)
    dv = {
        "fat": round(fat / 78 * 100),
        "sodium": round(sodium / 2300 * 100),
        "carbs": round(carbs / 275 * 100),
    }
    w, h = 520, 720
    im, dr = page(w, h, rng, (255, 255, 255))
    fb = font("DejaVuSans-Bold", 44)
    f = font("DejaVuSans", 24)
    fbs = font("DejaVuSans-Bold", 24)
    x0, y = 24, 20
    dr.text((x0, y), "Nutrition Facts", font=fb, fill=(0, 0, 0))
    y += 64
    dr.text((x0, y), f"{servings} servings per container", font=f, fill=(0, 0, 0))
    y += 34
    dr.text((x0, y), "Serving size", font=fbs, fill=(0, 0, 0))
    ss = rng.choice(["1 cup (228g)", "2/3 cup (55g)", "1 bar (40g)", "1 pack (85g)"])
    dr.text((w - x0 - text_w(dr, ss, fbs), y), ss, font=fbs, fill=(0, 0, 0))
    y += 40
    dr.rectangle([x0, y, w - x0, y + 10], fill=(0, 0, 0))
    y += 20
    dr.text((x0, y), "Calories", font=font("DejaVuSans-Bold", 36), fill=(0, 0, 0))
    dr.text(
        (w - x0 - text_w(dr, str(cal), font("DejaVuSans-Bold", 44)), y - 6),
        str(cal),
        font=font("DejaVuSans-Bold", 44),
        fill=(0, 0, 0),
    )
    y += 60
    dr.rectangle([x0, y, w - x0, y + 5], fill=(0, 0, 0))
    y += 12
    dr.text(
        (w - x0 - text_w(dr, "% Daily Value*", fbs), y), "% Daily Value*", font=fbs, fill=(0, 0, 0)
    )
    y += 36
    rows = [
        ("Total Fat", f"{fat}g", f"{dv['fat']}%"),
        ("Sodium", f"{sodium}mg", f"{dv['sodium']}%"),
        ("Total Carbohydrate", f"{carbs}g", f"{dv['carbs']}%"),
        ("  Total Sugars", f"{sugars}g", ""),
        ("Protein", f"{protein}g", ""),
    ]
    for label, amt, pct in rows:
        dr.line([(x0, y - 4), (w - x0, y - 4)], fill=(0, 0, 0), width=1)
        dr.text((x0, y), label, font=fbs if not label.startswith(" ") else f, fill=(0, 0, 0))
        dr.text((x0 + text_w(dr, label, fbs) + 10, y), amt, font=f, fill=(0, 0, 0))
        if pct:
            dr.text((w - x0 - text_w(dr, pct, fbs), y), pct, font=fbs, fill=(0, 0, 0))
        y += 42
    im = im.crop((0, 0, w, y + 30))
    draw2 = ImageDraw.Draw(im)
    draw2.rectangle([12, 12, w - 12, y + 18], outline=(0, 0, 0), width=3)
    qs = [
        Q("How many calories are in one serving?", number(cal), "read_field"),
        Q(f"How many calories would I get from {WORDS[3]} servings?", number(3 * cal), "product"),
        Q("How many calories are in the whole container?", number(servings * cal), "product"),
        Q("What's the sodium's % daily value?", number(dv["sodium"], unit="%"), "lookup"),
        Q(
            "How many grams of carbohydrate are not sugars?",
            number(carbs - sugars, unit="g"),
            "difference",
        ),
        Q("What is the serving size?", [ss, ss.split(" (")[0]], "read_field", "ocr"),
        Q(
            "How many grams of fat, carbohydrate and protein are there in total per serving?",
            number(fat + carbs + protein, unit="g"),
            "sum",
        ),
    ]
    return Doc(f"form_nutrition_{n + 1:02d}.jpg", "form", im, qs)


def income_form(n: int, rng: random.Random) -> Doc:
    sym = ["$", "£", "$"][n]
    while True:
        salary = rng.randint(30, 90) * 1000
        bonus = rng.randint(1, 12) * 500
        interest = rng.randint(2, 40) * 50
        rental = rng.choice([0, 6000, 7200, 9600, 12000])
        total = salary + bonus + interest + rental
        if rnd(100 * salary / total, 1) is not None:
            break
    labels = [
        ("Salary", salary),
        ("Bonus", bonus),
        ("Interest income", interest),
        ("Rental income", rental),
    ]
    w = 760
    im, dr = page(w, 560, rng, (248, 248, 244))
    ft = font("DejaVuSerif-Bold", 32)
    f = font("DejaVuSerif", 26)
    fb = font("DejaVuSerif-Bold", 26)
    year = rng.choice([2023, 2024])
    name = rng.choice(["J. Alvarez", "M. Okafor", "S. Lindqvist", "R. Patel"])
    dr.text((30, 24), f"Household income summary {year}", font=ft, fill=INK[0])
    dr.text((30, 76), f"Name: {name}", font=f, fill=INK[0])
    dr.text((430, 76), f"Form No. {rng.randint(1000, 9999)}-{chr(65 + n)}", font=f, fill=INK[0])
    y = 140
    for label, v in [*labels, ("Total income", total)]:
        bold = label == "Total income"
        if bold:
            dr.line([(30, y - 6), (w - 30, y - 6)], fill=INK[0], width=3)
        dr.text((40, y), label, font=fb if bold else f, fill=INK[0])
        s = show(v, sym)
        dr.rectangle([w - 290, y - 4, w - 40, y + 36], outline=(120, 120, 120), width=1)
        dr.text(
            (w - 50 - text_w(dr, s, fb if bold else f), y), s, font=fb if bold else f, fill=INK[0]
        )
        y += 58
    im = im.crop((0, 0, w, y + 20))
    qs = [
        Q(
            "What percentage does salary contribute to total income? Round to one decimal place.",
            number(rnd(100 * salary / total, 1), 1, "%"),
            "percentage",
        ),
        Q(
            "What's the total income on the form?",
            [*(money(total, sym, 2) or []), str(total), f"{total:,}"],
            "read_field",
        ),
        Q(
            "How much are salary and bonus together?",
            [*(money(salary + bonus, sym) or []), str(salary + bonus)],
            "sum",
        ),
        Q(
            "How much more is the salary than the bonus?",
            [*(money(salary - bonus, sym) or []), str(salary - bonus)],
            "difference",
        ),
        Q("Whose name is on the form?", [name], "read_field", "ocr"),
        Q(
            "Which source of income is the smallest?",
            [min(((v, k) for k, v in labels if v > 0))[1]],
            "extreme",
        ),
    ]
    return Doc(f"form_income_{n + 1:02d}.jpg", "form", im, qs)


def invoice_form(n: int, rng: random.Random) -> Doc:
    sym = ["€", "$"][n]
    number_ = f"INV-{rng.randint(10000, 99999)}"
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), 2025
    issued = f"{d:02d}/{m:02d}/{y}"
    due = (
        f"{min(d + 14, 28):02d}/{m:02d}/{y}"
        if d + 14 <= 28
        else f"{(d + 14) - 28:02d}/{m % 12 + 1:02d}/{y + (m == 12)}"
    )
    hours = rng.randint(6, 30)
    rate = rng.choice([45, 55, 60, 75, 80])
    amount = hours * rate
    w = 760
    im, dr = page(w, 560, rng, (255, 255, 255))
    ft = font("DejaVuSans-Bold", 40)
    f = font("DejaVuSans", 26)
    fb = font("DejaVuSans-Bold", 26)
    dr.text((30, 24), "INVOICE", font=ft, fill=(30, 60, 120))
    client = rng.choice(["Northwind Ltd", "Blue Harbor GmbH", "Acme Studio", "Kite & Co"])
    fields = [
        ("Invoice No.", number_),
        ("Date", issued),
        ("Due date", due),
        ("Bill to", client),
        ("Hours", str(hours)),
        ("Rate per hour", show(rate, sym, 2)),
        ("Amount due", show(amount, sym, 2)),
    ]
    y = 100
    for k, v in fields:
        dr.text((40, y), k + ":", font=fb, fill=INK[0])
        dr.text((330, y), v, font=f, fill=INK[0])
        dr.line([(320, y + 34), (w - 40, y + 34)], fill=(170, 170, 170), width=1)
        y += 54
    im = im.crop((0, 0, w, y + 20))
    qs = [
        Q("What's the invoice number?", [number_], "read_field", "ocr"),
        Q("When is the invoice due?", [due], "read_field", "ocr"),
        Q("What's the amount due?", money(amount, sym), "read_field"),
        Q("Who is the invoice addressed to?", [client], "read_field", "ocr"),
        Q(
            f"What would {hours + 5} hours cost at the same rate?",
            money((hours + 5) * rate, sym),
            "product",
        ),
    ]
    return Doc(f"form_invoice_{n + 1:02d}.jpg", "form", im, qs)


# ---------------------------------------------------------------------------------------------
# Charts with printed values


def bar_chart(n: int, rng: random.Random) -> Doc:
    subjects = [
        ("Sales (units)", 40, 120, "sales", "were", "Which year had the highest sales?"),
        ("Visitors (thousands)", 12, 60, "visitors", "were", "Which year had the most visitors?"),
        ("Revenue (£m)", 5, 45, "revenue", "was", "In which year was revenue highest?"),
        ("Members", 100, 400, "members", "were", "Which year had the most members?"),
    ]
    title, lo, hi, what, be, most_q = subjects[n]
    start = rng.choice([2015, 2016, 2017, 2018])
    years = list(range(start, start + rng.randint(5, 7)))
    while True:
        vals = [rng.randint(lo, hi) for _ in years]
        if len(set(vals)) == len(vals):
            break
    w, h = 820, 560
    im, dr = page(w, h, rng, (255, 255, 255))
    ft = font("DejaVuSans-Bold", 30)
    f = font("DejaVuSans", 22)
    fv = font("DejaVuSans-Bold", 22)
    dr.text((40, 20), title + " by year", font=ft, fill=(20, 20, 20))
    x0, y0, x1, y1 = 70, 90, w - 40, h - 70
    dr.line([(x0, y1), (x1, y1)], fill=(40, 40, 40), width=2)
    dr.line([(x0, y0), (x0, y1)], fill=(40, 40, 40), width=2)
    bw = (x1 - x0) / len(years)
    top = max(vals) * 1.15
    color = rng.choice([(60, 110, 180), (200, 90, 40), (70, 150, 90), (120, 80, 160)])
    for i, (yr, v) in enumerate(zip(years, vals, strict=True)):
        bx = x0 + i * bw + bw * 0.18
        by = y1 - (y1 - y0) * v / top
        dr.rectangle([bx, by, bx + bw * 0.64, y1], fill=color)
        s = str(v)
        dr.text((bx + bw * 0.32 - text_w(dr, s, fv) / 2, by - 30), s, font=fv, fill=(20, 20, 20))
        dr.text(
            (bx + bw * 0.32 - text_w(dr, str(yr), f) / 2, y1 + 10),
            str(yr),
            font=f,
            fill=(20, 20, 20),
        )
    i, j = sorted(rng.sample(range(len(years)), 2))
    fewest = {"sales": "lowest", "visitors": "lowest", "revenue": "lowest", "members": "lowest"}[
        what
    ]
    went = "rise" if vals[j] > vals[i] else "fall"
    threshold = sorted(vals)[len(vals) // 2]
    qs = [
        Q(most_q, [str(years[vals.index(max(vals))])], "extreme"),
        Q(f"In which year {be} {what} {fewest}?", [str(years[vals.index(min(vals))])], "extreme"),
        Q(
            f"What is the difference in {what} between {years[i]} and {years[j]}?",
            number(abs(vals[j] - vals[i])),
            "difference",
        ),
        Q(f"What are the total {what} over all the years shown?", number(sum(vals)), "sum"),
        Q(
            f"What's the average {what} per year? Round to one decimal place.",
            number(rnd(sum(vals) / len(vals), 1), 1),
            "average",
        ),
        Q(
            f"In how many years {be} {what} above {threshold}?",
            number(sum(v > threshold for v in vals)),
            "count",
        ),
        Q(f"What {be} {what} in {years[j]}?", number(vals[j]), "lookup"),
        Q(
            f"By what percentage did {what} {went} from {years[i]} to {years[j]}? Round to a whole percent.",
            number(rnd(abs(vals[j] - vals[i]) / vals[i] * 100, 0), unit="%"),
            "percentage",
        ),
    ]
    return Doc(f"chart_bar_{n + 1:02d}.jpg", "chart", im, qs)


def line_chart(n: int, rng: random.Random) -> Doc:
    sa, sb, title = [
        ("Product A", "Product B", "Monthly orders"),
        ("Tokyo", "Paris", "Average high (°C)"),
        ("Online", "In store", "Sales share (%)"),
        ("Bus", "Train", "Commuters (thousands)"),
    ][n]
    if n == 1 or n == 2:
        labels = (
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul"][: rng.randint(6, 7)]
            if n == 1
            else [str(y) for y in range(2017, 2024)]
        )
    else:
        labels = [str(y) for y in range(rng.choice([2010, 2012, 2014]), 2020 + rng.randint(0, 2))][
            :7
        ]
    if n == 2:
        a = rng.sample([v for v in range(25, 76) if v != 50], len(labels))
        eq = rng.randrange(1, len(a) - 1)
        a[eq] = 50
        b = [100 - x for x in a]
    else:
        a, b, eq = series_values(
            rng, list(range(len(labels))), 10 if n != 1 else 8, 60 if n != 1 else 32
        )
    w, h = 880, 600
    im, dr = page(w, h, rng, (255, 255, 255))
    ft = font("DejaVuSans-Bold", 28)
    f = font("DejaVuSans", 20)
    fv = font("DejaVuSansCondensed-Bold", 20)
    dr.text((40, 18), title, font=ft, fill=(20, 20, 20))
    x0, y0, x1, y1 = 70, 110, w - 50, h - 60
    dr.line([(x0, y1), (x1, y1)], fill=(40, 40, 40), width=2)
    lo, hi = min(a + b) * 0.8, max(a + b) * 1.12
    ca, cb = (40, 90, 190), (210, 70, 40)
    pts: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    for i, lab in enumerate(labels):
        x = x0 + 30 + i * (x1 - x0 - 60) / (len(labels) - 1)
        dr.text((x - text_w(dr, lab, f) / 2, y1 + 10), lab, font=f, fill=(20, 20, 20))
        for key, vals in (("a", a), ("b", b)):
            pts[key].append((x, y1 - (y1 - y0) * (vals[i] - lo) / (hi - lo)))
    for key, col in (("a", ca), ("b", cb)):
        dr.line(pts[key], fill=col, width=4)
    for i in range(len(labels)):
        for key, col, vals in (("a", ca, a), ("b", cb, b)):
            x, y = pts[key][i]
            dr.ellipse([x - 6, y - 6, x + 6, y + 6], fill=col)
            other = b[i] if key == "a" else a[i]
            if a[i] == b[i] and key == "b":
                continue
            above = vals[i] >= other
            s = str(vals[i])
            dr.text((x - text_w(dr, s, fv) / 2, y - 32 if above else y + 10), s, font=fv, fill=col)
    lx = x1 - 260
    for k, (name, col) in enumerate(((sa, ca), (sb, cb))):
        dr.rectangle([lx + k * 140, 66, lx + k * 140 + 22, 80], fill=col)
        dr.text((lx + k * 140 + 30, 62), name, font=f, fill=(20, 20, 20))
    top_a = labels[a.index(max(a))]
    i, j = sorted(rng.sample(range(len(labels)), 2))
    k = rng.choice([x for x in range(len(labels)) if a[x] != b[x]])
    unit_word = "month" if n == 1 else "year"
    qs = [
        Q(f"In which {unit_word} were {sa} and {sb} equal?", [labels[eq]], "series_compare"),
        Q(f"Which {unit_word} had the highest value for {sa}?", [top_a], "extreme"),
        Q(
            f"What's the difference between {sa} and {sb} in {labels[k]}?",
            number(abs(a[k] - b[k])),
            "difference",
        ),
        Q(
            f"In how many {unit_word}s was {sb} above {sa}?",
            number(sum(y > x for x, y in zip(a, b, strict=True))),
            "series_compare",
        ),
        Q(f"What was the value for {sb} in {labels[j]}?", number(b[j]), "lookup"),
        Q(
            f"What's the average of {sa} over the {unit_word}s shown? Round to one decimal place.",
            number(rnd(sum(a) / len(a), 1), 1),
            "average",
        ),
    ]
    return Doc(f"chart_line_{n + 1:02d}.jpg", "chart", im, qs)


def share_chart(n: int, rng: random.Random) -> Doc:
    cats = [
        ["Housing", "Food", "Transport", "Savings", "Leisure"],
        ["Marketing", "Salaries", "Rent", "Software", "Travel"],
    ][n]
    sym = ["£", "$"][n]
    while True:
        vals = [rng.randint(2, 40) * 50 for _ in cats]
        total = sum(vals)
        if len(set(vals)) == len(vals):
            break
    w, h = 820, 120 + 80 * len(cats) + 40
    im, dr = page(w, h, rng, (255, 255, 255))
    ft = font("DejaVuSans-Bold", 28)
    f = font("DejaVuSans", 24)
    dr.text(
        (30, 24), ["Monthly budget", "Department spending, March"][n], font=ft, fill=(20, 20, 20)
    )
    x0 = 200
    scale = (w - x0 - 160) / max(vals)
    y = 100
    col = rng.choice([(60, 110, 180), (70, 150, 90)])
    for c, v in zip(cats, vals, strict=True):
        dr.text((30, y + 14), c, font=f, fill=(20, 20, 20))
        dr.rectangle([x0, y + 8, x0 + v * scale, y + 52], fill=col)
        dr.text((x0 + v * scale + 10, y + 14), show(v, sym, 0), font=f, fill=(20, 20, 20))
        y += 80
    i = rng.randrange(len(cats))
    top = cats[vals.index(max(vals))]
    low = cats[vals.index(min(vals))]
    qs = [
        Q(
            f"What share of the total goes to {cats[i].lower()}? Round to a whole percent.",
            number(rnd(100 * vals[i] / total, 0), unit="%"),
            "percentage",
        ),
        Q("Which category is the largest?", [top], "extreme"),
        Q("What's the smallest category?", [low], "extreme"),
        Q(
            "What's the total of all the categories?",
            [*(money(total, sym, 0) or []), f"{total:,}"],
            "sum",
        ),
        Q(
            f"How many categories are over {sym}1,000?",
            number(sum(v > 1000 for v in vals)),
            "count",
        ),
        Q(
            f"How much is spent on {cats[(i + 1) % len(cats)].lower()}?",
            money(vals[(i + 1) % len(cats)], sym, 0),
            "lookup",
        ),
    ]
    return Doc(f"chart_share_{n + 1:02d}.jpg", "chart", im, qs)


# ---------------------------------------------------------------------------------------------
# Whiteboards with equations


def linear(rng: random.Random) -> tuple[str, int]:
    """One linear equation in x with a non-negative whole answer, written as people write it."""
    x = rng.randint(1, 12)
    a = rng.randint(2, 9)
    b = rng.randint(1, 20)
    form = rng.randrange(5)
    if form == 0:
        return f"{a}x + {b} = {a * x + b}", x
    if form == 1 and a * x - b >= 0:
        return f"{a}x − {b} = {a * x - b}", x
    if form == 2:
        return f"{a}(x + {b % 6 + 1}) = {a * (x + b % 6 + 1)}", x
    if form == 3:
        c = rng.randint(1, a - 1) if a > 1 else 1
        return f"{a}x + {b} = {c}x + {(a - c) * x + b}", x
    return f"{a} × x + {b} = {a * x + b}", x


def system(rng: random.Random) -> tuple[list[str], int, int]:
    while True:
        x, y = rng.randint(1, 9), rng.randint(1, 9)
        a1, b1, a2, b2 = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
        sign = rng.choice([1, -1])
        c1 = a1 * x + b1 * y
        c2 = a2 * x + sign * b2 * y
        if c2 < 0:
            continue

        def term(a: int, v: str) -> str:
            return f"{a}{v}" if a != 1 else v

        e1 = f"{term(a1, 'x')} + {term(b1, 'y')} = {c1}"
        e2 = f"{term(a2, 'x')} {'+' if sign > 0 else '−'} {term(b2, 'y')} = {c2}"
        if a1 * sign * b2 - a2 * b1 == 0:
            continue
        return [e1, e2], x, y


def whiteboard(n: int, rng: random.Random) -> Doc:
    w, h = 900, 560
    im, dr = page(w, h, rng, (238, 241, 243))
    marker = rng.choice([(20, 40, 140), (25, 25, 25), (30, 110, 60)])
    fnt = font(
        rng.choice(["DejaVuSans-Oblique", "DejaVuSerif-Italic", "DejaVuSansCondensed-Oblique"]), 50
    )
    qs: list[Q] = []
    lines: list[str] = []
    if n % 3 == 2:
        eqs, x, y = system(rng)
        lines = ["Solve:", *eqs]
        qs += [
            Q("What is x in this system of equations?", number(x), "equation"),
            Q("Solve the system on the board. What is y?", number(y), "equation"),
        ]
    else:
        e1, x1 = linear(rng)
        e2, x2 = linear(rng)
        sq = rng.randint(2, 9)
        use_sq = n % 3 == 1
        if use_sq:
            e2 = f"x² + {sq} = {sq + x2 * x2}"
        lines = [f"1)  {e1}", f"2)  {e2}"]
        qs += [
            Q("What is x in the first equation?", number(x1), "equation"),
            Q(
                "Solve the second equation for x."
                + (" Give the positive answer." if use_sq else ""),
                number(x2),
                "equation",
            ),
        ]
    y = 70
    for line in lines:
        pen = 70.0
        for ch in line:
            dy = rng.uniform(-3, 3)
            dr.text((pen, y + dy), ch, font=fnt, fill=marker, stroke_width=1, stroke_fill=marker)
            pen += text_w(dr, ch, fnt) + (14 if ch == " " else rng.uniform(0, 3))
        y += 110
    # the faint top edge of the board
    dr.line([(40, 30), (w - 40, 34)], fill=(200, 205, 210), width=3)
    im = im.crop((0, 0, w, y + 40))
    return Doc(f"equation_whiteboard_{n + 1:02d}.jpg", "equation", im, qs, ask=2)


# ---------------------------------------------------------------------------------------------
# Signs with two font sizes

SIGNS = [
    (["CLOSED", "Back in 20 minutes"], (200, 30, 30), (255, 255, 255), None),
    (
        ["WET FLOOR", "Please use the side entrance", "until 3 pm"],
        (255, 210, 0),
        (20, 20, 20),
        None,
    ),
    (
        ["OPENING HOURS", "Mon-Fri 8:00 - 18:00", "Saturday 9:00 - 14:00", "Sunday closed"],
        (250, 250, 250),
        (20, 20, 20),
        ("What time does it close on Saturday?", ["14:00", "2 pm", "2:00 pm", "2pm"]),
    ),
    (
        ["PRIVATE PARKING", "Residents only", "Vehicles will be towed"],
        (20, 60, 140),
        (255, 255, 255),
        None,
    ),
    (["NO ENTRY", "Staff only beyond this point"], (255, 255, 255), (180, 20, 20), None),
    (
        ["LIBRARY", "Quiet study area", "Phones on silent please"],
        (30, 90, 60),
        (255, 255, 255),
        None,
    ),
    (
        ["PLATFORM 4", "Trains to Oxford and Reading", "Next train 14:52"],
        (10, 30, 80),
        (255, 220, 60),
        ("When is the next train?", ["14:52"]),
    ),
    (
        ["DELIVERIES", "Rear entrance only", "Ring bell for assistance"],
        (245, 245, 240),
        (30, 30, 30),
        None,
    ),
    (["SALE", "Everything must go", "Up to 50% off"], (210, 20, 30), (255, 255, 255), None),
    (["FIRE EXIT", "Keep clear at all times"], (0, 130, 70), (255, 255, 255), None),
]


def sign(n: int, rng: random.Random) -> Doc:
    lines, bg, ink, field_q = SIGNS[n]
    w = 900
    big = font(rng.choice(["DejaVuSans-Bold", "DejaVuSerif-Bold", "DejaVuSansCondensed-Bold"]), 86)
    small = font(rng.choice(["DejaVuSans", "DejaVuSansCondensed", "DejaVuSerif"]), 44)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    h = 80 + 120 + 70 * (len(lines) - 1) + 40
    im, dr = page(w, h, rng, bg)
    dr.rounded_rectangle([10, 10, w - 10, h - 10], radius=24, outline=ink, width=6)
    y = 50
    for k, line in enumerate(lines):
        fnt = big if k == 0 else small
        if text_w(probe, line, fnt) > w - 60:
            fnt = font("DejaVuSansCondensed", 38)
        dr.text(((w - text_w(dr, line, fnt)) / 2, y), line, font=fnt, fill=ink)
        y += 120 if k == 0 else 70
    qs = [
        Q(
            rng.choice(
                [
                    "What does the sign say?",
                    "What's written on this sign?",
                    "Read me the whole sign.",
                ]
            ),
            [" ".join(lines)],
            "read_all",
            "ocr",
        )
    ]
    qs.append(
        Q(
            "What does the big word at the top say?"
            if len(lines[0].split()) == 1
            else "What's the heading of the sign?",
            [lines[0]],
            "read_field",
            "ocr",
        )
    )
    if field_q:
        qs.append(Q(field_q[0], field_q[1], "read_field", "ocr"))
    return Doc(f"sign_{n + 1:02d}.jpg", "sign", im, qs, ask=2)


# ---------------------------------------------------------------------------------------------
# Real photographs (ATTRIBUTION.md)

REAL: list[tuple[str, str, list[Q]]] = [
    (
        "../images/sign_no_double_parking.jpg",
        "sign",
        [
            Q(
                "What does the sign on the pole say?",
                ["NOTICE DOUBLE PARKING PROHIBITED AT ALL TIMES"],
                "read_all",
                "ocr",
            ),
        ],
    ),
    (
        "../images/sign_sports_centre_directions.jpg",
        "sign",
        [
            Q(
                "What does the sign say?",
                ["Sports Centre Wivenhoe Park Conference Centre Car Parks"],
                "read_all",
                "ocr",
            ),
        ],
    ),
    (
        "images/page_region_segmentation.png",
        "page",
        [
            Q(
                "What's the heading on this page?",
                ["Region-based segmentation"],
                "read_field",
                "ocr",
            ),
            Q(
                "What line of code is printed at the bottom of the page?",
                [">>> markers = np.zeros_like(coins)", "markers = np.zeros_like(coins)"],
                "read_field",
                "ocr",
            ),
        ],
    ),
]
REAL_SOURCES = {"images/page_region_segmentation.png": "skimage/data/page.png"}


# ---------------------------------------------------------------------------------------------
# Assembly


def _rng(name: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{SEED}:{name}".encode()).hexdigest()[:16], 16))


BUILDERS: list[tuple[str, int, Callable[[int, random.Random], Doc]]] = [
    ("receipt", 11, receipt), ("menu", 6, menu), ("fuel", 8, fuel_board), ("stall", 5, stall_board),
    ("sale_tag", 10, sale_tag), ("fuel_table", 4, fuel_table), ("years_table", 6, years_table),
    ("quarter_table", 2, quarter_table), ("nutrition", 3, nutrition), ("income", 3, income_form),
    ("invoice", 2, invoice_form), ("bar", 4, bar_chart), ("line", 4, line_chart), ("share", 2, share_chart),
    ("whiteboard", 14, whiteboard), ("sign", 10, sign),
]  # fmt: skip


def choose(docs: list[Doc]) -> list[tuple[Doc, list[Q]]]:
    """Pick each image's questions: the candidates whose operation is rarest so far in its split."""
    counts = {s: Counter[str]() for s in ("dev", "test")}
    chosen = []
    for doc in docs:
        split = split_of(doc.name)
        picked: list[Q] = []
        pool = list(doc.questions)
        while pool and len(picked) < doc.ask:
            used = Counter(q.category for q in picked)
            best = min(
                pool, key=lambda q: (used[q.category], counts[split][q.category], pool.index(q))
            )
            pool.remove(best)
            picked.append(best)
            counts[split][best.category] += 1
        chosen.append((doc, picked))
    return chosen


def build(out: Path, copy_real: bool = True) -> list[dict[str, Any]]:
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    docs: list[Doc] = []
    for key, count, make in BUILDERS:
        for n in range(count):
            rng = _rng(f"{key}-{n}")
            doc = make(n, rng)
            doc.questions = [q for q in doc.questions if q.answer is not None]
            assert doc.page is not None
            photo = photograph(doc.page, rng, strength=rng.uniform(0.7, 1.15))
            (images / doc.name).write_bytes(jpeg_bytes(photo, rng))
            docs.append(doc)
    for image, kind, qs in REAL:
        docs.append(Doc(image, kind, None, qs, ask=len(qs)))
        if copy_real and image in REAL_SOURCES and not (out / image).exists():
            raise SystemExit(
                f"{out / image} is missing: copy it from scikit-image's {REAL_SOURCES[image]} (see ATTRIBUTION.md)"
            )
    items: list[dict[str, Any]] = []
    for doc, picked in choose(docs):
        image = doc.name if doc.name.startswith(("../", "images/")) else f"images/{doc.name}"
        for q in picked:
            assert q.answer is not None
            answers = [q.answer] if isinstance(q.answer, str) else list(dict.fromkeys(q.answer))
            answer: str | list[str] = answers if len(answers) > 1 else answers[0]
            items.append({
                "id": f"doc-{len(items) + 1:03d}", "image": image, "question": q.question, "answer": answer,
                "answer_type": q.answer_type, "category": q.category, "kind": doc.kind, "split": split_of(image),
            })  # fmt: skip
    (out / "questions.jsonl").write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
    )
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write images/ and questions.jsonl"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in a temporary folder and compare the questions",
    )
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(
                HERE / "images", Path(tmp) / "images", ignore=shutil.ignore_patterns("*.jpg")
            )
            items = build(Path(tmp))
            same = (Path(tmp) / "questions.jsonl").read_bytes() == (
                HERE / "questions.jsonl"
            ).read_bytes()
            print(f"{len(items)} questions; questions.jsonl {'matches' if same else 'DIFFERS'}")
            raise SystemExit(0 if same else 1)
    items = build(args.out)
    table = Counter((i["category"], i["split"]) for i in items)
    print(f"{len(items)} questions over {len({i['image'] for i in items})} images")
    for op in OPERATIONS:
        print(f"  {op:15s} dev {table[op, 'dev']:3d}  test {table[op, 'test']:3d}")


if __name__ == "__main__":
    main()
