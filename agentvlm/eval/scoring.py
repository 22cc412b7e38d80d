"""Scoring a prediction against the expected answer, per answer type, as the benchmarks define it.

- ``multiple_choice_letter``: the option letter ("B", "(b)", "The answer is (B).", "Answer: B"),
  or the option whose text the prediction names uniquely; exact letter match.
- ``true_false``: true/yes against false/no.
- ``short_answer``: normalized text (case, punctuation, articles); numbers compared as numbers,
  so "3 people" and "three" both match "3".
- ``ocr``: exact normalized match for ``correct``; ANLS (average normalized Levenshtein
  similarity, threshold 0.5) as the graded ``score``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from agentvlm.graph.nodes import choice_letter

__all__ = ["Score", "anls", "chance", "mc_letter", "normalize", "parse_number", "score_answer", "true_false"]

LETTERS = "ABCDEFGH"
_NUMBER_WORDS = {w: i for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
))}
_TRUE = {"true", "yes", "correct", "right"}
_FALSE = {"false", "no", "incorrect", "wrong", "not"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_LEADING = re.compile(r"\s*(?:\(([A-Ha-h])\)|([A-H])[).:])")  # "(B) no", "B. no": the letter leads
_EXPLICIT = re.compile(r"\b(?:answer|option|choice)\b\s*(?:is|:)?\s*(?:\(([A-Ha-h])\)|([A-H])\b)")


class Score(BaseModel):
    """The verdict on one prediction: ``parsed`` is what was read from it (letter, true/false, number)."""

    correct: bool
    score: float
    parsed: str | None = None


def normalize(text: str) -> str:
    """Lower case, no punctuation or articles, number words as digits, single spaces."""
    text = re.sub(r"[^\w\s.]", " ", text.lower())
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(str(_NUMBER_WORDS.get(w, w)) for w in text.split())


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def parse_number(text: str) -> float | None:
    """The first number in ``text`` ("3 people" -> 3, "two" -> 2, "1,200" -> 1200), else ``None``."""
    m = re.search(r"-?\d+(?:\.\d+)?", normalize(text.replace(",", "")))
    return float(m.group(0)) if m else None


def mc_letter(prediction: str, choices: Sequence[str]) -> str | None:
    """The option letter a prediction names, else ``None``.

    Example:
        >>> mc_letter("The answer is (B).", ["yes", "no"]), mc_letter("b", ["x", "y"]), mc_letter("no", ["yes", "no"])
        ('B', 'B', 'B')
    """
    text, letters = prediction.strip(), LETTERS[: len(choices)]
    whole = re.fullmatch(r"[\s(\[]*([A-Ha-h])[\s)\].:,]*", text)
    if whole and whole.group(1).upper() in letters:
        return whole.group(1).upper()
    explicit = _LEADING.match(text) or _EXPLICIT.search(text)
    if explicit and (explicit.group(1) or explicit.group(2)).upper() in letters:
        return (explicit.group(1) or explicit.group(2)).upper()
    said, options = _plain(text), [_plain(c) for c in choices]
    named = [i for i, c in enumerate(options) if c and re.search(rf"(?<!\w){re.escape(c)}(?!\w)", said)]
    # "dark red" names "red" too: keep options not contained in another named one.
    named = [i for i in named if not any(j != i and options[i] in options[j] for j in named)]
    if len(named) == 1:
        return letters[named[0]]
    # The answer node's letter rules, without its substring match of option text ("cannot" names "no").
    return choice_letter(text, [""] * len(choices))


def true_false(prediction: str) -> str | None:
    """``"true"`` or ``"false"`` from the first yes/no/true/false word of a prediction."""
    for word in normalize(prediction).split():
        if word in _TRUE:
            return "true"
        if word in _FALSE:
            return "false"
    return None


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def anls(prediction: str, answers: Sequence[str], *, threshold: float = 0.5) -> float:
    """ANLS (Biten et al. 2019): 1 - normalized edit distance to the closest answer, 0 below ``threshold``."""
    pred = " ".join(prediction.lower().split())
    best = 0.0
    for answer in answers:
        gold = " ".join(answer.lower().split())
        longest = max(len(pred), len(gold)) or 1
        similarity = 1.0 - _levenshtein(pred, gold) / longest
        best = max(best, similarity if similarity >= threshold else 0.0)
    return best


def _short(prediction: str, answers: Sequence[str]) -> Score:
    said = normalize(prediction)
    number = parse_number(prediction)
    for answer in answers:
        gold_number = parse_number(answer) if re.fullmatch(r"-?\d+(?:\.\d+)?", normalize(answer)) else None
        if said == normalize(answer) or (gold_number is not None and number == gold_number):
            return Score(correct=True, score=1.0, parsed=said)
    return Score(correct=False, score=0.0, parsed=said)


def score_answer(prediction: str, answer: str | Sequence[str], answer_type: str, *, choices: Sequence[str] = ()) -> Score:
    """Score ``prediction`` against ``answer`` (a string or accepted alternatives) by ``answer_type``."""
    answers = [answer] if isinstance(answer, str) else list(answer)
    if answer_type == "multiple_choice_letter":
        letter = mc_letter(prediction, choices)
        ok = letter is not None and letter == answers[0].strip().upper()
        return Score(correct=ok, score=float(ok), parsed=letter)
    if answer_type == "true_false":
        said, gold = true_false(prediction), true_false(answers[0])
        return Score(correct=said is not None and said == gold, score=float(said is not None and said == gold), parsed=said)
    if answer_type == "ocr":
        exact = _short(prediction, answers)
        return Score(correct=exact.correct, score=1.0 if exact.correct else anls(prediction, answers), parsed=exact.parsed)
    return _short(prediction, answers)


def chance(answer_type: str, choices: Sequence[str] = ()) -> float | None:
    """The accuracy of guessing uniformly; ``None`` for open answers."""
    if answer_type == "multiple_choice_letter":
        return 1.0 / len(choices)
    if answer_type == "true_false":
        return 0.5
    return None
