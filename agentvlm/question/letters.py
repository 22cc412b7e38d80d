"""Which option letter a reply names: "B", "(b)", "Answer: A", or one option's own text.

The article "a" is not option A: "a cat is on the right" names no letter (with choices
[left, right] it names the option "right", B), while "A is closer" and "it is a" do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["LETTERS", "option_letter"]

LETTERS = "ABCDEFGH"
# A letter stands alone: after the start, a space, "(", "[" or ":", and before the end, a space or ).]:,
_ALONE = r"(?<![^\s(\[:])([{letters}])(?![^\s).\]:,])"
# After "A", these words make it the option's name ("A is closer"); any other word makes it the article.
_AFTER_LETTER = frozenset({
    "is", "was", "seems", "looks", "appears", "because", "since", "as", "and", "or", "would",
    "should", "must", "could", "might", "will", "has", "fits", "wins",
})  # fmt: skip
_EXPLICIT = re.compile(r"\b(?:answer|option|choice)\s*(?:is\s*)?:?\s*\(?$", re.IGNORECASE)


def _is_article(text: str, m: re.Match[str]) -> bool:
    if m.group(1) not in "aA" or text[m.start() - 1 : m.start()] == "(":
        return False
    word = re.match(r"\s+([A-Za-z]+)", text[m.end() :])
    return word is not None and word.group(1).lower() not in _AFTER_LETTER


def option_letter(text: str, choices: Sequence[str]) -> str | None:
    """The option letter ``text`` names, else ``None``.

    A letter wins when the reply is only the letter, puts it in parentheses, starts with it
    or says "answer/option/choice (is)" before it; otherwise the one option whose text the
    reply contains, otherwise any standalone letter.

    Example:
        >>> option_letter("The answer is (B).", ["left", "right"]), option_letter("a cat is on the right", ["left", "right"])
        ('B', 'B')
    """
    said = text.strip()
    letters = LETTERS[: len(choices)]
    if not letters:
        return None
    pattern = _ALONE.format(letters=letters + letters.lower())
    m = next((m for m in re.finditer(pattern, said) if not _is_article(said, m)), None)
    if m and (
        len(said) <= 3 or m.start() == 0 or said[m.start() - 1] == "(" or _EXPLICIT.search(said[: m.start()])
    ):
        return m.group(1).upper()
    named = [letters[i] for i, c in enumerate(choices) if c.strip() and c.strip().lower() in said.lower()]
    if len(named) == 1:
        return named[0]
    return m.group(1).upper() if m else None
