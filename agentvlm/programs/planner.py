"""Turn a question into a ``Program``: the LLM under the Program JSON schema, guarded by rules.

The LLM fills the form (few-shot prompt ``prompts/program.yaml``); then
``repair`` checks it against the question: objects must be ones the question
names and the detector knows, a relation must match the question's wording, the
answer form must match the question's form. Fixed fields are listed, so the
trace says what the model got wrong. ``rules_program`` parses common templates
without a model; it is the fallback when the LLM fails and the guard's source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from agentvlm.errors import ModelError
from agentvlm.graph.services import Recorder, Services
from agentvlm.models import Message, structured
from agentvlm.perception.vocabulary import asks_for_count, asks_for_text, labels_in
from agentvlm.programs.colors import COLOR_NAMES, color_name
from agentvlm.programs.executor import resolve
from agentvlm.programs.language import Program, relation_in, relation_span, undecidable_in
from agentvlm.prompts import render

__all__ = ["Planned", "llm_program", "plan_program", "repair", "rules_program"]

Planned = tuple[Program, str]  # the program and which path made it: llm, llm+repair, rules
_YESNO = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|has|have)\b", re.IGNORECASE)
_THERE = re.compile(r"^\s*(is|are)\s+there\b", re.IGNORECASE)
_COLOR_Q = re.compile(r"\bcolou?rs?\b", re.IGNORECASE)
_WHERE = re.compile(r"^\s*where\b|\bwhich (side|part)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\b(bigger|larger|smaller|more|fewer|less)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b(\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten)\b", re.IGNORECASE)
_POSITION_WORDS = re.compile(r"\b(left|right|top|bottom|center|middle)\b", re.IGNORECASE)


def _form(question: str, choices: Sequence[str]) -> Literal["number", "yes_no", "option", "text"]:
    if choices:
        return "option"
    if _YESNO.search(question):
        return "yes_no"
    return "number" if asks_for_count(question) else "text"


def _mentions(question: str) -> list[str]:
    """Detector classes in order of mention; around a relation phrase, the first class on each side.

    Splitting at the relation keeps "Is the person left of the person?" as two objects.
    """
    span = relation_span(question)
    if span is not None:
        before, after = labels_in(question[: span[1]]), labels_in(question[span[2] :])
        if before and after:
            return [before[-1], after[0]]
    return labels_in(question)


def _program(op: str, target: str, form: str, **fields: str) -> Program:
    return Program.model_validate(
        {"op": op, "target": target, "other": "", "relation": "none", "attribute": "none", "value": "", "answer": form, **fields}
    )


def rules_program(question: str, choices: Sequence[str] = ()) -> Program | None:
    """The program common templates give, or ``None`` when no template fits.

    Example:
        >>> rules_program("Is the car beneath the cat?", ["yes", "no"]).brief()
        'relation(car, cat, under) -> option'
    """
    q, form = question.strip(), _form(question, choices)
    names = _mentions(q)
    if asks_for_text(q) and not asks_for_count(q):
        return _program("read", names[0] if names and re.search(r"\bon the\b", q, re.IGNORECASE) else "text", form)
    if not names:
        return None
    a = names[0]
    value = next((c for w in q.split() if (c := color_name(w.strip("?.,!"))) and c in COLOR_NAMES), "")
    if asks_for_count(q):
        n = _NUMBER.search(q) if form != "number" else None
        return _program("count", a, form, value=n.group(1).lower() if n and form == "yes_no" else "")
    if _COLOR_Q.search(q) or (value and form == "yes_no"):
        return _program("color", a, form, value=value if form == "yes_no" else "")
    if len(names) >= 2:
        m = _COMPARE.search(q)
        rel = relation_in(q)
        if m and not rel:
            attribute = "count" if m.group(1).lower() in ("more", "fewer", "less") else "size"
            word = m.group(1).lower() if form == "yes_no" else ""
            return _program("compare", a, form, other=names[1], attribute=attribute, value=word)
        if rel:
            return _program("relation", a, form, other=names[1], relation=rel)
        return None
    if _THERE.search(q):
        n = _NUMBER.search(q)
        if n and form == "yes_no" and n.group(1).lower() not in ("one",):
            return _program("count", a, form, value=n.group(1).lower())
        return _program("exists", a, form)
    pos = _POSITION_WORDS.search(q)
    if _WHERE.search(q) or (pos and form == "yes_no"):
        return _program("position", a, form, value=pos.group(1).lower() if pos and form == "yes_no" else "")
    return None


def llm_program(services: Services, question: str, choices: Sequence[str], rec: Recorder) -> Program | None:
    """The program the LLM writes under the Program schema, or ``None`` when it fails validation twice."""
    prompt = render("program", question=question, choices=list(choices))
    messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
    try:
        program, completion = structured(services.llm, messages, Program, max_tokens=120)
    except ModelError as exc:
        rec.note(f"program planner failed: {exc}")
        return None
    rec.model(services.llm.spec, completion, role="program")
    return program


def _supports(op: str, question: str, choices: Sequence[str]) -> bool:
    """Whether the question's wording can ask what ``op`` computes (a "why" question is no count)."""
    form = _form(question, choices)
    cues = {
        "count": asks_for_count(question) or (form != "text" and _NUMBER.search(question) is not None),
        "read": asks_for_text(question),
        "color": _COLOR_Q.search(question) is not None or any(color_name(w.strip("?.,!")) for w in question.split()),
        "relation": relation_in(question) is not None,
        "compare": _COMPARE.search(question) is not None,
        "exists": form != "text",
        "position": _WHERE.search(question) is not None or _POSITION_WORDS.search(question) is not None,
        "find": _WHERE.search(question) is not None,
    }
    return cues.get(op, False)


def repair(program: Program, question: str, choices: Sequence[str] = ()) -> tuple[Program | None, list[str]]:
    """Check ``program`` against the question; fix what contradicts it; ``None`` if nothing can be seen.

    Returns the fixed program and one note per fixed field.

    Example:
        >>> p = Program(op="relation", target="horse", other="truck", relation="left_of",
        ...             attribute="none", value="", answer="yes_no")
        >>> fixed, notes = repair(p, "Is the car beneath the cat?", ["yes", "no"])
        >>> fixed.brief(), len(notes)
        ('relation(car, cat, under) -> option', 4)
    """
    rules = rules_program(question, choices)
    names = _mentions(question)
    fix: dict[str, Any] = {}
    if rules is not None and rules.op != program.op and program.op in ("find", "exists", "position", "count", "relation", "color"):
        fix["op"] = rules.op
    op = fix.get("op", program.op)
    if op == "relation" and (phrase := undecidable_in(question)) is not None:
        return None, [f"relation: no box test decides '{phrase}'"]
    if not _supports(op, question, choices):
        if rules is None or not _supports(rules.op, question, choices):
            return None, [f"op: the question does not ask for {op}"]
        fix["op"] = op = rules.op
    mentioned = set(names) | {"text"}
    for field_name, index in (("target", 0), ("other", 1)):
        if field_name == "other" and op not in ("relation", "compare"):
            if program.other:
                fix["other"] = ""
            continue
        current = resolve(getattr(program, field_name))
        if op == "read" and field_name == "target":
            continue
        if op in ("relation", "compare") and len(names) >= 2:
            if current != names[index]:  # "relation(cat, cat, contains)" or swapped objects flip the answer
                fix[field_name] = names[index]
        elif current is None or current not in mentioned:
            fix[field_name] = names[index] if len(names) > index else (getattr(rules, field_name) if rules else "")
    if op == "relation":
        said = rules.relation if rules is not None and rules.op == "relation" else relation_in(question)
        if said and said != program.relation:
            fix["relation"] = said
    elif program.relation != "none":
        fix["relation"] = "none"
    if op != "compare" and program.attribute != "none":
        fix["attribute"] = "none"
    elif op == "compare" and rules is not None and rules.op == "compare" and rules.attribute != program.attribute:
        fix["attribute"] = rules.attribute
    if rules is not None and rules.op == op and rules.value != program.value:
        fix["value"] = rules.value
    form = _form(question, choices)
    if program.answer != form:
        fix["answer"] = form
    fixed = program.model_copy(update=fix) if fix else program
    if fixed.op != "read" and resolve(fixed.target) in (None, "text"):
        return None, [f"{k}: {getattr(program, k)!r} -> {v!r}" for k, v in fix.items()]
    if fixed.op in ("relation", "compare") and resolve(fixed.other) in (None, "text"):
        return None, [f"{k}: {getattr(program, k)!r} -> {v!r}" for k, v in fix.items()]
    if fixed.op == "relation" and fixed.relation == "none":
        return None, ["no relation the executor knows"]
    return fixed, [f"{k}: {getattr(program, k)!r} -> {v!r}" for k, v in fix.items()]


def plan_program(
    services: Services, question: str, choices: Sequence[str], rec: Recorder, *, planner: Literal["llm", "rules"] = "llm"
) -> Planned | None:
    """The program to run and its path (``llm``, ``llm+repair``, ``rules``), or ``None`` to decline.

    A program can only be about what the question names, so a question that names
    no detector class and asks for no text is declined before any model call.
    """
    if not _mentions(question) and not asks_for_text(question):
        return None
    if planner == "llm":
        written = llm_program(services, question, choices, rec)
        if written is not None:
            fixed, notes = repair(written, question, choices)
            if fixed is not None:
                if notes:
                    rec.note(f"program repaired ({'; '.join(notes)})")
                return fixed, "llm+repair" if notes else "llm"
            rec.note(f"LLM program {written.brief()} rejected ({'; '.join(notes) or 'names nothing the tools can see'})")
    rules = rules_program(question, choices)
    if rules is None:
        return None
    fixed, _ = repair(rules, question, choices)
    return (fixed, "rules") if fixed is not None else None
