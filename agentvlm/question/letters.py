"""The option letter a reply names: one parser for the graphs and the scorer."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["LETTERS", "option_letter"]

LETTERS = "ABCDEFGH"


def option_letter(text: str, choices: Sequence[str]) -> str | None:
    """The option letter ``text`` names ("B", "(b)", "Answer: B", or one option's text), else ``None``.

    A reply that starts with the article "a" names option A only when it is the letter
    alone or marked as one ("A.", "(A)"), not in "a cat is on the right".

    Example:
        >>> option_letter("(B)", ["yes", "no"]), option_letter("a cat is on the right", ["left", "right"])
        ('B', 'B')
    """
    t = text.strip()
    letters = LETTERS[: len(choices)]
    marked = re.search(rf"(?:^|[\s(\[:])\(?([{letters}])(?:\)|\.|:|\]|,|$)(?:\s|$)", t)
    if re.fullmatch(rf"\(?([{letters}{letters.lower()}])\)?[.:]?", t):
        return t.strip("().:").upper()
    if marked:
        return marked.group(1).upper()
    m = re.search(rf"\b(?:answer|option|choice)\s*(?:is)?\s*:?\s*\(?([{letters}{letters.lower()}])\b", t, re.IGNORECASE)
    if m:
        return m.group(1).upper()
    low = t.lower()
    named = [letters[i] for i, c in enumerate(choices) if c.strip() and re.search(rf"\b{re.escape(c.strip().lower())}\b", low)]
    return named[0] if len(named) == 1 else None
