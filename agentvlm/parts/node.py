"""The graph steps of a question with several parts: ``split``, the ``by_parts`` router, ``parts`` and ``compose``.

A part that computes with an earlier part's answer ("And how many would there be if three
more joined?") is a step of code over that answer (``programs.arithmetic.apply``), not a
new look; a part that refers to what an earlier one found ("what does it cost?") is asked
with that answer put in. Parts that share no dependence run as parallel ``Send`` tasks;
the perception cache lets them share one detector and OCR run.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from langgraph.types import Send
from pydantic import BaseModel, Field

from agentvlm.errors import ModelOutputError
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.programs.arithmetic import apply
from agentvlm.question import analyze
from agentvlm.question.parts import Part, arithmetic_of, resolve, split_question, valid_split
from agentvlm.types import PartAnswer, Step

__all__ = ["by_parts", "chains", "make_compose", "make_parts", "make_split"]

_STRENGTH = ("guess", "model", "vlm", "evidence", "program")
"""Bases from weakest to strongest: a composed answer is as sure as its least sure part."""


class _SplitReply(BaseModel):
    parts: list[str] = Field(min_length=1, max_length=4)


def make_split(services: Services, *, llm: bool = True) -> Any:
    """Node type ``split``: the question's parts (one part: it is whole, and the graph goes on as for any question).

    With ``llm``, a question the rules are unsure of is put to the LLM under a JSON schema,
    and its split is kept only when ``valid_split`` accepts it.
    """

    def split(state: GraphState, rec: Recorder) -> dict[str, Any]:
        if state.get("whole") or state.get("choices"):
            return {"parts": []}
        found = split_question(state["question"])
        parts = list(found.parts)
        if llm and not found.sure:
            try:
                reply = services.ask("split", _SplitReply, rec=rec, role="split", max_tokens=96, question=state["question"])
                if valid_split(state["question"], reply.parts):
                    parts = [Part(text=t) for t in reply.parts]
                    rec.note(f"the LLM split the question into {len(parts)} part(s)")
                else:
                    rec.note("the LLM's split was rejected (it changed what was asked); keeping the rules' split")
            except ModelOutputError as exc:
                rec.note(f"question split kept the rules' reading: {exc}")
        if len(parts) > 1:
            shown = "; ".join(f"{n + 1}. {p.text}" + (f" (uses part {p.depends_on + 1}'s answer)" if p.depends_on is not None else "") for n, p in enumerate(parts))
            rec.note(f"{len(parts)} parts: {shown}")
            return {"parts": parts}
        return {"parts": []}

    return split


def chains(parts: Sequence[Part]) -> list[list[int]]:
    """Part indexes grouped so that a part runs after the parts whose answers it uses, in the order asked."""
    root: dict[int, int] = {}
    for i, part in enumerate(parts):
        dep = part.depends_on
        root[i] = root[dep] if dep is not None and 0 <= dep < i else i
    grouped: dict[int, list[int]] = {}
    for i in range(len(parts)):
        grouped.setdefault(root[i], []).append(i)
    return list(grouped.values())


def by_parts(state: GraphState) -> list[Send] | str:
    """Router: ``one`` for a question of one part; else a ``parts`` task per chain of parts."""
    parts = state.get("parts") or []
    if len(parts) <= 1:
        return "one"
    return [Send("parts", {**state, "chain": chain}) for chain in chains(parts)]


def _compiled(services: Services, graph: str) -> Any:
    from agentvlm.graph.build import compile_graph
    from agentvlm.graph.spec import load_graph_spec

    return compile_graph(*load_graph_spec(graph), services)


def make_parts(services: Services, *, graph: str = "auto") -> Any:
    """Node type ``parts``: answer one chain of parts (a Send task of ``by_parts``), each through ``graph``.

    Each part is answered as a question of its own (its own analysis, evidence, route and
    basis); a part that uses an earlier answer gets it as a value: put into its words, or
    computed with in code.
    """

    inner: list[Any] = []  # the single-question graph, compiled on first use on this graph's services (its cache)
    lock = threading.Lock()

    def single() -> Any:
        with lock:
            if not inner:
                inner.append(_compiled(services, graph))
            return inner[0]

    def run_parts(state: GraphState, rec: Recorder) -> dict[str, Any]:
        parts: list[Part] = state["parts"]
        done: dict[int, PartAnswer] = {}
        evidence: list[Any] = []
        steps: list[Step] = []
        for i in state["chain"]:
            part = parts[i]
            earlier = done.get(part.depends_on) if part.depends_on is not None else None
            if earlier is not None and part.condition and earlier.text.strip().lower() != part.condition:
                rec.note(f"part {i + 1} is asked only if part {earlier.n} is {part.condition}; it is {earlier.text!r}")
                done[i] = PartAnswer(n=i + 1, question=part.text, text="not applicable", basis=earlier.basis, depends_on=earlier.n)
                continue
            computed = _computed(part, earlier, i, rec) if earlier is not None else None
            if computed is not None:
                done[i] = computed
                continue
            text = resolve(part, earlier.text) if earlier is not None else part.text
            final = single().invoke({
                "started": state.get("started"), "question": text, "choices": [], "images": state["images"],
                "evidence": [], "steps": [], "history": state.get("history", []), "whole": True,
            })  # fmt: skip
            prefix = f"p{i + 1}."
            mine = [e.model_copy(update={"id": prefix + e.id}) for e in final.get("evidence", [])]
            used = {prefix + u for u in final.get("used", [])}
            evidence += mine
            steps += [s.model_copy(update={"node": f"part {i + 1}/{s.node}"}) for s in final.get("steps", [])]
            analysis = final.get("analysis")
            done[i] = PartAnswer(
                n=i + 1, question=text, text=str(final.get("answer", "")), form=analysis.form if analysis is not None else "",
                basis=str(final.get("basis", "")), evidence=[e.id for e in mine if not used or e.id in used],
                depends_on=earlier.n if earlier is not None else None,
            )  # fmt: skip
            rec.note(f"part {i + 1}: {text!r} -> {done[i].text!r} ({done[i].basis or 'no basis'})")
        return {"part_answers": list(done.values()), "evidence": evidence, "steps": steps}

    return run_parts


def _computed(part: Part, earlier: PartAnswer, i: int, rec: Recorder) -> PartAnswer | None:
    """A part that computes with the earlier answer as a number, answered in code; ``None`` when it does not."""
    if part.uses != "value":
        return None
    step = arithmetic_of(part)
    value = apply(earlier.text, *step) if step is not None else None
    if step is None or value is None:
        rec.note(f"part {i + 1} uses part {earlier.n}'s answer {earlier.text!r}, but no computation with it was found; asking it as a question")
        return None
    basis = "program" if earlier.basis in ("program", "evidence") else "guess"
    rec.note(f"part {i + 1}: {earlier.text} {step[0]} {step[1]:g} = {value} (code over part {earlier.n}'s answer)")
    return PartAnswer(n=i + 1, question=part.text, text=value, form=analyze(part.text).form, basis=basis,
                      evidence=list(earlier.evidence), depends_on=earlier.n)  # fmt: skip


def make_compose(services: Services) -> Any:
    """Node type ``compose``: the parts' answers joined in the order asked ("7; no"); the whole is as
    sure as its least sure part, and cites what each part rests on."""

    def compose(state: GraphState, rec: Recorder) -> dict[str, Any]:
        answers = sorted(state.get("part_answers") or [], key=lambda a: a.n)
        if not answers:
            return {}
        text = "; ".join(a.text or "(no answer)" for a in answers)
        bases = [a.basis if a.basis in _STRENGTH else "guess" for a in answers]
        basis = min(bases, key=_STRENGTH.index)
        used = [e for a in answers for e in a.evidence]
        rec.note(f"composed {len(answers)} parts; the least sure decided by {basis}")
        update: dict[str, Any] = {"answer": text, "draft": text, "basis": basis}
        if used:
            update["used"] = list(dict.fromkeys(used))
        return update

    return compose
