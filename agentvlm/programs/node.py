"""The ``program`` graph node, its router, and ``run_program`` for agent loops (ProReason).

Plan a program, look again for what it names, execute it on the evidence, and
phrase the result; decline (return no draft) whenever any of these cannot be
done, so the graph falls back to verbalized evidence and free-form reasoning.
The trace note says which path answered: ``program (rules)``, ``program
(llm)`` (where the rules had none and the LLM's program agreed with the
question's analysis) or ``declined: why``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from agentvlm.evidence.colors import color_name, dominant_color
from agentvlm.evidence.facts import READ_SURE
from agentvlm.evidence.verbalize import text_blocks
from agentvlm.graph.actions import FunctionAction
from agentvlm.graph.services import Recorder, Services
from agentvlm.programs.answers import LETTERS, phrase
from agentvlm.programs.arithmetic import compute
from agentvlm.programs.executor import SURE, Result, execute, resolve
from agentvlm.programs.language import Program
from agentvlm.programs.planner import plan_program
from agentvlm.programs.recall import find_missing
from agentvlm.question import Question, analyze
from agentvlm.types import Evidence, ImageRef

__all__ = ["PROGRAM_ACTION", "distrust", "make_program", "program_or_reason", "run_program"]

_WHERE_OR_SIZE = frozenset({
    "left", "right", "top", "bottom", "middle", "center", "centre", "upper", "lower", "first", "last",
    "big", "bigger", "biggest", "large", "larger", "largest", "small", "smaller", "smallest", "tiny", "huge",
})  # fmt: skip
_WHOLE_TEXT = re.compile(r"\b(?:say|says|said|read|reads|written|printed|text|words?|writing)\b", re.IGNORECASE)


def _ocr(services: Services, rec: Recorder, state: dict[str, Any], evidence: list[Evidence]) -> list[Evidence]:
    """OCR lines for a ``read`` program when no earlier step read the image."""
    if any(e.kind == "text" for e in evidence):
        return []
    return services.run_tool("ocr", state["images"], rec)


def _arithmetic(services: Services, rec: Recorder, state: dict[str, Any], analysis: Question, evidence: list[Evidence]) -> dict[str, Any] | None:
    """Numbers read in the image, paired with their labels and computed on (``agentvlm.programs.arithmetic``)."""
    new = _ocr(services, rec, state, evidence)
    result = compute(analysis.text, [e for e in evidence + new if e.kind == "text"])
    if result is None:
        return None
    rec.note(f"answered by program (arithmetic): {result.detail}")
    trace = {"program": {"op": "arithmetic"}, "path": "rules", "value": result.value, "detail": result.detail}
    return {"draft": result.value, "answer": result.value, "used": result.evidence, "program": trace, "evidence": new, "basis": "program"}


def run_program(
    services: Services, state: Any, rec: Recorder, *, planner: Literal["llm", "rules"] = "llm", recall: bool = True
) -> dict[str, Any] | None:
    """Answer ``state["question"]`` with an evidence program, or ``None`` when the program path declines.

    Returns a state update: ``draft`` and ``answer`` (the phrased result),
    ``used`` (ids of the supporting evidence), ``program`` (the program, its
    path and result, for traces) and ``evidence`` (what recall passes found).
    When a program ran but could not decide, the update has the new evidence and
    no ``draft``, so the reasoning fallback sees it.

    Example:
        >>> out = run_program(services, {"question": "How many people?", "images": [ref]}, Recorder())  # doctest: +SKIP
        >>> out["answer"], out["used"]  # doctest: +SKIP
        ('2', ['det0', 'det1'])
    """
    choices = list(state.get("choices") or [])
    analysis = state.get("analysis") or analyze(state["question"], choices)
    evidence: list[Evidence] = list(state.get("evidence") or [])
    if analysis.form == "number" or analysis.text_need == "needed" and analysis.form in ("yes_no", "compare", "alternative"):
        computed = _arithmetic(services, rec, state, analysis, evidence)
        if computed is not None:
            return computed
    planned = plan_program(services, analysis, choices, rec, planner=planner)
    if planned is None:
        rec.note("declined: no program fits the question; reasoning answers")
        return None
    program, path = planned
    new: list[Evidence] = []
    if program.op == "read":
        new += _ocr(services, rec, state, evidence)
    needed = [c for c in dict.fromkeys([resolve(program.target), resolve(program.other)]) if c and c != "text"]
    if needed and (recall or not any(e.kind == "object" for e in evidence)):
        tiles = program.op not in ("count", "exists")  # a tile sees part of a big object: a ghost to count
        new += find_missing(services, rec, state["images"], needed, evidence + new, tiles=tiles)
    result = execute(program, evidence + new, images=state["images"])
    trace = {"program": program.model_dump(), "path": path, "value": result.value, "detail": result.detail}
    options = choices or (analysis.options if analysis.form in ("alternative", "compare") else [])
    text = phrase(program, result, choices=options)
    if text is not None and not choices and options:  # an alternative's answer is its option, verbatim
        text = options[LETTERS.index(text)]
    if text is None:
        why = f"missing {', '.join(result.missing)}" if result.missing else result.detail or "no option matches"
        rec.note(f"declined: {program.brief()} could not decide ({why}); reasoning answers")
        return {"evidence": new, "program": trace} if new else None
    rec.note(f"answered by program ({path}): {program.brief()} = {result.value!r}; {result.detail}")
    doubt = distrust(program, result, analysis, evidence + new, state["images"])
    if doubt:
        rec.note(f"the program's answer is a guess: {doubt}")
    return {"draft": text, "answer": text, "used": result.evidence, "program": trace, "evidence": new, "basis": "guess" if doubt else "program"}


def _colour_seen(word: str, objects: list[Evidence], images: Sequence[ImageRef]) -> bool:
    """Whether ``word`` is a colour measured on the object an answer rests on ("the red car": that car is red)."""
    want = color_name(word)
    return want is not None and bool(objects) and all(e.kind == "object" and dominant_color(e, list(images)) == want for e in objects)


def distrust(program: Program, result: Result, analysis: Question, evidence: list[Evidence], images: Sequence[ImageRef] = ()) -> str | None:
    """Why the perception a program's answer rests on cannot be trusted for this question, or ``None``.

    A program decides only where what it measured is what the question asks about: the
    detections it rests on are confident ones (a count counts only those), the
    question says nothing of the thing that no box checks (a state, a part, "wearing
    sunglasses"; a colour it names is checked on the object measured), text read is not
    narrowed to a part by where, how big or what colour it is, and text was read confidently and, for one field of a sign (a brand, a
    name), is a single line. Its answer is still the best at hand, so it stands, marked a guess.
    """
    by_id = {e.id: e for e in evidence}
    cited = [by_id[i] for i in result.evidence if i in by_id]
    unchecked = [w for w in analysis.unchecked if not _colour_seen(w, cited[:1], images)]
    if program.op != "read" and unchecked:
        return f"the question says '{' '.join(unchecked)}' of what it names, which no tool checks"
    narrowing = [w for w in unchecked if color_name(w) or w in _WHERE_OR_SIZE]
    if program.op == "read" and narrowing:  # "the big words", "the name in red", "at the top": a part of the text read
        return f"the question asks for the text that is '{' '.join(narrowing)}', which reading does not check"
    weak = [e for e in cited if e.kind == "object" and e.label != "text" and e.score is not None and e.score < SURE]
    if weak:
        return f"{weak[0].label} {weak[0].id} was detected at {weak[0].score:.2f}, below {SURE}"
    lines = [e for e in cited if e.kind == "text"]
    if program.op == "read" and lines:
        low = min(e.score if e.score is not None else 1.0 for e in lines)
        if low < READ_SURE:
            return f"a line read scored {low:.2f}, below {READ_SURE}"
        rows = sum(len(r) for _, r in text_blocks(lines))
        if program.value == "" and program.answer == "text" and not _WHOLE_TEXT.search(analysis.text) and rows > 1:
            return "the question asks for one field of the text, and several lines were read"
    return None


def make_program(services: Services, *, planner: Literal["llm", "rules"] = "llm", recall: bool = True) -> Any:
    """Node type ``program``: ``run_program`` as a graph step.

    Args:
        planner: ``llm`` (the LLM writes a program where the rules have none; one that
            disagrees with the question's analysis is rejected) or ``rules`` (no model call).
        recall: Run extra detector passes for named objects the evidence lacks.
    """
    if planner not in ("llm", "rules"):
        raise ValueError(f"planner must be 'llm' or 'rules', got {planner!r}")

    def program(state: Any, rec: Recorder) -> dict[str, Any]:
        return run_program(services, state, rec, planner=planner, recall=recall) or {}

    return program


def program_or_reason(state: Any) -> str:
    """Router: ``answer`` when the program produced a draft, else ``verbalize`` (the reasoning path)."""
    return "answer" if state.get("draft") else "verbalize"


def _program_action(services: Services, state: Any, rec: Recorder, decision: Any, tag: str) -> dict[str, Any]:
    out = run_program(services, state, rec) or {}
    evidence = list(out.get("evidence", []))  # detections from its recall passes
    if out.get("draft"):
        evidence.append(Evidence(id=f"{tag}prog0", tool="program", kind="statement", text=f"A program computed the answer: {out['draft']}"))
    return {"evidence": evidence}


PROGRAM_ACTION = FunctionAction("program", "compute the answer from the evidence", _program_action)
"""ProReason's ``program``: ``run_program``; its answer becomes a statement the summarizer reads."""
