"""Arithmetic over text read in the image: prices on menus and receipts, equations on boards.

A 135M LLM cannot add $3.20 twice to $1.70, but code can once the OCR lines are read
as data (``priced_items``, in ``prices``): ``compute`` reads what the question asks (a
total, a difference, a ratio, a comparison, one price, a receipt's total, an equation)
and answers with the currency kept, or ``None`` when the question is not a computation
or the text cannot decide it: never a guess.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from agentvlm.programs.prices import PricedItem, amount, non_value_spans, priced_items, text_rows
from agentvlm.types import Evidence

__all__ = ["ArithmeticResult", "PricedItem", "apply", "compute", "priced_items"]

_SUFFIX_UNITS = {"€", "kr", "chf"}  # written after the number ("8.10 €"), as is "%"; others before


class ArithmeticResult(BaseModel):
    """What ``compute`` decided: the answer as a user should see it, its number, and how.

    Example:
        >>> ArithmeticResult(value="x = 4", number=4.0, evidence=["ocr0"], detail="2x + 3 = 11 gives x = 4").value
        'x = 4'
    """

    value: str
    number: float | None
    evidence: list[str]
    detail: str


# --- the question ----------------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1, "couple": 2, "pair": 2, "dozen": 12,
}  # fmt: skip
_FILLER = frozenset({
    "how", "much", "many", "times", "more", "less", "expensive", "cheap", "cheaper", "cheapest", "dear",
    "dearer", "dearest", "pricey", "pricier", "priciest", "costly", "costlier", "costliest", "least",
    "most", "higher", "lower", "difference", "between", "price", "prices", "priced", "cost", "costs",
    "costing", "which", "what", "whats", "is", "are", "was", "were", "does", "do", "did", "would", "will",
    "could", "should", "can", "the", "of", "for", "in", "to", "it", "me", "us", "i", "we", "you", "my",
    "our", "buy", "buying", "bought", "get", "getting", "order", "ordered", "have", "had", "total",
    "altogether", "together", "combined", "overall", "be", "pay", "paid", "each", "both", "there", "this",
    "that", "these", "those", "item", "items", "thing", "things", "menu", "board", "sign", "receipt",
    "bill", "list", "on", "at", "here", "if", "please", "tell", "exactly", "amount", "sum", "money",
    "spend", "spent", "come", "comes", "want", "need", "just", "only", "all", "with", "say", "says",
    "written", "shown", "listed", "charge", "charged", "dollar", "dollars", "euro", "euros", "pound",
    "pounds", "buck", "bucks", "cent", "cents",
})  # fmt: skip
_LABEL_STOP = frozenset({"of", "the", "a", "an", "and", "with"})
_MEASURES = frozenset({  # "two cups of coffee" still names the Coffee
    "cup", "glass", "slice", "piece", "portion", "serving", "bottle", "can", "pot", "plate", "bowl",
    "scoop", "pint", "mug",
})  # fmt: skip
_CATEGORY = frozenset({"drink", "food", "dish", "option", "product", "beverage", "snack", "one"})
_SEPARATORS = frozenset(
    {",", ";", ":", "and", "or", "than", "plus", "versus", "vs", "as", "compared"}
)
_SUMMARY = re.compile(
    r"\b(?:sub\s*-?\s*total|total|tax|vat|gst|tip|service|change|cash|card|visa|mastercard|amex|tendered|paid"
    r"|balance|discount|savings?|rounding|due|amount)\b",
    re.IGNORECASE,
)
_LOW = re.compile(r"cheap|\bless\b|least|lower|lowest")
_COMPARE = (
    r"cheaper|cheapest|less expensive|least expensive|more expensive|most expensive|pricier|priciest"
    r"|dearer|dearest|costlier|costliest|costs? (?:more|less|the most|the least)|(?:higher|lower) price"
)
_RATIO = re.compile(r"\bhow many times\b|\btimes (?:as|more|the price)\b|\bratio\b")
_DIFF = re.compile(r"\bhow much (?:more|less|cheaper|dearer|pricier|extra)\b|\bdifference\b")
_YESNO = re.compile(
    rf"^(?:is|are|was|were|does|do|would|will)\b.*\b(?:{_COMPARE}|more than|less than)\b"
)
_WHICH = re.compile(rf"\b(?:which|what)\b.*\b(?:{_COMPARE})\b")
_PRICE_Q = re.compile(
    r"\bhow much\b|\bsum\b|\bcosts?\b|\bprice[sd]?\b|\btotal\b|\bpa(?:y|id)\b|\bspen[dt]\b|\bcharged?\b"
    r"|\bdue\b|\bbill\b|\bowe\b"
)
_RECEIPT_Q = re.compile(r"\b(?:total|paid|pay|bill|due|owe|spent|come to)\b")


@dataclass
class _Ask:
    """One thing the question names: how many, its words (singular), and the words as asked."""

    qty: int
    words: list[str]
    text: str


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+|\d+(?:[.,]\d+)?|[,;:]", text.lower().replace("'s", ""))


def _asks(question: str) -> list[_Ask]:
    """The items a question names, with quantities: "two lattes and a muffin" -> 2 latte, 1 muffin.

    "a small one" after "a large pizza" is a small pizza.
    """
    chunks: list[list[str]] = [[]]
    for w in _words(question.replace("&", " and ").replace("+", " and ")):
        if w in _SEPARATORS:
            chunks.append([])
        else:
            chunks[-1].append(w)
    asks: list[_Ask] = []
    for chunk in chunks:
        qty, words, said = 1, list[str](), list[str]()
        for w in chunk:
            if not words and (w in _NUMBER_WORDS or w.isdigit()):
                qty = int(w) if w.isdigit() else _NUMBER_WORDS[w]
            elif w in ("one", "ones") and words and asks:
                words.append(asks[-1].words[-1])
                said.append(w)
            elif w not in _FILLER and w not in _NUMBER_WORDS and w[0].isalpha():
                words.append(_singular(w))
                said.append(w)
        if words:
            asks.append(_Ask(qty, words, " ".join(said)))
    return asks


def _joined(question: str, items: Sequence[PricedItem]) -> str:
    """The question with "and" inside a menu item's name ("fish and chips") made a filler word."""
    q = question.replace("&", " and ")
    for item in items:
        words = _words(item.label.replace("&", " and "))
        if "and" in words[1:-1]:
            pattern = r"\s+".join(re.escape(w) + ("" if w == "and" else r"(?:e?s)?") for w in words)
            q = re.sub(rf"\b{pattern}\b", lambda m: re.sub(r"\band\b", "with", m.group()), q)
    return q


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return 0.0 if min(len(a), len(b)) < 4 else difflib.SequenceMatcher(None, a, b).ratio()


def _fit(ask: list[str], label: str) -> tuple[float, float] | None:
    """(share of the label's words matched, mean similarity) when every asked word is in the label."""
    words = [_singular(w) for w in _words(label) if w not in _LABEL_STOP and w[0].isalpha()]
    hit, sims = set(), []
    for w in ask:
        sim, j = max(((_similar(w, lw), j) for j, lw in enumerate(words)), default=(0.0, -1))
        if sim >= 0.8:
            hit.add(j)
            sims.append(sim)
        elif w not in _MEASURES:
            return None
    return (len(hit) / len(words), sum(sims) / len(sims)) if sims else None


def _matches(
    ask: _Ask, items: Sequence[PricedItem]
) -> list[tuple[tuple[float, float], PricedItem]]:
    """Every item whose label holds all the asked words, best fit first (then reading order)."""
    scored = [
        (fit, i, item) for i, item in enumerate(items) if (fit := _fit(ask.words, item.label))
    ]
    return [
        (fit, item) for fit, _, item in sorted(scored, key=lambda t: (-t[0][0], -t[0][1], t[1]))
    ]


def _match(ask: _Ask, items: Sequence[PricedItem]) -> PricedItem | None:
    """The one item the ask names; ``None`` when none does, or two fit as well at different prices."""
    found = _matches(ask, items)
    if not found or any(
        fit == found[0][0] and item.value != found[0][1].value for fit, item in found[1:]
    ):
        return None
    return found[0][1]


# --- answers ---------------------------------------------------------------------------------


def _money(value: Decimal, unit: str) -> str:
    text = format(value, "f")
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit in _SUFFIX_UNITS else f"{unit}{text}"


def _unit(picked: Sequence[PricedItem], items: Sequence[PricedItem]) -> str | None:
    """The one unit of the items used, or the text's usual currency when they show none; ``None`` if mixed."""
    units = {i.unit for i in picked if i.unit}
    if len(units) > 1:
        return None
    if units:
        return units.pop()
    common = Counter(i.unit for i in items if i.unit and i.unit != "%").most_common(1)
    return common[0][0] if common else ""


def _ids(picked: Sequence[PricedItem]) -> list[str]:
    return list(dict.fromkeys(e for i in picked for e in i.evidence))


def _result(
    value: Decimal, unit: str, picked: Sequence[PricedItem], detail: str
) -> ArithmeticResult:
    return ArithmeticResult(
        value=_money(value, unit), number=float(value), evidence=_ids(picked), detail=detail
    )


def _total(asks: list[_Ask], items: list[PricedItem]) -> ArithmeticResult | None:
    """Quantities times prices, summed: one price when the question names one item."""
    found = [_match(a, items) for a in asks]
    picked = [p for p in found if p is not None]
    if len(picked) < len(asks) or (unit := _unit(picked, items)) is None:
        return None
    total = sum((a.qty * p.value for a, p in zip(asks, picked)), Decimal(0))
    if len(asks) == 1 and asks[0].qty == 1:
        return _result(total, unit, picked, f"{picked[0].label} costs {_money(total, unit)}")
    parts = " + ".join(f"{a.qty} x {p.label} {_money(p.value, unit)}" for a, p in zip(asks, picked))
    return _result(total, unit, picked, f"{parts} = {_money(total, unit)}")


def _total_rank(item: PricedItem) -> int:
    label = item.label.lower()
    if re.search(r"sub\s*-?\s*total|total\s+(?:items?|qty|savings?|tax|vat|discount)", label):
        return 0
    if "grand total" in label:
        return 3
    if any(_similar(w, "total") >= 0.8 for w in _words(label)):
        return 2
    return 1 if re.search(r"amount due|balance due|to pay|amount paid", label) else 0


def _receipt_total(items: list[PricedItem]) -> ArithmeticResult | None:
    """The receipt's TOTAL line (a grand total first; the last one read on ties), else the sum of its item lines."""
    rank, _, best = max((_total_rank(item), i, item) for i, item in enumerate(items))
    if rank:
        unit = _unit([best], items) or ""
        return _result(
            best.value,
            unit,
            [best],
            f"the receipt's {best.label} line reads {_money(best.value, unit)}",
        )
    lines = [i for i in items if not _SUMMARY.search(i.label) and i.unit != "%"]
    if not lines or (common := _unit(lines, items)) is None:
        return None
    total = sum((i.value for i in lines), Decimal(0))
    return _result(
        total,
        common,
        lines,
        f"no TOTAL line; the {len(lines)} item lines add up to {_money(total, common)}",
    )


def _two(q: str, asks: list[_Ask], items: list[PricedItem]) -> ArithmeticResult | None:
    """A difference, a ratio or a yes/no comparison between the two things the question names."""
    if (
        len(asks) != 2
        or (a := _match(asks[0], items)) is None
        or (b := _match(asks[1], items)) is None
    ):
        return None
    if (unit := _unit([a, b], items)) is None:
        return None
    va, vb = asks[0].qty * a.value, asks[1].qty * b.value
    low, says = bool(_LOW.search(q)), f"{a.label} {_money(va, unit)}, {b.label} {_money(vb, unit)}"
    if _RATIO.search(q):
        top, bottom = (vb, va) if low else (va, vb)
        if not bottom:
            return None
        ratio = (top / bottom).quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
        shown = f"{format(ratio, 'f')} times"
        return ArithmeticResult(
            value=shown, number=float(ratio), evidence=_ids([a, b]), detail=f"{says}: {shown}"
        )
    if _DIFF.search(q):
        diff = abs(va - vb)
        return _result(diff, unit, [a, b], f"{says}: a difference of {_money(diff, unit)}")
    yes = va < vb if low else va > vb
    word = "cheaper" if low else "more expensive"
    return ArithmeticResult(
        value="yes" if yes else "no",
        number=None,
        evidence=_ids([a, b]),
        detail=f"{says}: {a.label} is {'' if yes else 'not '}{word}",
    )


def _which(q: str, asks: list[_Ask], items: list[PricedItem]) -> ArithmeticResult | None:
    """The cheapest or dearest of the options named, else of the items that fit the words, else of all."""
    low = bool(_LOW.search(q))
    if len(asks) >= 2:
        found = [_match(a, items) for a in asks]
        picked = [p for p in found if p is not None]
        if len(picked) < len(asks) or _unit(picked, items) is None:
            return None
        values = [a.qty * p.value for a, p in zip(asks, picked)]
        best = values.index(min(values) if low else max(values))
        if values.count(values[best]) > 1:
            return None
        detail = ", ".join(
            f"{p.label} {_money(v, _unit([p], items) or '')}" for p, v in zip(picked, values)
        )
        return ArithmeticResult(
            value=f"the {asks[best].text}", number=None, evidence=_ids(picked), detail=detail
        )
    pool = [i for i in items if not _SUMMARY.search(i.label) and i.unit != "%"]
    if asks and not set(asks[0].words) <= _CATEGORY:
        pool = [item for _, item in _matches(asks[0], pool)]
    if len(pool) < 2 or _unit(pool, items) is None:
        return None
    extreme = min(i.value for i in pool) if low else max(i.value for i in pool)
    best_items = [i for i in pool if i.value == extreme]
    unit = _unit(best_items, items) or ""
    return ArithmeticResult(
        value=" and ".join(i.label for i in best_items),
        number=None,
        evidence=_ids(best_items),
        detail=f"the {'cheapest' if low else 'most expensive'} of {len(pool)}: {_money(extreme, unit)}",
    )


# --- equations (solved in ``equations``) -----------------------------------------------------

_SOLVE = r"solve|calculate|calculation|work out|arithmetic|maths?|the sum"
_SOLVE_Q = re.compile(rf"\b(?:{_SOLVE})\b")
_EQUATION_Q = re.compile(  # benchmark prompts' "the missing part" and "answer with" are not cues
    rf"\b(?:{_SOLVE}|equations?|the answer|the result|equals?|missing (?:number|value|digit)"
    r"|unknown (?:number|value)|value of [a-z]|what is (?![ai]\b)[a-z]|find (?![ai]\b)[a-z])\b"
)
_ASKED_VAR = re.compile(r"\b(?:what is|value of|find|solve for)\s+(?![ai]\b)([a-z])\b")


def _equation(q: str, lines: Sequence[Evidence]) -> ArithmeticResult | None:
    """The first sum or equation in reading order that holds the asked unknown, solved."""
    from agentvlm.programs.equations import chunks, solve

    asked = m.group(1) if (m := _ASKED_VAR.search(q)) else None
    bare = _SOLVE_Q.search(q) is not None  # "12 ÷ 4" with no "=" counts only when asked to solve it
    for row in text_rows(lines):
        text = " ".join(
            ln.text or "" for ln in sorted(row.lines, key=lambda ln: ln.box.x1 if ln.box else 0.0)
        )
        for a, b in non_value_spans(text):  # a date or a phone number is not a subtraction
            text = text[:a] + "|" * (b - a) + text[b:]
        for chunk in chunks(text):
            if (asked and not re.search(rf"(?<![a-z]){asked}(?![a-z])", chunk)) or (
                "=" not in chunk and not bare
            ):
                continue
            if (solved := solve(chunk, asked)) is not None:
                ids = [ln.id for ln in row.lines if ln.id]
                return ArithmeticResult(
                    value=solved.value,
                    number=solved.number,
                    evidence=ids,
                    detail=f"{solved.shown} gives {solved.value}",
                )
    return None


def compute(question: str, lines: Sequence[Evidence]) -> ArithmeticResult | None:
    """Decide a computation question from OCR lines, or ``None`` when it is not one or the text cannot decide.

    Handles prices with quantities ("two lattes and a muffin"), one price, differences,
    ratios, comparisons (which / is X cheaper than Y), a receipt's total (its TOTAL line
    when there is one, else the sum of its item lines) and sums or equations on a board.

    Example:
        >>> from agentvlm.types import Box
        >>> def line(i, text, y):
        ...     return Evidence(id=f"ocr{i}", tool="rapidocr", kind="text", text=text,
        ...                     box=Box(x1=0.1, y1=y, x2=0.9, y2=y + 0.05))
        >>> menu = [line(0, "Latte ..... $3.20", 0.1), line(1, "Muffin ..... $1.70", 0.2)]
        >>> compute("How much for two lattes and a muffin?", menu).value
        '$8.10'
        >>> compute("What is x?", [line(0, "2x + 3 = 11", 0.1)]).value
        'x = 4'
    """
    text = [ln for ln in lines if ln.kind == "text" and ln.text]
    q = " ".join(question.lower().replace("’", "'").replace("what's", "what is").split())
    if not text:
        return None
    equation = _EQUATION_Q.search(q) is not None
    if equation and not _PRICE_Q.search(q) and (solved := _equation(q, text)) is not None:
        return solved
    found = _prices(q, priced_items(text))
    return _equation(q, text) if found is None and equation else found


def _prices(q: str, items: list[PricedItem]) -> ArithmeticResult | None:
    """Answer a price question from the priced items: the comparisons first, then totals."""
    if not items:
        return None
    asks = _asks(_joined(q, items))
    if _RATIO.search(q) or _DIFF.search(q) or _YESNO.search(q):
        return _two(q, asks, items)
    if _WHICH.search(q):
        return _which(q, asks, items)
    if not _PRICE_Q.search(q):
        return None
    if asks:
        return _total(asks, items)
    return _receipt_total(items) if _RECEIPT_Q.search(q) else None


def apply(earlier: str, op: str, operand: float) -> str | None:
    """An earlier answer (a count, a price) combined with a number, the unit kept: ``apply("$3.20", "*", 2)`` is ``"$6.40"``.

    The step of a question whose later part computes with an earlier part's answer ("how many
    would there be if three more joined?"); ``None`` when the earlier answer holds no number
    or the operation is not one of ``+ - * /``.
    """
    if op not in ("+", "-", "*", "/") or (op == "/" and operand == 0):
        return None
    read = amount(earlier)
    if read is None:
        word = _NUMBER_WORDS.get(earlier.strip().lower())
        if word is None:
            return None
        read = Decimal(word), ""
    value, unit = read
    places = max(-int(value.as_tuple().exponent), 0)
    number = Decimal(str(operand))
    out = {"+": value + number, "-": value - number, "*": value * number, "/": value / number}[op]
    if places == 0 and out == out.to_integral_value():
        out = out.to_integral_value()
    else:
        out = out.quantize(Decimal(1).scaleb(-max(places, 2)), rounding=ROUND_HALF_UP)
    return _money(out, unit) if unit else format(out, "f")
