"""Split a question into its parts where it asks several things, by rules.

"How many people are here, and is anyone on a bicycle?" asks two questions; "Is the
cat between the car and the bus?" asks one. ``split_question`` finds clause
boundaries from a small grammar: a boundary is a joiner (``,`` ``;`` ``and``
``also`` ``plus`` ``then`` ``as well as``, a new sentence) followed by the start
of a question clause (a wh-word, an auxiliary with a subject after it, "if so",
"whether", a request such as "tell me"). An "and" that joins two nouns, two
adjectives or two verbs never starts a clause, so names ("Marks and Spencer"),
pairs ("salt and pepper") and "between X and Y" stay whole.

Each part becomes a standalone question: politeness is taken off with the
analysis's own prefixes, an embedded clause is put in question order ("what
colour the bus is" -> "What colour is the bus?"), and what a part leaves out is
copied from the part before ("..., and how many dogs?" -> "How many dogs are
there?"). A later part that refers to an earlier one (a pronoun, "that one",
"if so") depends on it for its *subject*; one that computes with an earlier count
or price ("if three more joined", "two of them") depends on it for its *value*.

Nothing here reads the answer form: each part goes through ``analyze`` like any
question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentvlm.question.analysis import (
    _AUX,
    _DETERMINERS,
    _FRAME,
    _IMAGE_REF,
    _NUMBER_WORDS,
    _PREFIXES,
    _STOP,
    _singular,
    analyze,
)
from agentvlm.question.relations import RELATION_PHRASES

__all__ = ["Part", "Split", "arithmetic_of", "resolve", "split_question", "valid_split"]

Uses = Literal["value", "subject"]


class Part(BaseModel):
    """One part of a question, asked on its own.

    Attributes:
        text: The part as a standalone question ("Is anyone on a bicycle?"). A question of
            one part keeps the text as asked.
        depends_on: Index of an earlier part whose answer this one uses, else ``None``.
        uses: ``value``: it computes with the earlier answer as a number ("how many would
            there be if three more joined"); ``subject``: it refers to what the earlier part
            found ("what does it cost?").
        refers_to: For ``subject``: what the reference stands for when the earlier answer
            does not name it (a yes/no or a count): "the dog" in "Is there a dog? What is it doing?".
        condition: For "If so, ..." / "If not, ...": the earlier answer (``yes``/``no``) under
            which this part is asked at all.
    """

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1)
    depends_on: int | None = Field(default=None, ge=0)
    uses: Uses | None = None
    refers_to: str | None = None
    condition: Literal["yes", "no"] | None = None

    @model_validator(mode="after")
    def _paired(self) -> Part:
        if (self.depends_on is None) != (self.uses is None):
            raise ValueError(
                f"depends_on and uses go together; got depends_on={self.depends_on!r}, uses={self.uses!r}"
            )
        return self


class Split(BaseModel):
    """The parts of a question, in the order asked.

    Attributes:
        parts: One part when the question is whole.
        sure: ``False`` when the rules are unsure; a caller may then ask an LLM for a split
            and keep it only when ``valid_split`` accepts it.
    """

    model_config = ConfigDict(frozen=True)

    parts: list[Part] = Field(min_length=1)
    sure: bool = True

    @model_validator(mode="after")
    def _earlier(self) -> Split:
        for i, p in enumerate(self.parts):
            if p.depends_on is not None and p.depends_on >= i:
                raise ValueError(
                    f"part {i} depends_on {p.depends_on}, which is not an earlier part"
                )
        return self


# --- the small grammar -------------------------------------------------------------------

_AUX_WORDS = frozenset(_AUX.split("|")) | {"'s", "'re"}
_WH = r"what|which|whose|who|whom|where|when|why|how"
_WH_CONTRACTED = {"what's": "what is", "where's": "where is", "who's": "who is", "how's": "how is",
                  "what're": "what are", "where're": "where are", "who're": "who are"}  # fmt: skip
_PRONOUN_SUBJECTS = frozenset({
    "there", "it", "they", "he", "she", "you", "we", "i", "anyone", "anybody", "anything", "someone", "somebody",
    "something", "everyone", "everybody", "everything", "this", "that", "these", "those",
})  # fmt: skip
_SUBJECT_STARTS = (
    (_DETERMINERS - {"of", "many"})
    | _PRONOUN_SUBJECTS
    | {"people", "men", "women", "children", "kids"}
)
_SUBJ = "|".join(sorted((re.escape(w) for w in _SUBJECT_STARTS), key=len, reverse=True))
_REQUESTS = (
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|say|check|count|find|let)\b|tell\s+me\b|let\s+me\s+know\b|"
    r"i(?:'d| would)\s+(?:also\s+)?like\s+to\s+know\b|i\s+(?:also\s+)?want\s+to\s+know\b|"
    r"(?:count|describe|name|list|identify|read|estimate)\b"
)
# Where a question clause starts: a wh-word (not the free relative "what looks like"), an auxiliary
# with a subject after it, "if so", "whether", a conditional "if ..., how ...", a request.
_CLAUSE = re.compile(
    rf"(?:(?:{_WH})(?:'s|'re)?\b(?!\s+(?:looks?|appears?|seems?|might\s+be)\b)"
    rf"|(?:{_AUX})\s+(?:not\s+)?(?:{_SUBJ})\b"
    rf"|if\s+(?:so|not)\b|whether\b|if\b[^,?;]*,\s*(?:{_WH}|{_AUX})\b|{_REQUESTS})",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    rf"^(?:(?:{_WH})(?:'s|'re)?\b|(?:{_AUX})\b|whether\b|if\b|{_REQUESTS})", re.IGNORECASE
)
_JOINER = re.compile(r";|,|&|\band\b|\bplus\b|\bthen\b|\bas\s+well\s+as\b|\balso\b", re.IGNORECASE)
_MORE_JOINERS = re.compile(
    r"(?:\s*(?:,|;|&|\band\b|\balso\b|\bthen\b|\bplus\b|\bso\b))*\s*", re.IGNORECASE
)
_LEAD = re.compile(
    r"^(?:(?:and|also|plus|then|so|oh|ok|okay|but|hey|hi|please|kindly|quick\s+question|as\s+well\s+as|one\s+more\s+thing|another\s+thing)\b[,:]?\s*)+",
    re.IGNORECASE,
)
_ABOUT = re.compile(r"^(?:what|how)\s+about\s+", re.IGNORECASE)
_IF_SO = re.compile(r"^if\s+(so|not)\b[,:]?\s*", re.IGNORECASE)
_TRAILING_ALSO = re.compile(r"\s*,?\s+(?:too|as\s+well|also)\s*$", re.IGNORECASE)
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "e.g", "i.e", "vs", "etc", "no", "approx"}
)
_WEATHER_IT = re.compile(
    r"\bit(?:'s|\s+is|\s+was)?\s+(?:raining|snowing|sunny|cloudy|windy|foggy|cold|hot|warm|day|night|daytime|night-?time|"
    r"morning|afternoon|evening|winter|summer|spring|autumn|dark|light|late|early)\b|\btime\s+is\s+it\b|\bis\s+it\s+"
    r"(?:raining|snowing|sunny|cloudy|windy|foggy|cold|hot|warm|day|night|daytime|morning|afternoon|evening|winter|summer|"
    r"spring|autumn|dark|light|late|early)\b|\bhow\s+(?:late|early|far)\s+is\s+it\b",
    re.IGNORECASE,
)
_PREPOSITIONS = frozenset(
    {p.split()[0] for p in RELATION_PHRASES} | {"at", "with", "for", "from", "about", "among"}
)


_PLACE_PREPOSITIONS = frozenset({p.split()[0] for p in RELATION_PHRASES} | {"at"}) - {
    "by",
    "has",
    "have",
    "hold",
    "holds",
    "holding",
    "contain",
    "contains",
    "containing",
    "consist",
    "consists",
    "surround",
    "surrounds",
    "surrounding",
    "touch",
    "touches",
    "touching",
    "overlap",
    "overlaps",
    "overlapping",
    "a",
    "part",
}


def _np_like(text: str) -> bool:
    words = _words(text)
    return bool(words) and len(words) <= 5 and _np_end(words, 0) == len(words)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text)


def _finish(text: str, *, imperative: bool = False) -> str:
    """Capitalised, one space between words, ending in "?" (an imperative keeps its ".")."""
    t = " ".join(text.split()).strip(" ,;:.!?")
    t = t[:1].upper() + t[1:]
    return t + ("." if imperative else "?")


def _np_end(words: list[str], i: int) -> int:
    """The end of a noun phrase starting at ``words[i]``: a pronoun alone, else a determiner and the words
    up to the next word that frames a clause (an auxiliary, a preposition, a verb the analysis stops at)."""
    if i >= len(words):
        return i
    if words[i].lower() in _PRONOUN_SUBJECTS:
        return i + 1
    j = i + 1 if words[i].lower() in _DETERMINERS else i
    start = j
    while j < len(words) and j - start < 4:
        w = words[j].lower()
        if w in _STOP or w in _DETERMINERS or w in _AUX_WORDS or w in _PREPOSITIONS:
            break
        j += 1
    return j


def _plural(np: str) -> bool:
    words = np.lower().split()
    if not words:
        return False
    if "and" in words or words[0] in (
        "these",
        "those",
        "they",
        "both",
        "all",
        "two",
        "three",
        "four",
        "several",
        "many",
        "some",
    ):
        return True
    head = words[-1]
    return head in ("people", "men", "women", "children", "kids", "mice", "feet", "teeth") or (
        head.endswith("s") and not head.endswith(("ss", "us", "is")) and _singular(head) != head
    )


_NUMBER_AUX = {
    "is": "are",
    "was": "were",
    "does": "do",
    "has": "have",
    "isn't": "aren't",
    "wasn't": "weren't",
    "doesn't": "don't",
}


def _agree(aux: str, np: str) -> str:
    """``aux`` in the number of ``np`` ("is" + "the dogs" -> "are")."""
    singular = {v: k for k, v in _NUMBER_AUX.items()}
    low = aux.lower()
    if _plural(np):
        return _NUMBER_AUX.get(low, low)
    if np.lower().split()[:1] in (["you"], ["we"], ["i"]):
        return low
    return singular.get(low, low)


class _Clause(BaseModel):
    """A question clause read as wh-phrase + auxiliary + the rest, or auxiliary + the rest."""

    wh: str = ""  # "how many people", "what colour", "" for a yes/no clause
    aux: str = ""
    rest: list[str] = Field(default_factory=list)

    @property
    def subject_end(self) -> int:
        end = _np_end(self.rest, 0)
        if (
            not self.wh
            and end == len(self.rest)
            and end >= 3
            and self.rest[0].lower() in _DETERMINERS
        ):
            return end - 1  # "is the car red": the last word is what is said of it
        return end

    def text(self) -> str:
        return " ".join(w for w in [self.wh, self.aux, *self.rest] if w)


def _parse(text: str) -> _Clause | None:
    words = _words(text)
    if not words:
        return None
    first = words[0].lower()
    if first in _WH_CONTRACTED:
        words = [*_WH_CONTRACTED[first].split(), *words[1:]]
        first = words[0].lower()
    if re.fullmatch(_WH, first):
        i = 1
        if first == "how" and i < len(words) and words[i].lower() not in _AUX_WORDS:
            i += 1  # "how many", "how big"
        if first in ("what", "which", "whose") or words[i - 1].lower() in ("many", "much"):
            while i < len(words) and i < 5:
                w = words[i].lower()
                nxt = words[i + 1].lower() if i + 1 < len(words) else ""
                if (
                    w == "of"
                    and nxt
                    and nxt not in _STOP
                    and nxt not in _DETERMINERS
                    and nxt not in _AUX_WORDS
                ):
                    i += 1  # "what kind of car", "how many pieces of fruit"
                    continue
                if (
                    w in _STOP
                    or w in _DETERMINERS
                    or w in _AUX_WORDS
                    or w in _PRONOUN_SUBJECTS
                    or w in _PREPOSITIONS
                ):
                    break
                i += 1
        wh = " ".join(words[:i])
        if i < len(words) and words[i].lower() in _AUX_WORDS:
            return _Clause(wh=wh, aux=words[i], rest=words[i + 1 :])
        return _Clause(wh=wh, rest=words[i:])
    if first in _AUX_WORDS:
        return _Clause(aux=words[0], rest=words[1:])
    return None


def _base(verb: str) -> str:
    v = verb.lower()
    if v.endswith(("ches", "shes", "sses", "xes", "oes")):
        return v[:-2]
    if v.endswith("ies") and len(v) > 4:
        return v[:-3] + "y"
    return v[:-1] if v.endswith("s") and not v.endswith("ss") else v


def _direct(text: str) -> tuple[str, bool]:
    """An embedded question put in question order: "what colour the bus is" -> "what colour is the bus",
    "whether anyone is cycling" -> "is anyone cycling", "what the sign says" -> "what does the sign say".
    ``False`` when the words are not in an order this knows."""
    text = re.sub(r"\b(it|that|there|he|she)'s\b", r"\1 is", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(they|we|you)'re\b", r"\1 are", text, flags=re.IGNORECASE)
    m = re.match(r"^(?:whether|if)\s+", text, re.IGNORECASE)
    if m:
        head, rest = "", _words(text[m.end() :])
    else:
        c = _parse(text)
        if c is None or c.aux or not c.rest or c.rest[0].lower() not in _SUBJECT_STARTS:
            return (
                text,
                True,
            )  # already a question, or a wh-word that is the subject ("who painted it")
        head, rest = c.wh, c.rest
    end = _np_end(rest, 0)
    if end == 0 or end > len(rest):
        return text, False
    if end < len(rest) and rest[end].lower() in _AUX_WORDS:  # "the bus is" -> "is the bus"
        moved = [rest[end], *rest[:end], *rest[end + 1 :]]
    elif (
        end < len(rest)
        and re.fullmatch(r"[a-z]+s", rest[end])
        and rest[end].lower()
        not in _STOP - {"says", "reads", "shows", "opens", "closes", "costs", "comes", "looks"}
    ):
        moved = ["does", *rest[:end], _base(rest[end]), *rest[end + 1 :]]
    elif (
        end < len(rest)
        and re.fullmatch(r"[a-z]+", rest[end])
        and rest[end] not in _DETERMINERS
        and rest[end] not in _PREPOSITIONS
        and (_plural(" ".join(rest[:end])) or rest[0].lower() in ("you", "we", "i", "they"))
    ):
        moved = [
            "do",
            *rest[:end],
            *rest[end:],
        ]  # "whether they take cards" -> "do they take cards"
    elif end == len(rest) and rest and rest[-1].lower() in _AUX_WORDS:
        moved = [rest[-1], *rest[:-1]]
    else:
        return text, False
    return " ".join([head, *moved]).strip(), True


def _standalone(clause: str) -> tuple[str, bool, bool]:
    """A clause without its joiners and politeness, in question order: (text, imperative, ok)."""
    text = _TRAILING_ALSO.sub("", _LEAD.sub("", clause.strip(" ,;:"))).strip(" ,;:")
    conditional = re.match(
        rf"^if\s+(?!so\b|not\b)(?P<cond>[^,]+),\s*(?P<main>(?:{_WH}|{_AUX})\b.*)$",
        text,
        re.IGNORECASE,
    )
    if conditional:  # "if three more joined, how many would there be" -> "how many would there be if three more joined"
        text = f"{conditional.group('main').rstrip(' ?.!')} if {conditional.group('cond')}"
    asked = _PREFIXES.sub("", text, count=1) if _PREFIXES.match(text) else text
    if _ABOUT.match(text):
        return text, False, True
    if asked != text and (_QUESTION_START.match(asked) or re.match(r"^if\b", asked, re.IGNORECASE)):
        text = asked
        direct, ok = _direct(text)
        return direct, False, ok
    imperative = bool(
        re.match(r"^(?:count|describe|name|list|identify|read|estimate)\b", text, re.IGNORECASE)
    )
    if re.match(rf"^(?:whether|{_WH})\b|^if\b(?![^,]*,)", text, re.IGNORECASE):
        direct, ok = _direct(text)
        return direct, False, ok
    return text, imperative, True


def _boundaries(sentence: str) -> list[tuple[int, int]]:
    """(end of the clause before, start of the next) for every clause boundary in one sentence."""
    out: list[tuple[int, int]] = []
    last = 0
    for m in _JOINER.finditer(sentence):
        if m.start() < last:
            continue
        after = _MORE_JOINERS.match(sentence, m.end())
        start = after.end() if after else m.end()
        rest = sentence[start:]
        left = sentence[last : m.start()]
        joined = sentence[m.start() : start]
        if not _IF_SO.sub("", _LEAD.sub("", left.strip(" ,;"))).strip(" ,;") or not rest.strip():
            continue  # nothing asked before the joiner ("If so, what ...")
        clause = _CLAUSE.match(rest) or _ABOUT.match(rest)
        bare = False
        if (
            not clause
            and re.search(r",\s*(?:and|also|plus)\b", joined, re.IGNORECASE)
            and not _JOINER.search(rest)
            and len(_words(rest)) <= 5
        ):
            rest_words = _words(rest)
            bare = (
                bool(rest_words)
                and _np_end(rest_words, 0) == len(rest_words)
                and len(rest_words) <= 5
            )
        if not (clause or bare):
            continue
        if re.match(
            r"(?:do|would|don't)\s+you\s+(?:think|say|reckon|suppose|know|agree)\s*[?.!]*$",
            rest,
            re.IGNORECASE,
        ):
            continue  # "..., do you think?": a tag, not a question of its own
        asked_left = _LEAD.sub("", left.strip())
        if re.match(r"if\b", asked_left, re.IGNORECASE) and not _IF_SO.match(asked_left) and "," not in asked_left:
            continue  # "If I bought two, how much would I pay?": the condition belongs to the question after it
        if _PREFIXES.match(asked_left) and not _PREFIXES.sub("", asked_left, count=1).strip(" ,:"):
            continue  # "Tell me, what ...": a request with nothing asked yet
        if "," == joined.strip() and not (
            _QUESTION_START.match(_LEAD.sub("", left.strip())) and len(_words(rest)) >= 3
        ):
            continue  # "Look, what is that?", "Which is bigger, the cup or the plate?", tag questions
        low_left = left.lower()
        if re.search(r"\b(?:between|both)\b", low_left) and not re.search(
            r"\band\b", low_left.split("between")[-1]
        ):
            continue  # "between the car and ...": the and belongs to between
        wh = re.match(r"(who|which|whose|that)\b", rest, re.IGNORECASE)
        if wh and re.search(rf"\w\s+{wh.group(1)}\b", left, re.IGNORECASE):
            continue  # "a car which is red and which is parked": a relative clause goes on
        out.append((m.start(), start))
        last = start
        if clause and re.match(r"if\b", rest, re.IGNORECASE) and not _IF_SO.match(rest):
            last = start + clause.end()  # "if three more joined, how many ...": one clause
    return out


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for chunk in re.split(r"(?<=[?!])\s*(?=\S)", text):
        pieces = re.split(r"(?<=\.)\s+(?=\S)", chunk)
        merged: list[str] = []
        for p in pieces:  # "Mr. Smith": an abbreviation ends no sentence
            if (
                merged
                and (merged[-1].rstrip(".").split()[-1:] or [""])[0].lower() in _ABBREVIATIONS
            ):
                merged[-1] += " " + p
            else:
                merged.append(p)
        out += [p.strip() for p in merged if p.strip()]
    return out


def _is_question(sentence: str) -> bool:
    body = _TRAILING_ALSO.sub("", _LEAD.sub("", sentence.strip()))
    body = _IF_SO.sub("", body)
    return (
        sentence.rstrip().endswith("?")
        or bool(_QUESTION_START.match(body))
        or bool(_PREFIXES.match(body))
    )


# --- ellipsis ---------------------------------------------------------------------------


def _complete(text: str, before: str, *, sentence: bool = False) -> str | None:
    """``text`` with what it leaves out copied from the part ``before``; ``None`` when it cannot be
    completed. "how many dogs" after "How many people are there" -> "how many dogs are there"."""
    a = _parse(before)
    text = text.strip(" ?.!,;")
    adverbial = re.search(
        r"\s+(?:in\s+total|altogether|all\s+together|combined|in\s+all|together)\s*$",
        text,
        re.IGNORECASE,
    )
    if adverbial:  # "how many animals in total": the rest is said by the part before
        done = _complete(text[: adverbial.start()], before, sentence=sentence)
        return None if done is None else f"{done} {adverbial.group(0).strip()}"
    about = _ABOUT.match(text)
    if not about and _parse(text) is None and (_QUESTION_START.match(text) or not _np_like(text)):
        return text
    if about:
        text = text[about.end() :]
    b = _parse(text) if not about else None
    if a is None:
        return None if b is None else text
    if b is None:  # a bare noun phrase: "..., and the bus?"
        np = " ".join(_words(text))
        if not np:
            return None
        end = a.subject_end
        subject = " ".join(a.rest[:end]).lower()
        if (
            a.wh
            and re.match(r"^how\s+(?:many|much)\s+\w", a.wh, re.IGNORECASE)
            and subject in ("", "there")
        ):
            noun = re.sub(r"^(?:the|a|an|any|some)\s+", "", np, flags=re.IGNORECASE)
            head = " ".join(a.wh.split()[:2])
            return " ".join([head, noun, a.aux, *a.rest])
        if np.split()[0].lower() in _DETERMINERS:
            np = np[:1].lower() + np[1:]
        if sentence and not a.wh and subject == "there":  # "Are there any cars? Any bikes?"
            return f"{a.aux.lower()} there {np}"
        if end == 0 or subject in ("there", "you", "we", "i", "anyone", "anybody", "anything"):
            return None  # "Is there a cat, and a dog?": a list, not a second question
        aux = _agree(a.aux, np) if a.aux else ""
        return " ".join(w for w in [a.wh, aux, np, *a.rest[end:]] if w)
    if b.aux:
        if (
            re.fullmatch(r"how\s+(?:many|much)", b.wh, re.IGNORECASE)
            and a.wh.lower().startswith(b.wh.lower())
            and len(a.wh.split()) > 2
        ):
            return " ".join(
                [a.wh, b.aux, *b.rest]
            )  # "how many are standing" -> "how many people are standing"
        return text
    if not b.wh:
        return text
    if not b.rest:  # "how many dogs", "what size"
        if (
            not a.wh
            and a.rest[:1]
            and a.rest[0].lower() == "there"
            and re.fullmatch(r"how\s+(?:many|much)", b.wh, re.IGNORECASE)
        ):
            # "are there any bikes, and how many?" -> "how many bikes are there"
            things = [w for w in a.rest[1:] if w.lower() not in ("any", "some")]
            return " ".join([b.wh, *things, a.aux.lower(), "there"])
        if re.fullmatch(r"why|when|where|how", b.wh, re.IGNORECASE):
            if a.wh or not a.aux:
                return None  # "What is the man doing, and why?": no rule puts the why in
            return " ".join([b.wh, a.aux.lower(), *a.rest])  # "Is the woman happy, and why?"
        if not a.aux or not a.wh:
            return None
        return " ".join([b.wh, a.aux.lower(), *a.rest])
    end = _np_end(b.rest, 0)
    if b.rest[0].lower() in _SUBJECT_STARTS and end == len(b.rest) and a.aux:  # "where the dog"
        np = " ".join(b.rest)
        return " ".join([b.wh, _agree(a.aux, np), np, *a.rest[a.subject_end :]])
    if (
        b.rest[0].lower() in _PLACE_PREPOSITIONS
        and a.aux
        and not any(w.lower() in _AUX_WORDS for w in b.rest)
    ):  # "who on the right"
        return " ".join([b.wh, a.aux, *b.rest])
    return text


# --- dependence -------------------------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+couple(?:\s+of)?|a\s+dozen|another|a|an"
_NUM_VALUES = {**{k: float(v) for k, v in _NUMBER_WORDS.items()}, "another": 1.0, "a": 1.0, "an": 1.0, "a dozen": 12.0,
               "a couple": 2.0}  # fmt: skip
_JOINED = r"join(?:ed|s)?|c(?:a|o)me|arrived?|turned\s+up|showed\s+up|got\s+on|walked\s+in|sat\s+down|were\s+added|was\s+added|added|were\s+bought|bought"
_LEFT = r"left|leave|went(?:\s+away|\s+home)?|go(?:es)?\s+away|got\s+off|walked\s+(?:away|off|out)|drove\s+(?:away|off)|were\s+removed|was\s+removed|removed|were\s+taken(?:\s+away)?|were\s+eaten|was\s+eaten|ate|broke|were\s+sold|sold|flew\s+away"
_ARITHMETIC: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("*", re.compile(r"\b(?P<n>twice|double|triple)\b|\b(?P<k>" + _NUM + r")\s+times\s+(?:as|more|the|that|this|it)\b", re.IGNORECASE)),
    ("/", re.compile(r"\b(?P<n>half)\b|\b(?:split|shared|divided)\s+(?:equally\s+|evenly\s+)?(?:between|among|by)\s+(?P<k>" + _NUM + r")\b", re.IGNORECASE)),
    ("+", re.compile(r"\bif\s+(?P<k>" + _NUM + r")\s+(?:more\s+|extra\s+|other\s+)?(?:\w+\s+){0,2}?(?:" + _JOINED + r")\b|"
                     r"\b(?P<k2>" + _NUM + r")\s+(?:more|extra|additional)\b(?!\s+than\b)|\bplus\s+(?P<k3>" + _NUM + r")\b|\badd(?:ed)?\s+(?P<k4>" + _NUM + r")\b", re.IGNORECASE)),
    ("-", re.compile(r"\bif\s+(?P<k>" + _NUM + r")\s+(?:of\s+them\s+|of\s+those\s+)?(?:\w+\s+){0,2}?(?:" + _LEFT + r")\b|"
                     r"\b(?P<k2>" + _NUM + r")\s+(?:fewer|less)\b(?!\s+than\b)|\bminus\s+(?P<k3>" + _NUM + r")\b|"
                     r"\bwithout\s+(?P<k4>" + _NUM + r")\b|\btake\s+away\s+(?P<k5>" + _NUM + r")\b", re.IGNORECASE)),
    ("*", re.compile(r"\b(?P<k>" + _NUM + r")\s+(?:of\s+(?:them|those|these|it|each)|(?:\w+\s+)?(?:cost|costs|would\s+cost|come\s+to))\b|"
                     r"\bfor\s+(?P<k2>" + _NUM + r")\s*(?:people|persons|of\s+us|of\s+them)?\s*[?.!]*$|\bbuy\s+(?P<k3>" + _NUM + r")\b", re.IGNORECASE)),
)  # fmt: skip
_VALUE = re.compile(
    r"\bif\s+(?:"
    + _NUM
    + r")\b|\b(?:"
    + _NUM
    + r")\s+(?:more|fewer|less|extra|additional)\b|\bhow\s+many\s+more\b|\bhow\s+much\s+more\b|"
    r"\bin\s+total\b|\baltogether\b|\ball\s+together\b|\bcombined\b|\bin\s+all\b|\btogether\b|\b(?:twice|double|triple|half)\b|"
    r"\b(?:"
    + _NUM
    + r")\s+(?:of\s+(?:them|those|these|each)|times)\b|\b(?:"
    + _NUM
    + r")\s+(?:\w+\s+)?(?:would\s+)?cost\b(?!\s+(?:more|less))|"
    r"\b(?:split|shared|divided)\s+(?:equally\s+|evenly\s+)?(?:between|among)\b|\bfor\s+(?:"
    + _NUM
    + r")\s*(?:people|of\s+us|of\s+them)?\s*[?.!]*$|"
    r"\bbuy\s+(?:" + _NUM + r")\b|\bthe\s+(?:sum|difference|total)\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(?:it|its|they|them|their|theirs|he|she|him|his|hers)\b|\b(?:that|this|the|the\s+same)\s+one\b|"
    r"\b(?:those|these)\b(?!\s+(?:are|is)\s+there)|\bwhich\s+one\b|\bthe\s+(?:latter|former)\b",
    re.IGNORECASE,
)


def _referent(earlier: str) -> str | None:
    """What the earlier part asked about, as a definite noun phrase ("the cheapest drink")."""
    q = analyze(earlier)
    if not q.targets:
        return None
    phrase = q.targets[0].phrase
    return phrase if re.match(r"^(?:the|this|that|these|those)\b", phrase) else f"the {phrase}"


def _definite_ref(text: str, earlier: str) -> bool:
    """ "that drink", "the same car": a demonstrative before a noun the earlier part named."""
    if re.match(r"^(?:what|which)\b", earlier, re.IGNORECASE) and re.search(
        r"\b(?:that|this|those|these)\s+(?!one\b|is\b|are\b)[a-z]+", text, re.IGNORECASE
    ):
        return (
            True  # "What is the most expensive item, and is that dish vegetarian?": the thing found
        )
    nouns = {_singular(w) for w in _words(earlier.lower())} - _STOP - _FRAME
    return any(
        _singular(m.group(1)) in nouns
        for m in re.finditer(
            r"\b(?:that|this|those|these|the\s+same|said)\s+(\w+)", text, re.IGNORECASE
        )
    )


def _depends(parts: list[str], conditions: list[str | None]) -> list[Part]:
    out: list[Part] = []
    forms: list[str] = []
    for i, text in enumerate(parts):
        forms.append(analyze(text).form)
        cond = conditions[i]
        if i == 0:
            out.append(Part(text=text))
            continue
        if cond is not None:
            out.append(
                Part(
                    text=text,
                    depends_on=i - 1,
                    uses="subject",
                    refers_to=_referent(parts[i - 1]),
                    condition="yes" if cond == "so" else "no",
                )
            )
            continue
        if _VALUE.search(text):
            source = next(
                (j for j in range(i - 1, -1, -1) if forms[j] in ("count", "number")), i - 1
            )
            out.append(Part(text=text, depends_on=source, uses="value"))
            continue
        plain = _WEATHER_IT.sub(" ", text)
        if _REFERENCE.search(plain) or _definite_ref(plain, parts[i - 1]):
            out.append(
                Part(text=text, depends_on=i - 1, uses="subject", refers_to=_referent(parts[i - 1]))
            )
            continue
        out.append(Part(text=text))
    return out


# --- the public surface -----------------------------------------------------------------


def split_question(text: str) -> Split:
    """The parts of ``text``, by rules: one part when it asks one thing.

    Example:
        >>> s = split_question("How many people are in the picture? And how many would there be if three more joined?")
        >>> [p.text for p in s.parts], s.parts[1].depends_on, s.parts[1].uses
        (['How many people are in the picture?', 'How many people would there be if three more joined?'], 0, 'value')
        >>> [p.text for p in split_question("Is the cat between the car and the bus?").parts]
        ['Is the cat between the car and the bus?']
    """
    whole = Split(parts=[Part(text=text.strip() or text)])
    q = " ".join(text.replace("’", "'").split())
    if not q:
        return whole
    sure = True
    clauses: list[tuple[str, str | None]] = []  # (clause, "so"/"not" for "if so/not")
    new_sentence: list[bool] = []
    context = ""
    for sentence in _sentences(q):
        if not _is_question(sentence):
            context = (
                f"{context} {sentence}".strip()
            )  # "Look at the sign.": said for the question after it
            continue
        cuts = _boundaries(sentence)
        starts = [0, *[b for _, b in cuts]]
        ends = [a for a, _ in cuts] + [len(sentence)]
        for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
            piece = sentence[a:b]
            lead = _LEAD.sub("", piece.strip(" ,;"))
            cond = _IF_SO.match(lead)
            clause = lead[cond.end() :] if cond else piece
            if context and k == 0:
                clause = f"{context} {clause}"
                context = ""
            clauses.append((clause, cond.group(1).lower() if cond else None))
            new_sentence.append(k == 0)
    if (
        context and clauses
    ):  # a closing instruction ("Answer in one word.") stays with the last part
        clauses[-1] = (f"{clauses[-1][0]} {context}", clauses[-1][1])
    if len(clauses) <= 1:
        return whole
    texts: list[str] = []
    for i, (clause, _) in enumerate(clauses):
        if re.match(r"^\s*[A-Z][^?]*\.\s", clause):  # context sentence in front: keep as said
            texts.append(
                _finish(clause) if not clause.rstrip().endswith((".", "?")) else clause.strip()
            )
            continue
        standalone, imperative, ok = _standalone(clause)
        sure = sure and ok
        if texts:
            completed = _complete(standalone, texts[-1], sentence=new_sentence[i])
            if completed is None:
                return Split(parts=whole.parts, sure=False)
            standalone = completed
        texts.append(_finish(standalone, imperative=imperative))
    # "How many cats and how many dogs are there?": the first part borrows the verb of the next.
    for i in range(len(texts) - 2, -1, -1):
        first, then = _parse(texts[i]), _parse(texts[i + 1])
        if (
            first
            and then
            and first.wh
            and not first.aux
            and not first.rest
            and then.aux
            and len(first.wh.split()) > 2
            and then.wh[:3].lower() == first.wh[:3].lower()
        ):
            texts[i] = _finish(" ".join([first.wh, then.aux, *then.rest]))
    if any(len(_words(t)) < 2 for t in texts) or len(texts) > 4:
        return Split(parts=whole.parts, sure=False)
    return Split(parts=_depends(texts, [c for _, c in clauses]), sure=sure)


_SPELLING = {"colour": "color", "colours": "color", "grey": "gray", "centre": "center", "metre": "meter",
             "metres": "meter", "favourite": "favorite", "neighbourhood": "neighborhood", "aeroplane": "airplane"}  # fmt: skip
# Words a split may add or drop: they frame a question, join clauses or point back; all others are content.
_FUNCTION_WORDS = (_DETERMINERS - {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "no"}) | _AUX_WORDS | _PRONOUN_SUBJECTS | {
    "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "and", "or", "also", "plus", "then", "so", "if",
    "whether", "tell", "me", "know", "let", "like", "want", "wonder", "please", "kindly", "too", "here", "be", "been", "being",
    "not", "same", "one", "ones", "latter", "former", "said", "oh", "but", "hey", "hi", "ok", "okay", "quick", "question",
    "about", "as", "well", "to", "them", "him", "her", "its", "their", "us", "do", "did", "think", "many", "much",
}  # fmt: skip


def _content(text: str) -> set[str]:
    out = set()
    for w in _words(_IMAGE_REF.sub(" ", text.replace("’", "'")).lower()):
        w = re.sub(r"'(?:s|re|d|ll|ve|m)$", "", w)
        w = _SPELLING.get(w, w)
        if w in _FUNCTION_WORDS:
            continue
        w = (
            _singular(_base(w))
            if w.endswith("s") and w not in ("this", "is", "was", "has", "does")
            else w
        )
        w = _SPELLING.get(w, w)
        if w not in _FUNCTION_WORDS:
            out.add(w)
    return out


def valid_split(text: str, parts: Sequence[str]) -> bool:
    """Whether a proposed split of ``text`` (an LLM's, say) is acceptable: 1 to 4 parts, each a
    question (a wh-word, an auxiliary or a request first, or a "?" last), no content word that
    ``text`` lacks, and every content word of ``text`` in some part.

    Example:
        >>> valid_split("How many people are here, and is anyone on a bicycle?",
        ...             ["How many people are here?", "Is anyone on a bicycle?"])
        True
        >>> valid_split("How many people are here, and is anyone on a bicycle?", ["How many people are here?"])
        False
    """
    items = [" ".join(p.split()) for p in parts]
    if (
        not 1 <= len(items) <= 4
        or any(not p for p in items)
        or len({p.lower() for p in items}) < len(items)
    ):
        return False
    for p in items:
        body = _IF_SO.sub("", _LEAD.sub("", p))
        if not (p.endswith("?") or _QUESTION_START.match(body) or _PREFIXES.match(body)):
            return False
    asked = _content(text)
    said = set().union(*(_content(p) for p in items))
    return said == asked


def resolve(part: Part, earlier: str) -> str:
    """The part's text with the earlier answer put in, for a part that ``uses`` its ``subject``.

    The reference ("it", "they", "that one", "that drink") becomes the earlier answer when it names
    something ("tea" -> "the tea"), else (a yes/no, a count) what the earlier part asked about
    (``refers_to``). A ``value`` part comes back unchanged: a program computes it (``arithmetic_of``).

    Example:
        >>> resolve(Part(text="What does it cost?", depends_on=0, uses="subject"), "tea")
        'What does the tea cost?'
        >>> resolve(Part(text="What is it doing?", depends_on=0, uses="subject", refers_to="the dog"), "yes")
        'What is the dog doing?'
    """
    if part.uses != "subject":
        return part.text
    answer = " ".join(earlier.split()).strip(" .!?")
    low = answer.lower()
    if (
        not answer
        or low in ("yes", "no", "yeah", "nope", "none", "unknown")
        or re.fullmatch(r"[\d.,]+|" + _NUM, low)
    ):
        referent = part.refers_to
    elif (
        re.match(r"^(?:the|a|an|this|that|these|those|my|his|her|their)\b", low)
        or answer[:1].isupper()
        or answer[:1].isdigit()
    ):
        referent = answer
    else:
        referent = f"the {answer}"
    if not referent:
        return part.text
    text = part.text
    shielded = {m.span() for m in _WEATHER_IT.finditer(text)}

    def put(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in shielded):
            return m.group(0)
        said = m.group(0).lower()
        return f"{referent}'s" if said in ("its", "their") else referent

    pattern = re.compile(
        r"\b(?:(?:that|this|the\s+same)\s+one|the\s+one|(?:that|this|those|these)\s+(?!one\b)\w+(?<!\bis)(?<!\bare)|its|their|it|they|them)\b",
        re.IGNORECASE,
    )
    out = pattern.sub(put, text)
    return out[:1].upper() + out[1:]


def arithmetic_of(part: Part) -> tuple[str, float] | None:
    """For a part that ``uses`` an earlier ``value``: the operation to apply to that value.

    Example:
        >>> arithmetic_of(Part(text="How many would there be if three more joined?", depends_on=0, uses="value"))
        ('+', 3.0)
        >>> arithmetic_of(Part(text="How much would two of them cost?", depends_on=0, uses="value"))
        ('*', 2.0)
    """
    if part.uses != "value":
        return None
    for op, pattern in _ARITHMETIC:
        m = pattern.search(part.text)
        if m is None:
            continue
        said = next((g for g in m.groupdict().values() if g), "")
        said = " ".join(said.lower().split())
        if said in ("twice", "double"):
            return op, 2.0
        if said == "triple":
            return op, 3.0
        if said == "half":
            return op, 2.0
        value = _NUM_VALUES.get(said.removesuffix(" of"))
        if value is None:
            try:
                value = float(said)
            except ValueError:
                continue
        return op, value
    return None
