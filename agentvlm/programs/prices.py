"""Prices read from OCR lines: each number paired with its label from the lines' geometry.

Menus, receipts and price boards put a label and its number on one row (leaders, a price
column, or one merged OCR line), in a table cell under a column header, or under the label
on a board. ``priced_items`` reads those layouts from ``Evidence`` boxes, with a photo's
tilt taken from the OCR quads, and leaves out numbers that are not prices: dates, times,
phone numbers, years, counts and ids.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel

from agentvlm.types import Box, Evidence

__all__ = ["PricedItem", "Row", "amount", "non_value_spans", "priced_items", "text_rows"]


class PricedItem(BaseModel):
    """One label paired with the number on its row, under it, or in its table cell.

    ``value`` is a ``Decimal``: prices are exact decimals, so 2 x 3.20 + 1.70 is 8.10 (not
    8.100000000000001), and the decimals as read ("3.20", "12") carry into the answer.

    Example:
        >>> PricedItem(label="Latte", value=Decimal("3.20"), unit="$", evidence=["ocr1", "ocr2"]).value * 2
        Decimal('6.40')
    """

    label: str
    value: Decimal
    unit: str
    evidence: list[str]


# --- numbers in OCR lines --------------------------------------------------------------------

_CUR = r"[$€£¥₹]|\bkr\b\.?|\b(?:sek|nok|dkk|eur|usd|gbp|chf)\b"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?"  # 1,250.00 | 3.20 | 3,20 | 12
_PRICE = re.compile(
    rf"(?:(?P<pre>{_CUR})\s?)?(?P<num>{_NUM})(?:\s?(?P<post>{_CUR}|%))?", re.IGNORECASE
)
_UNITS = {"eur": "€", "usd": "$", "gbp": "£", "sek": "kr", "nok": "kr", "dkk": "kr", "kr.": "kr"}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
)
_NOT_VALUE = re.compile(  # dates, times, and whatever follows "Tel": never prices
    rf"\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*[ap]\.?m\b\.?)?"
    rf"|\b\d{{1,2}}(?:[.:]\d{{2}})?\s*[ap]\.?m\b\.?|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?(?:\s+\d{{2,4}})?"
    rf"|\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?|\b(?:tel|phone|fax|call|mob|mobile)\b.*",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\d.,])(?:\+\d{1,3}[\s-]?)?(?:\(\d{1,5}\)[\s-]?)?\d{2,5}(?:[\s-]\d{2,5}){1,4}(?![\d.,])"
)
_MEASURE_AFTER = re.compile(r"\s?(?:(?:ml|cl|l|g|kg|oz|lbs?|cm|mm|m|km|pcs?|x)\b|×)", re.IGNORECASE)
_REFERENCE = re.compile(  # words after which a bare integer is a count or an id ("Table 4", "Serves 2")
    r"(?:#|@|×|\b(?:no|nr|number|table|order|room|ref|id|invoice|receipt|till|cashier|server|guests?|covers"
    r"|store|branch|terminal|trans(?:action)?|auth|items?|qty|serves|size|aged?|pack|step|days?|floor|gate"
    r"|platform|route|page|x))\.?\s*:?\s*$",
    re.IGNORECASE,
)
_LEADERS = re.compile(r"[.·•…_\-–—~]{2,}")
_EDGES = " .,:;|*·•…_-–—~=()[]"


@dataclass
class _Piece:
    """A label or a number within an OCR line, with its horizontal span estimated from character offsets."""

    text: str
    ids: tuple[str, ...]
    x1: float
    x2: float
    value: Decimal | None = None
    unit: str = ""
    used: bool = False

    @property
    def cx(self) -> float:
        return (self.x1 + self.x2) / 2


@dataclass
class Row:
    """OCR lines that share a row; ``y`` and ``spans`` are measured with the page's tilt taken out."""

    image: int
    y: float
    height: float
    lines: list[Evidence] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    pieces: list[_Piece] = field(default_factory=list)

    def holds(self, image: int, span: tuple[float, float]) -> bool:
        """Whether a line overlaps one of the row's lines by half the smaller height."""
        return image == self.image and any(
            min(b, span[1]) - max(a, span[0]) >= 0.5 * min(b - a, span[1] - span[0])
            for a, b in self.spans
        )


def _decimal(num: str) -> Decimal:
    """``3,20`` and ``3.20`` are 3.20; ``1,200`` and ``1,200.50`` have a thousands comma."""
    if re.fullmatch(r"\d+,\d{1,2}", num):
        return Decimal(num.replace(",", "."))
    return Decimal(num.replace(",", ""))


def amount(text: str) -> tuple[Decimal, str] | None:
    """The first number in ``text`` and its currency or "%", as the items are read ("£1.78" -> (1.78, "£")).

    Example:
        >>> amount("3,20 EUR")
        (Decimal('3.20'), '€')
    """
    m = _PRICE.search(text)
    if m is None:
        return None
    unit = (m.group("pre") or m.group("post") or "").lower()
    return _decimal(m.group("num")), _UNITS.get(unit, unit)


def non_value_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` whose digits are dates, times or phone numbers (seven digits or more).

    Example:
        >>> [ "Tel 020 7946 0958"[a:b] for a, b in non_value_spans("Tel 020 7946 0958")]
        ['Tel 020 7946 0958', '020 7946 0958']
        >>> non_value_spans("Latte 3.20")
        []
    """
    spans = [m.span() for m in _NOT_VALUE.finditer(text)]
    return spans + [
        m.span() for m in _PHONE.finditer(text) if sum(c.isdigit() for c in m.group()) >= 7
    ]


def _is_value(text: str, m: re.Match[str], blocked: list[tuple[int, int]]) -> bool:
    """Whether a number is a price or value, not a date, time, phone number, year, count or id."""
    s, e = m.span("num")
    if any(a < e and s < b for a, b in blocked):
        return False
    before, after = text[: m.start()], text[m.end() :]
    glued = (
        before[-1:].isalpha() and not m.group("pre") and m.group("num").isdigit()
    )  # "A4", "x2"; not "Latte3.20"
    if glued or after[:1].isalnum() or _MEASURE_AFTER.match(after):
        return False
    if m.group("pre") or m.group("post") or not m.group("num").isdigit():
        return True
    n = int(
        m.group("num")
    )  # a bare integer is a price only alone on its line or at the end of a row
    if n >= 10000 or 1900 <= n <= 2099 or m.group("num")[0] == "0" or _REFERENCE.search(before):
        return False
    words_after = re.search(r"[^\W\d_]", after) is not None
    if not re.search(r"[^\W\d_]", before):
        return not words_after
    return not words_after or re.search(r"\d\s*(?:%|[$€£]|kr)?\s*$", after) is not None


def _pieces(line: Evidence, box: Box) -> list[_Piece]:
    """Split one OCR line into label and number pieces: "Latte ..... $3.20" -> "Latte", 3.20."""
    text, ids = unicodedata.normalize("NFKC", line.text or ""), (line.id,)
    blocked = non_value_spans(text)
    width = (box.x2 - box.x1) / max(len(text), 1)
    pieces: list[_Piece] = []

    def label(a: int, b: int) -> None:
        words = _LEADERS.sub(" ", text[a:b]).strip(_EDGES)
        if re.search(r"[^\W\d_]{2}", words):
            pieces.append(
                _Piece(" ".join(words.split()), ids, box.x1 + a * width, box.x1 + b * width)
            )

    start = 0
    for m in _PRICE.finditer(text):
        if _is_value(text, m, blocked):
            label(start, m.start())
            unit = (m.group("pre") or m.group("post") or "").lower()
            x1, x2 = box.x1 + m.start() * width, box.x1 + m.end() * width
            pieces.append(
                _Piece(
                    m.group(0).strip(),
                    ids,
                    x1,
                    x2,
                    _decimal(m.group("num")),
                    _UNITS.get(unit, unit),
                )
            )
            start = m.end()
    label(start, len(text))
    return pieces


def _skew(lines: Sequence[Evidence]) -> float:
    """The page's tilt: the median slope of the top edges of OCR quads (0 for lines without one)."""
    slopes = []
    for ln in lines:
        quad = ln.attributes.get("quad")
        if isinstance(quad, list) and len(quad) == 4 and quad[1][0] - quad[0][0] > 0.02:
            slopes.append((quad[1][1] - quad[0][1]) / (quad[1][0] - quad[0][0]))
    return statistics.median(slopes) if slopes else 0.0


def text_rows(lines: Sequence[Evidence]) -> list[Row]:
    """Lines grouped into rows, top to bottom, pieces left to right.

    A line joins a row when it overlaps one of its lines vertically once the page's tilt is
    taken out, so a label and its price on a tilted photo share a row even where
    ``lines_to_evidence`` puts them on two.

    Example:
        >>> def line(text, x1, y1):
        ...     return Evidence(tool="rapidocr", kind="text", text=text, box=Box(x1=x1, y1=y1, x2=x1 + 0.2, y2=y1 + 0.04))
        >>> [[ln.text for ln in row.lines] for row in text_rows([line("$3.20", 0.7, 0.11), line("Latte", 0.1, 0.1)])]
        [['Latte', '$3.20']]
    """
    n = len(lines)
    skew = {
        image: _skew([ln for ln in lines if ln.image == image])
        for image in {ln.image for ln in lines}
    }
    placed = []
    for i, ln in enumerate(lines):
        box = ln.box or Box(x1=0.0, y1=i / n, x2=1.0, y2=(i + 0.8) / n)
        shift = skew[ln.image] * box.center[0]
        placed.append((ln.image, box.y1 - shift, box.y2 - shift, i, ln, box))
    rows: list[Row] = []
    for image, top, bottom, _, ln, box in sorted(placed, key=lambda t: (t[0], t[1] + t[2], t[3])):
        if not rows or not rows[-1].holds(image, (top, bottom)):
            rows.append(Row(image, (top + bottom) / 2, bottom - top))
        rows[-1].lines.append(ln)
        rows[-1].spans.append((top, bottom))
        rows[-1].pieces.extend(_pieces(ln, box))
    for row in rows:
        row.pieces.sort(key=lambda p: p.x1)
    return rows


def _runs(row: Row) -> Iterator[tuple[_Piece, list[_Piece]]]:
    """Each label of a row with the numbers right of it; adjacent label pieces join ("Iced" "Latte")."""
    label: _Piece | None = None
    nums: list[_Piece] = []
    for p in row.pieces:
        if p.value is not None:
            nums.append(p)
            continue
        if label is not None and nums:
            yield label, nums
        if label is not None and not nums and p.x1 - label.x2 < 2 * row.height:
            label = _Piece(f"{label.text} {p.text}", label.ids + p.ids, label.x1, p.x2)
        else:
            label = p
        nums = []
    if label is not None and nums:
        yield label, nums


def _header(rows: list[Row], r: int, nums: list[_Piece]) -> list[_Piece] | None:
    """The column headers above a table row's numbers ("Small  Large" over "Pizza 8.00 12.00").

    A header has at least two columns, so a row whose other cell OCR missed still finds its own.
    """
    for row in reversed(rows[max(r - 10, 0) : r]):
        if (
            row.image != rows[r].image
            or any(p.value is not None for p in row.pieces)
            or len(row.pieces) < max(len(nums), 2)
        ):
            continue
        heads = [min(row.pieces, key=lambda h: abs(h.cx - n.cx)) for n in nums]
        if len({id(h) for h in heads}) == len(nums) and all(
            abs(h.cx - n.cx) < 0.1 for h, n in zip(heads, nums)
        ):
            return heads
    return None


def _above(rows: list[Row], r: int, num: _Piece) -> _Piece | None:
    """The unpaired label right above a number whose row has no label (a price board)."""
    for row in reversed(rows[:r]):
        if row.image != rows[r].image or rows[r].y - row.y > 3 * rows[r].height:
            return None
        labels = [
            p
            for p in row.pieces
            if p.value is None and not p.used and p.x1 - 0.05 < num.cx < p.x2 + 0.05
        ]
        if labels:
            return min(labels, key=lambda p: abs(p.cx - num.cx))
    return None


def _item(label: _Piece, num: _Piece, name: str, *extra: _Piece) -> PricedItem:
    label.used = num.used = True
    ids = [i for i in dict.fromkeys(i for p in (label, *extra, num) for i in p.ids) if i]
    return PricedItem(
        label=name,
        value=num.value if num.value is not None else Decimal(0),
        unit=num.unit,
        evidence=ids,
    )


def priced_items(lines: Sequence[Evidence]) -> list[PricedItem]:
    """Pair numbers read by OCR with their labels, in reading order.

    A number pairs with the label left of it on its row (dotted leaders, a price column,
    or one merged OCR line); when a row holds several numbers, with the column headers
    above them (a table); when its row has no label, with the label right above it (a
    price board). Currency may come before or after; '3,20' is 3.20; dates, times, phone
    numbers, years, counts ("2 x", "Serves 4"), measures ("500 ml") and ids ("Table 4")
    are not values.

    Example:
        >>> lines = [Evidence(id="ocr0", tool="rapidocr", kind="text", text="Latte ....... $3.20",
        ...                   box=Box(x1=0.1, y1=0.1, x2=0.9, y2=0.15))]
        >>> [(i.label, str(i.value), i.unit) for i in priced_items(lines)]
        [('Latte', '3.20', '$')]
    """
    rows = text_rows([ln for ln in lines if ln.kind == "text" and ln.text])
    items: list[PricedItem] = []
    for r, row in enumerate(rows):
        if row.pieces and all(p.value is not None for p in row.pieces):
            items.extend(_item(up, n, up.text) for n in row.pieces if (up := _above(rows, r, n)))
            continue
        for label, nums in _runs(row):
            heads = _header(rows, r, nums)
            if heads is None:
                items.append(_item(label, nums[0], label.text))
            else:
                items.extend(
                    _item(label, n, f"{label.text} {h.text}", h) for n, h in zip(nums, heads)
                )
    return items
