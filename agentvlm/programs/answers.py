"""Turn a program's result into the reply the question's form asks for, by template.

Multiple-choice questions map to a letter deterministically; a result no option
matches gives ``None``, so the caller can let the LLM decide instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentvlm.programs.executor import Result
from agentvlm.programs.language import Program
from agentvlm.question.forms import parse_count
from agentvlm.question.vocabulary import normal_label

__all__ = ["LETTERS", "phrase"]

LETTERS = "ABCDEFGH"
_YES = ("yes", "true", "correct", "right")
_NO = ("no", "false", "incorrect", "wrong")


def _option(value: bool | int | str, choices: Sequence[str]) -> str | None:
    """The letter of the option ``value`` names, or ``None`` when none or several do."""
    texts = [c.strip().lower() for c in choices]
    if isinstance(value, bool):
        words = _YES if value else _NO
        hits = [i for i, t in enumerate(texts) if t in words]
    elif isinstance(value, int):  # a count answers "two or three?"
        hits = [i for i, t in enumerate(texts) if t == str(value) or parse_count(t) == value and len(t.split()) == 1]
    else:
        v = str(value).strip().lower()
        hits = [i for i, t in enumerate(texts) if t == v]
        if not hits:  # "the red car" names class car; "sofa" and "couch" are the same option
            hits = [i for i, t in enumerate(texts) if normal_label(t) == normal_label(v) or v in t.split()]
        if not hits:  # a position "top-left" answers "on the left or the right?"
            parts = set(v.replace("-", " ").split())
            hits = [i for i, t in enumerate(texts) if t.split() and t.split()[-1] in parts]
    return LETTERS[hits[0]] if len(hits) == 1 else None


def phrase(program: Program, result: Result, *, choices: Sequence[str] = ()) -> str | None:
    """The answer text: a number, ``yes``/``no``, an option letter or short text; ``None`` if undecided.

    Example:
        >>> p = Program(op="exists", target="cat", other="", relation="none", attribute="none", value="", answer="yes_no")
        >>> phrase(p, Result(True, ["det0"]), choices=["yes", "no"]), phrase(p, Result(False))
        ('A', 'no')
    """
    value = result.value
    if value is None:
        return None
    if choices:
        return _option(value, choices)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return value or None
