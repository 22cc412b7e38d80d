"""Sums and equations written in a line of text ("2x + 3 = 11", "3 × 4 = ?"), solved with sympy.

OCR reads a whiteboard's × ÷ − as themselves, as "x" or as full-width forms; ``chunks``
finds the math in a line and writes it as sympy input, ``solve`` evaluates or solves it.
sympy is imported on first use, so importing agentvlm stays light.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Solved", "chunks", "solve"]

_SIGNS = (("×", "*"), ("÷", "/"), ("−", "-"), ("–", "-"), ("—", "-"), ("·", "*"), ("?", "q"))
_UNKNOWN = "q"  # "?" as in "3 + ? = 7"


@dataclass(frozen=True)
class Solved:
    """A solved chunk: the answer as shown ("x = 4", "12"), its number, and the math as written."""

    value: str
    number: float | None
    shown: str


def chunks(text: str) -> list[str]:
    """The stretches of ``text`` that are sums or equations, as sympy-ready strings.

    Words end a stretch; an 'x' between digits multiplies; ':' divides in a line with '='.

    Example:
        >>> chunks("Solve: 2x + 3 = 11"), chunks("3 × 4 = ?"), chunks("Latte 3.20")
        (['2x + 3 = 11'], ['3 * 4 = q'], [])
    """
    t = unicodedata.normalize("NFKC", text.replace("²", "^2")).lower()
    for sign, op in _SIGNS:
        t = t.replace(sign, op)
    t = re.sub(r"(?<=\d)\s*x\s*(?=\d)", "*", t)
    if "=" in t:
        t = re.sub(r"(?<=\d)\s*:\s*(?=\d)", "/", t)
    t = re.sub(r"[^\W\d_]{2,}", "|", t)
    found = [c.strip(" .") for c in re.split(r"[^0-9a-z+\-*/^=(). ]", t)]
    return [c for c in found if re.search(r"\d", c) and re.search(r"[\w)]\s*[-+*/^=]\s*[\w(]", c)]


def solve(chunk: str, unknown: str | None = None) -> Solved | None:
    """Evaluate a sum, or solve an equation for ``unknown`` (or its only unknown); ``None`` if neither.

    Example:
        >>> solve("2x + 3 = 11").value, solve("3*4 = q").value, solve("12 / 4").value, solve("x^2 = 9").value
        ('x = 4', '12', '3', 'x = -3 or x = 3')
    """
    from tokenize import TokenError

    import sympy
    from sympy.parsing.sympy_parser import parse_expr

    sides = [s.strip() for s in chunk.split("=")]
    if len(sides) > 2 or re.search(r"\^\s*\(?\s*\d{2,}|\^.*\^", chunk):  # one "=", no x^99 or 9^9^9
        return None
    try:  # the input is digits, single letters and operators only (see ``chunks``)
        left, right = (
            parse_expr(re.sub(r"(?<=[\d)])\s*(?=[a-z(])", "*", s).replace("^", "**")) if s else None
            for s in (sides + [""])[:2]
        )
    except (
        SyntaxError,
        TokenError,
        TypeError,
        ValueError,
        AttributeError,
        ArithmeticError,
        sympy.SympifyError,
    ):
        return None
    shown = re.sub(
        r"\s*([*/])\s*",
        lambda m: " × " if m.group(1) == "*" else " ÷ ",
        chunk.replace(_UNKNOWN, "?"),
    )
    if left is None:
        return None
    if not left.free_symbols and (right is None or not right.free_symbols):  # a sum: its left side
        return Solved(_show(left), float(left), shown) if left.is_finite and left.is_real else None
    if right is None:
        return None
    free = sorted((left - right).free_symbols, key=str)
    target = next((s for s in free if str(s) == unknown), free[0] if len(free) == 1 else None)
    roots = (
        [r for r in sympy.solve(sympy.Eq(left, right), target) if r.is_real]
        if target is not None
        else []
    )
    if not roots:
        return None
    name = "" if str(target) == _UNKNOWN else f"{target} = "
    number = float(roots[0]) if len(roots) == 1 else None
    return Solved(" or ".join(f"{name}{_show(r)}" for r in roots), number, shown)


def _show(number: Any) -> str:
    """An integer as itself, anything else to at most four decimals."""
    if number.is_Integer:
        return str(int(number))
    return format(
        Decimal(str(float(number))).quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize(), "f"
    )
