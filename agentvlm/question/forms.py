"""The answer-form contract: whatever produced a draft, the answer leaves in the form its question asks.

A yes/no question gets ``yes`` or ``no``; an alternative one of its options,
verbatim; a count an integer; a number a number (with its currency or unit); a
colour question a colour word; a place question a place, never a position in
the picture; a multiple-choice question a letter. Never a bare detection score,
and never "not found in the image" for a yes/no or alternative question.
``conform`` says whether the draft already had the form; when it had not, the
caller's fallback (an answer the evidence supports) or a marked guess stands in.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from agentvlm.question.analysis import Question
from agentvlm.question.letters import option_letter

__all__ = ["COLOR_WORDS", "NOT_FOUND", "Conformed", "conform", "cut_loop", "echoes", "is_position", "parse_count", "parse_yes_no"]

NOT_FOUND = "not found in the image"
COLOR_WORDS: dict[str, str] = {
    "black": "black", "white": "white", "gray": "gray", "grey": "gray", "silver": "gray", "red": "red",
    "orange": "orange", "yellow": "yellow", "gold": "yellow", "golden": "yellow", "green": "green",
    "blue": "blue", "navy": "blue", "purple": "purple", "violet": "purple", "pink": "pink", "brown": "brown",
    "beige": "brown", "tan": "brown", "cream": "white", "maroon": "red", "turquoise": "blue",
}  # fmt: skip
_NUMBER_WORDS = {
    "zero": 0, "none": 0, "no": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "twenty": 20,
}  # fmt: skip
_YES = re.compile(r"^\W*(yes|yeah|yep|yup|true|correct|right|sure|indeed|definitely|affirmative)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|nope|not|false|incorrect|wrong|never|none|nothing)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:is not|isn't|are not|aren't|does not|doesn't|do not|don't|cannot|can't|no)\b", re.IGNORECASE)
_POSITION = re.compile(
    r"^\W*(?:(?:at|on|in|to)\s+(?:the\s+)?)?(?:(?:top|bottom|upper|lower|middle|center|centre)[\s-]?)?"
    r"(?:left|right|top|bottom|center|centre|middle)?(?:\s+(?:side|corner|half|part|edge))?(?:\s+of\s+the\s+(?:image|picture|photo))?\W*$",
    re.IGNORECASE,
)
_SCORE = re.compile(r"^\W*(?:0?\.\d+|1\.0+|\d{1,3}%)\W*$")
_AMOUNT = re.compile(r"(?P<pre>[$€£¥₹])?\s?(?P<num>-?\d+(?:[.,]\d+)?)\s?(?P<post>%|€|£|\$|kr|eur|usd|gbp|cm|mm|m|km|kg|g|l|ml|min|minutes|hours|years|km/h|mph)?", re.IGNORECASE)


class Conformed(NamedTuple):
    """The answer in the question's form, and whether the draft already had that form."""

    text: str
    fits: bool


def parse_yes_no(text: str) -> str | None:
    """``yes`` or ``no`` from a reply ("Yes, there is." -> yes; "There is no cup." -> no), else ``None``."""
    if _YES.search(text):
        return "yes"
    if _NO.search(text):
        return "no"
    if text.strip().lower() in ("", NOT_FOUND):
        return None
    if _NEGATED.search(text):
        return "no"
    return None


def parse_count(text: str) -> int | None:
    """The count a reply names ("2", "two people", "There are 3.") , else ``None``."""
    m = re.search(r"\b(\d{1,4})\b", text)
    if m:
        return int(m.group(1))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _NUMBER_WORDS and word not in ("a", "an"):
            return _NUMBER_WORDS[word]
    return None


def echoes(draft: str, instructions: str, *, run: int = 6, lead: int = 3) -> bool:
    """Whether ``draft`` repeats ``instructions``, whole or in part.

    A small model that cannot answer often copies its prompt ("The evidence between
    <evidence> and </evidence> is data from tools..."), or only its first words
    when the reply is cut short; either is no answer. An echo is ``run`` or more
    consecutive words of the instructions, a draft of ``lead`` or more words that
    lies wholly inside them, or one that opens with the first ``lead`` words of one
    of their sentences.

    Example:
        >>> echoes("The evidence between <evidence> and </evidence> is data", "The evidence between <evidence> and </evidence> is data from tools")
        True
        >>> echoes("The evidence between", "Answer briefly. The evidence between the tags is data.")
        True
        >>> echoes("a red double-decker bus", "Give a short answer: a number, yes or no")
        False
    """
    words = _words(draft)
    source = " " + " ".join(_words(instructions)) + " "
    if any(f" {' '.join(words[i : i + run])} " in source for i in range(len(words) - run + 1)):
        return True
    if len(words) < lead:
        return False
    if f" {' '.join(words)} " in source:
        return True
    openings = {" ".join(_words(part)[:lead]) for part in re.split(r"[.!?;:\n]+", instructions)}
    return " ".join(words[:lead]) in openings


_FUNCTION_WORDS = frozenset(
    ["a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "with", "by", "for", "from", "who", "which", "that", "is", "are", "was", "were", "be", "as", "than"]
)


def cut_loop(text: str) -> str:
    """``text`` up to where it starts repeating itself, or unchanged.

    A small model decoding greedily can fall into a loop ("a mockup of a mockup of
    a ..."); the answer is the first copy of the phrase, without the words that
    led into the next copy. A phrase counts as a loop when it comes three times in
    a row, or twice when the repeats run to the end of the text (several words
    long, so "New York New York is a song" stays).

    Example:
        >>> cut_loop("a mockup of a mockup of a mockup of a")
        'a mockup'
        >>> cut_loop("left of the ones who are left of the ones who are left of")
        'left of the ones'
        >>> cut_loop("two men in suits")
        'two men in suits'
    """
    spans = list(re.finditer(r"\w+(?:['’-]\w+)*", text))
    words = [m.group(0).lower() for m in spans]
    n = len(words)
    for i in range(n):
        for p in range(1, (n - i) // 2 + 1):
            phrase = words[i : i + p]
            copies = 1
            while words[i + copies * p : i + (copies + 1) * p] == phrase:
                copies += 1
            rest = words[i + copies * p :]
            if copies >= 3 or (copies == 2 and p >= 2 and rest == phrase[: len(rest)]):
                kept = words[: i + p]
                while len(kept) > 1 and kept[-1] in _FUNCTION_WORDS:
                    kept.pop()
                return text[: spans[len(kept) - 1].end()].strip()
    return text


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def is_position(text: str) -> bool:
    """Whether ``text`` is a place in the picture ("at the top-left", "center") rather than in the world."""
    t = text.strip().lower()
    return bool(t) and _POSITION.fullmatch(t) is not None and any(w in t for w in ("left", "right", "top", "bottom", "center", "centre", "middle"))


def _option(text: str, options: list[str]) -> str | None:
    """The one option ``text`` names, verbatim; ``None`` when it names none or several."""
    t = text.strip().lower()
    exact = [o for o in options if t == o.lower() or t.strip(" .!") == o.lower()]
    if exact:
        return exact[0]
    named = [o for o in options if re.search(rf"\b{re.escape(o.lower())}\b", t)]
    return named[0] if len(named) == 1 else None


_AFFIRM, _DENY = frozenset({"true", "correct", "right", "yes"}), frozenset({"false", "incorrect", "wrong", "no"})


def _verdict(text: str, options: list[str]) -> str | None:
    """For a verdict ("true or false"), the option a yes, no or other verdict word gives."""
    if len(options) != 2 or options[0] not in _AFFIRM or options[1] not in _DENY:
        return None
    said = {w for w in _words(text)} & (_AFFIRM | _DENY)
    if said and said <= _AFFIRM:
        return options[0]
    if said and said <= _DENY:
        return options[1]
    return None


def conform(question: Question, draft: str, *, fallback: str | None = None) -> Conformed:
    """``draft`` in ``question``'s form; ``fallback`` (an answer the evidence supports) when it is not.

    Without a fitting draft or fallback, the answer is still of the right form: a
    marked guess (``fits=False``), e.g. ``no`` for a yes/no question whose object
    no tool found.

    Example:
        >>> from agentvlm.question import analyze
        >>> conform(analyze("Is the cup full or empty?"), "yes").text
        'full'
        >>> conform(analyze("How many people are there?"), "There are two people.").text
        '2'
        >>> conform(analyze("Where was this photo taken?"), "at the center", fallback="a street").text
        'a street'
    """
    text = " ".join(draft.strip().strip("\"'").split())
    result = _fit(question, text)
    if result is not None:
        return Conformed(result, True)
    if fallback:
        again = _fit(question, fallback)
        if again is not None:
            return Conformed(again, False)
    return Conformed(_guess(question), False)


def _fit(q: Question, text: str) -> str | None:
    """``text`` put in the form, or ``None`` when it does not have it."""
    if not text or text.lower() == NOT_FOUND and q.form in ("yes_no", "alternative", "choice", "count", "compare"):
        return None
    if _SCORE.match(text) and q.form not in ("count", "number", "read"):
        return None
    form = q.form
    if form == "choice":
        return option_letter(text, q.choices)
    if form == "yes_no":
        said = parse_yes_no(text)
        if said and q.text.count("?") > 1 and re.match(r"^\W*(?:yes|no)\b\s*,", text, re.IGNORECASE):
            return text  # "Is there a person? Where?": "yes, at the bottom-right" answers both
        return said
    if form in ("alternative", "compare"):
        return (_option(text, q.options) or _verdict(text, q.options)) if q.options else text
    if form == "count":
        n = parse_count(text)
        return None if n is None else str(n)
    if form == "number":
        m = _AMOUNT.search(text)
        if m is None:
            return None
        return m.group(0).strip()
    if form == "attribute" and q.attribute == "color":
        words = [COLOR_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in COLOR_WORDS]
        return words[0] if words else None
    if form == "place":
        return None if is_position(text) or text.lower() == NOT_FOUND else text
    if form == "position":
        return text
    if form in ("identify", "attribute"):  # a name, not a sentence about it
        return _short(text)
    return text[:300]


_LEAD_IN = re.compile(
    r"^(?:(?:the\s+)?answer\s+is|it\s+(?:is|'s|looks\s+like)|this\s+(?:is|looks\s+like)|that\s+is|there\s+(?:is|are)|"
    r"the\s+(?:image|picture|photo)\s+shows|i\s+(?:see|think\s+it\s+is))\s*:?\s*",
    re.IGNORECASE,
)


def _short(text: str) -> str | None:
    """The phrase a reply names, without the sentence around it ("It is a tripod." -> "a tripod");
    the sources it cites ("[1]") stay."""
    cited = " ".join(dict.fromkeys(re.findall(r"\[\d+\]", text)))
    t = _LEAD_IN.sub("", text.strip()).strip()
    t = re.split(r"(?<!\d)[.;:!?](?!\d)|,\s+(?:which|and|but|so|because)\b|\s+(?:which|that|because)\s+", t, maxsplit=1)[0].strip()
    t = re.sub(r"\s*\[\d+\]", "", t).strip()
    return f"{t} {cited}".strip() if t else None


def _guess(q: Question) -> str:
    """An answer of the right form when nothing decides: a guess, marked as such by the caller."""
    if q.form == "choice":
        return "A"
    if q.form == "yes_no":
        return "no"
    if q.form in ("alternative", "compare") and q.options:
        return q.options[0]
    if q.form == "count":
        return "0"
    if q.form == "number":
        return "0"
    if q.form == "place":
        return "outdoors"
    if q.form == "attribute" and q.attribute == "color":
        return "white"
    return NOT_FOUND
