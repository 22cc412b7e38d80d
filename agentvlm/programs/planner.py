"""Turn a question's analysis into a ``Program``; the LLM writes one only where the analysis has none.

``rules_program`` reads ``agentvlm.question.Question`` (form, targets, relation,
options, attribute) and gives the operation that decides it, or ``None`` where
code cannot decide that form (a place, a name, a free-text answer). With
``planner="llm"`` the LLM (few-shot prompt ``prompts/program.yaml``, under the
Program JSON schema) is asked for the questions the rules leave, and its program
is kept only if it names things the question names; ``repair`` checks an LLM
program against the analysis and rejects, rather than rewrites, one that
disagrees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from agentvlm.errors import ModelError
from agentvlm.evidence.colors import COLOR_NAMES, color_name
from agentvlm.graph.services import Recorder, Services
from agentvlm.programs.executor import resolve
from agentvlm.programs.language import Program
from agentvlm.question import Question, analyze
from agentvlm.question.forms import parse_count

__all__ = ["Planned", "llm_program", "plan_program", "repair", "rules_program"]

Planned = tuple[Program, str]  # the program and which path made it: llm or rules
_FORM = {"choice": "option", "yes_no": "yes_no", "count": "number", "number": "number"}
_POSITIONS = ("left", "right", "top", "bottom", "center", "middle")
_SIZE_WORDS = re.compile(r"\b(?:bigg?|larg|small|tall|short|long|huge|tin)(?:g?er|g?est|ier|iest|r|st)\b", re.IGNORECASE)
_DEPTH_WORDS = re.compile(r"\b(?:clos|near)(?:er|est|r|st)\b|\bfurthe(?:r|st)\b|\bfarthe(?:r|st)\b", re.IGNORECASE)
_COUNT_WORDS = re.compile(r"\b(?:more|most|fewer|fewest|less|least)\b", re.IGNORECASE)
_LEFT_WORDS = re.compile(r"\b(?:further|more)\s+(?:to the\s+)?left\b|\bleftmost\b", re.IGNORECASE)
# The operations that can answer each form, for the programs an LLM writes where the rules have none.
_LLM_OPS: dict[str, tuple[str, ...]] = {
    "yes_no": ("exists", "relation", "count", "color", "position", "compare", "read"),
    "choice": ("exists", "relation", "count", "color", "position", "compare", "read"),
    "count": ("count",), "attribute": ("color",), "position": ("position", "find"), "compare": ("compare",),
    "read": ("read",),
}
_NUMBER_ASKED = re.compile(r"\b(?:number|code|digits?|phone|serial|licen[cs]e plate|registration)\b(?!\s+of\b)", re.IGNORECASE)
_TEXT_UNITS = {"letter": "letter", "character": "letter", "word": "word", "digit": "digit", "number": "digit", "line": "line"}
_PICTURE = re.compile(r"\b(?:this|that|these|photo(?:graph)?|picture|image|pic|background|scene)\b", re.IGNORECASE)
_TIME = re.compile(r"\bwhat\s+time\b|\bwhen\b|\b(?:opening|closing)\s+(?:hours|times?)\b|\bhours\b|\bhow\s+late\b", re.IGNORECASE)


def _q(question: str | Question, choices: Sequence[str]) -> Question:
    return question if isinstance(question, Question) else analyze(question, choices)


def _program(op: str, target: str, form: str, **fields: str) -> Program:
    return Program.model_validate(
        {"op": op, "target": target, "other": "", "relation": "none", "attribute": "none", "value": "", "answer": form, **fields}
    )


def _name(t: object) -> str | None:
    """What a program calls a target: its detector class, ``text`` for things that carry writing."""
    label, bearing = getattr(t, "label", None), getattr(t, "text_bearing", False)
    return label or ("text" if bearing else None)


def _comparison(q: Question) -> str:
    words = q.text
    if _DEPTH_WORDS.search(words):
        return "depth"
    if _LEFT_WORDS.search(words):
        return "position"
    if _COUNT_WORDS.search(words) and not _SIZE_WORDS.search(words):
        return "count"
    return "size"


def _colour_program(q: Question, form: str) -> Program | None:
    """The colour program for what the question names: the picture itself when it names no
    thing ("What colour is this?"), its background, the text, or the thing that carries it."""
    value = color_name(q.value) or q.value if q.form == "yes_no" else ""
    if q.form == "yes_no" and not value or q.form == "alternative" and not all(color_name(o.split()[-1]) for o in q.options):
        return None
    if not q.targets:
        if not _PICTURE.search(q.text):
            return None
        return _program("color", "background" if re.search(r"\bbackground\b", q.text, re.IGNORECASE) else "picture", form, value=value)
    first = q.targets[0]
    if first.text_bearing and not first.label:
        return _program("color", first.noun, form, value=value)
    return None


def rules_program(question: str | Question, choices: Sequence[str] = ()) -> Program | None:
    """The program the question's analysis gives, or ``None`` when code cannot decide its form.

    Example:
        >>> rules_program("Is the car beneath the cat?", ["yes", "no"]).brief()
        'relation(car, cat, under) -> option'
    """
    q = _q(question, choices)
    form = _FORM.get(q.form, "text")
    names = [n for n in (_name(t) for t in q.targets) if n]
    a = names[0] if names else None
    if q.form == "read":
        first = q.targets[0] if q.targets else None
        target = first.label if first is not None and first.label else "text"
        kind = ("end time" if q.reads_end else "time") if _TIME.search(q.text) else "number" if _NUMBER_ASKED.search(q.text) else ""
        return _program("read", target, form, value=kind)
    if q.attribute == "color" and q.form in ("yes_no", "alternative", "attribute"):
        colour = _colour_program(q, form)
        if colour is not None or a is None:
            return colour
    if q.form in ("number", "open", "place", "identify") or a is None:
        return None
    if q.form == "count":
        unit = _TEXT_UNITS.get(q.targets[0].noun) if q.targets else None
        if a == "text" or unit:  # "How many letters are on the sign?": counted in the text read
            return _program("count", "text", form, value=unit) if unit else None
        return _program("count", a, form)
    if q.form in ("yes_no", "choice"):
        if q.relation == "undecidable":
            return None
        if q.relation is not None and len(q.targets) >= 2:
            b = _name(q.targets[1])
            return _program("relation", a, form, other=b, relation=q.relation) if b else None
        if q.number is not None and a != "text":
            return _program("count", a, form, value=str(q.number))
        if q.attribute == "color" and q.value and a != "text":
            return _program("color", a, form, value=color_name(q.value) or q.value)
        if q.position is not None:
            return _program("position", a, form, value=q.position.split("-")[-1])
        if len(names) >= 2 and _COUNT_WORDS.search(q.text) or len(names) >= 2 and _SIZE_WORDS.search(q.text):
            word = (_COUNT_WORDS.search(q.text) or _SIZE_WORDS.search(q.text)).group(0).lower()  # type: ignore[union-attr]
            return _program("compare", a, form, other=names[1], attribute=_comparison(q), value=word)
        if a == "text":
            return _program("read", "text", form, value=q.value) if q.value else None
        if q.attribute is not None or q.targets[0].label is None:
            return None
        return _program("exists", a, form)
    if q.form == "alternative":
        if all(parse_count(o) is not None and len(o.split()) == 1 for o in q.options) and a != "text":  # "two or three cars?"
            return _program("count", a, "text")
        if all(o.split()[-1] in _POSITIONS for o in q.options):
            return _program("position", a, "text", value="|".join(o.split()[-1] for o in q.options))
        if all(color_name(o.split()[-1]) in COLOR_NAMES for o in q.options) and a != "text":
            return _program("color", a, "text")
        return None
    if q.form == "attribute":
        return _program("color", a, "text") if q.attribute == "color" and a != "text" else None
    if q.form == "position":
        return _program("position", a, "text")
    if q.form == "compare" and len(names) >= 2:
        word = next(iter(re.findall(r"\b\w+(?:er|est)\b|\b(?:more|most|fewer|fewest|less|least)\b", q.text.lower())), "")
        return _program("compare", a, "text", other=names[1], attribute=_comparison(q), value=word[:24])
    return None


def llm_program(services: Services, question: str, choices: Sequence[str], rec: Recorder) -> Program | None:
    """The program the LLM writes under the Program schema, or ``None`` when it fails validation twice."""
    try:
        return services.ask("program", Program, rec=rec, role="program", max_tokens=120, question=question, choices=list(choices))
    except ModelError as exc:
        rec.note(f"program planner failed: {exc}")
        return None


def repair(program: Program, question: str | Question, choices: Sequence[str] = ()) -> tuple[Program | None, list[str]]:
    """Check an LLM's ``program`` against the question's analysis; ``None`` rejects it.

    A program is kept only where it computes what the analysis asks: the same
    operation, objects and relation as the rules' own program. A wrong one is
    rejected, not rewritten, so a label says truly what produced the program;
    returns the notes saying what disagreed.

    Example:
        >>> p = Program(op="relation", target="horse", other="truck", relation="left_of",
        ...             attribute="none", value="", answer="yes_no")
        >>> repair(p, "Is the car beneath the cat?", ["yes", "no"])[0] is None
        True
    """
    q = _q(question, choices)
    rules = rules_program(q)
    if rules is None:
        return None, ["the question's analysis has no program for it"]
    notes = []
    for field_name in ("op", "target", "other", "relation", "attribute", "answer"):
        mine, theirs = getattr(program, field_name), getattr(rules, field_name)
        if field_name in ("target", "other"):
            mine, theirs = resolve(mine) or mine, resolve(theirs) or theirs
        if mine != theirs:
            notes.append(f"{field_name}: {getattr(program, field_name)!r}, the question asks {getattr(rules, field_name)!r}")
    return (program if not notes else None), notes


def plan_program(
    services: Services, question: str | Question, choices: Sequence[str], rec: Recorder, *, planner: Literal["llm", "rules"] = "llm"
) -> Planned | None:
    """The program to run and what produced it (``rules`` or ``llm``), or ``None`` to decline.

    The rules read the question's analysis; the LLM is asked only where they have
    no program (``planner="llm"``), and its program must agree with the analysis.
    """
    q = _q(question, choices)
    rules = rules_program(q)
    if rules is not None:
        return rules, "rules"
    ops = _LLM_OPS.get(q.form, ())
    if planner != "llm" or not ops or not (q.labels or q.text_need == "needed"):
        return None
    written = llm_program(services, q.text, choices, rec)
    if written is None:
        return None
    if resolve(written.target) in (None,) or written.op in ("relation", "compare") and resolve(written.other) is None:
        rec.note(f"LLM program {written.brief()} rejected: it names nothing the tools can see")
        return None
    if written.op not in ops:
        rec.note(f"LLM program {written.brief()} rejected: a {q.form} question is not answered by {written.op}")
        return None
    if written.target not in ("text",) and resolve(written.target) not in [*q.labels, "text"]:
        rec.note(f"LLM program {written.brief()} rejected: the question does not name {written.target!r}")
        return None
    return written, "llm"
