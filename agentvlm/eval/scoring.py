"""Scoring a prediction against the expected answer, per answer type, as the benchmarks define it.

- ``multiple_choice_letter``: the option letter ("B", "(b)", "The answer is (B).", "Answer: B"),
  or the option whose text the prediction names uniquely; exact letter match.
- ``true_false``: true/yes against false/no.
- ``short_answer``: normalized text (case, punctuation, articles); numbers compared as numbers,
  so "3 people" and "three" both match "3".
- ``ocr``: exact normalized match for ``correct``; ANLS (average normalized Levenshtein
  similarity, threshold 0.5) as the graded ``score``.

``answer_has_form`` asks a separate question, right or wrong: is the prediction an answer of
the kind the item asks for (a letter, yes/no, a count, a colour...)? This module loads no
LangGraph and no model, so scoring a finished run is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from agentvlm.eval.dataset import EvalItem
from agentvlm.evidence.candidates import NOT_FOUND
from agentvlm.question.letters import option_letter

__all__ = [
    "Score",
    "anls",
    "answer_has_form",
    "chance",
    "mc_letter",
    "normalize",
    "parse_number",
    "score_answer",
    "true_false",
]

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
    """Lower case, no punctuation or articles, number words as digits, single spaces; a minus sign
    before a number is kept ("x = -3" is not "3"), a hyphen inside a word is a space."""
    text = re.sub(r"[^\w\s.\-]", " ", text.lower().replace("\u2212", "-"))
    text = re.sub(r"(?<=\w)-|-(?!\d)", " ", text)
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
    return option_letter(text, [""] * len(choices))


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


_YES_NO = {"yes", "no", "true", "false"}
_BARE_SCORE = re.compile(r"[01]?\.\d+")
_LETTER_FORM = re.compile(r"[\s(\[]*([A-Ha-h])[\s)\].:]*(?:\s+(.*))?", re.DOTALL)
_CURRENCY = r"(?:[$€£¥₹]|usd|eur|gbp|us\$)"
_NUMBER_FORM = re.compile(
    rf"{_CURRENCY}?\s*[-+]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)?(?:\.\d+)?\s*"
    rf"(?:%|{_CURRENCY}|[a-zµ°²³/]+(?:\s*(?:per|/)\s*[a-z]+)?)?"
)
_COLOUR_QUESTION = re.compile(r"\bcolou?rs?\b|\bwhat colou?r\b|\bhue\b", re.IGNORECASE)
_COLOURS = frozenset({
    "red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown", "black",
    "white", "gray", "grey", "silver", "gold", "golden", "beige", "tan", "maroon", "navy",
    "teal", "turquoise", "cyan", "magenta", "cream", "ivory", "khaki", "olive", "lime",
    "indigo", "crimson", "burgundy", "lavender", "peach", "coral", "bronze", "copper",
    "reddish", "orangish", "yellowish", "greenish", "bluish", "purplish", "pinkish",
    "brownish", "blackish", "whitish", "greyish", "grayish",
})  # fmt: skip
_COLOUR_MODIFIERS = frozenset({"light", "dark", "bright", "pale", "deep", "and", "or"})
_POSITIONS = frozenset({
    "top", "bottom", "left", "right", "center", "centre", "middle", "upper", "lower", "corner",
    "topleft", "topright", "bottomleft", "bottomright",
})  # fmt: skip
_POSITION_FILLERS = frozenset({
    "the", "a", "at", "in", "on", "of", "to", "toward", "towards", "near", "side", "part",
    "area", "edge", "half", "hand", "image", "picture", "photo", "frame", "corner", "and",
})  # fmt: skip
_SHORT_PHRASE_WORDS = 4
_OPTION_PHRASE_WORDS = 6


def _is_count(plain: str) -> bool:
    words = plain.split()
    if not 1 <= len(words) <= 2 or not (words[0].isdigit() or words[0] in _NUMBER_WORDS):
        return False
    unit = words[1] if len(words) == 2 else None
    return unit is None or (unit.isalpha() and unit not in _NUMBER_WORDS and unit not in _YES_NO)


def _is_number(said: str) -> bool:
    text = said.strip().lower().rstrip(".").strip()
    words = text.split()
    if words and words[0] in _NUMBER_WORDS:  # "two", "two dollars"
        return len(words) <= 2 and all(w.isalpha() for w in words)
    return bool(re.search(r"\d", text)) and _NUMBER_FORM.fullmatch(text) is not None


def _names_one_option(plain: str, item: EvalItem) -> bool:
    said = normalize(plain)
    words = set(said.split())
    if words & _YES_NO or not said:
        return False
    if said in {normalize(a) for a in item.answers}:
        return True
    if not item.options:
        return len(said.split()) <= _SHORT_PHRASE_WORDS and " or " not in f" {said} "
    options = [normalize(o) for o in item.options]
    named = [o for o in options if o and re.search(rf"(?<!\w){re.escape(o)}(?!\w)", said)]
    named = [o for o in named if not any(o != other and o in other for other in named)]
    return len(set(named)) == 1 and len(said.split()) <= _OPTION_PHRASE_WORDS


def _is_colour(plain: str) -> bool:
    words = plain.split()
    return bool(words) and any(w in _COLOURS for w in words) and all(w in _COLOURS or w in _COLOUR_MODIFIERS for w in words)


def _is_image_position(plain: str) -> bool:
    words = plain.split()
    return any(w in _POSITIONS for w in words) and all(w in _POSITIONS or w in _POSITION_FILLERS for w in words)


def answer_has_form(prediction: str, item: EvalItem, *, choices: Sequence[str] | None = None) -> bool:
    """Whether ``prediction`` is an answer of the form ``item`` asks for, right or wrong.

    Conservative: only forms that are plainly wrong fail, and items with no rule below pass
    any non-empty answer. Rules, first match:

    - empty: never.
    - ``true_false`` items and the categories ``yes_no``, ``alternative``, ``compare``: never a
      bare score ("0.91") nor "not found in the image".
    - ``multiple_choice_letter``: a letter among the choices ("B", "(b)", "B."), optionally
      followed by that option's own text ("(B) no").
    - ``true_false`` or category ``yes_no``: exactly yes, no, true or false.
    - category ``count``: an integer (digits or a number word) and at most one unit noun ("3 people").
    - category ``number``: a number, with an optional currency or unit ("$3.50", "12 %", "3.5 km").
    - categories ``alternative`` and ``compare``: one gold answer; else, with ``options``,
      a short phrase (up to 6 words) naming exactly one option; without, one short phrase
      (up to 4 words, no "or"); never with yes/no.
    - category ``attribute`` asked about colour: colour words ("dark red", "red and white").
    - category ``place``: not an image position ("top-left", "at the center of the image").

    Example:
        >>> item = EvalItem(id="1", dataset="d", question="How many dogs?", images=["x.jpg"], answer="2",
        ...                 answer_type="short_answer", category="count")
        >>> answer_has_form("3 dogs", item), answer_has_form("There are 3 dogs.", item)
        (True, False)
    """
    said = prediction.strip()
    if not said:
        return False
    plain = _plain(said)
    category = item.category.strip().lower()
    asks_one_of = item.answer_type == "true_false" or category in ("yes_no", "alternative", "compare")
    if asks_one_of and (_BARE_SCORE.fullmatch(said) or NOT_FOUND in plain):
        return False
    if item.answer_type == "multiple_choice_letter":
        options = list(choices if choices is not None else item.choices)
        m = _LETTER_FORM.fullmatch(said)
        if m is None or m.group(1).upper() not in LETTERS[: len(options)]:
            return False
        rest = _plain(m.group(2) or "")
        return not rest or rest == _plain(options[LETTERS.index(m.group(1).upper())])
    if item.answer_type == "true_false" or category == "yes_no":
        return plain in _YES_NO
    if category == "count":
        return _is_count(plain)
    if category == "number":
        return _is_number(said)
    if category in ("alternative", "compare"):
        return _names_one_option(plain, item)
    if category == "attribute" and _COLOUR_QUESTION.search(item.question):
        return _is_colour(plain)
    if category == "place":
        return not _is_image_position(plain)
    return True
