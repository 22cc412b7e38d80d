"""The built-in node types: plain functions of (state, services, recorder) returning a state update.

A node type is a factory ``make(services, **params) -> fn(state, rec) -> update``,
registered under its YAML ``type:`` name in ``agentvlm.registry``; routers are
plain functions of the state that conditional edges name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Annotated, Any, Literal

from langgraph.types import Send
from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, create_model

from agentvlm.errors import ModelOutputError
from agentvlm.evidence.candidates import answer_candidates, measured_answers
from agentvlm.evidence.verbalize import verbalize as verbalize_evidence
from agentvlm.graph.actions import prompts_for
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState, Plan
from agentvlm.prompts import render
from agentvlm.question import FORMS, Question, Target, accept_form, analyze
from agentvlm.question.forms import conform
from agentvlm.question.letters import LETTERS
from agentvlm.question.vocabulary import label_of, labels_in
from agentvlm.tools import ToolKind, kind_names, tool_kinds
from agentvlm.types import Evidence

__all__ = [
    "NodeFn",
    "candidate_list",
    "fan_out_perception",
    "fan_out_tools",
    "first_sentence",
    "grounded_reply",
    "make_analyze",
    "make_answer",
    "make_perceive",
    "make_plan",
    "make_reason",
    "make_route",
    "make_segment",
    "make_verbalize",
    "rules_plan",
    "understood",
]

NodeFn = Callable[[GraphState, Recorder], dict[str, Any]]


@cache
def _plan_reply(kinds: tuple[str, ...]) -> type[BaseModel]:
    """What the planning LLM fills in under constrained decoding; its tools are the registered kinds."""
    kind: Any = Literal[kinds]
    return create_model(
        "PlanReply",
        instruction=(str, Field(max_length=160)),
        tools=(list[kind], Field(max_length=len(kinds))),
        targets=(list[str], Field(max_length=4)),
    )


def understood(state: GraphState) -> Question:
    """The question's analysis: the one the graph made (``analyze`` or ``plan``), else the rules' own."""
    return state.get("analysis") or analyze(state["question"], state.get("choices") or [])


def rules_plan(question: str | Question, choices: Sequence[str] = ()) -> Plan:
    """What to observe for a question, read off its analysis; also the floor under an LLM's plan.

    OCR is cheap: it runs unless the analysis is sure text is irrelevant.
    """
    q = question if isinstance(question, Question) else analyze(question, choices)
    targets = q.labels
    tools: list[ToolKind] = ["detect"]
    if q.text_need != "irrelevant":
        tools.append("ocr")
    tools += [k.name for k in tool_kinds().values() if k.name not in tools and k.wanted_by(q.text)]
    named = ", ".join(targets or [t.noun for t in q.targets])
    focus = named or ("the text" if q.text_need == "needed" else "what the question asks about")
    return Plan(instruction=render("describe", focus=focus)["instruction"], tools=tools, targets=targets)


class _FormReply(BaseModel):
    form: Literal[FORMS]  # type: ignore[valid-type]
    needs_knowledge: bool


def make_analyze(services: Services, *, llm: bool = True) -> NodeFn:
    """Analyse the question once for every step after it (``agentvlm.question``).

    A follow-up that names nothing ("and the one on the left?") is about what the
    last turn named. With ``llm``, a question no rule is sure of is put to the LLM
    under a JSON schema; its form is kept only when the wording allows it.
    """

    def analyze_node(state: GraphState, rec: Recorder) -> dict[str, Any]:
        q = analyze(state["question"], state.get("choices") or [])
        if not q.targets:
            for turn in reversed(state.get("history", [])):
                earlier = labels_in(str(turn.get("question", "")))
                if earlier:
                    q = q.model_copy(update={"targets": [Target(phrase=e, noun=e, label=e) for e in earlier]})
                    rec.note(f"targets carried over from the previous turn: {', '.join(earlier)}")
                    break
        if llm and not q.sure:
            try:
                reply = services.ask("question", _FormReply, rec=rec, role="analyze", max_tokens=32, question=q.text, forms=list(FORMS))
                if accept_form(q, reply.form):
                    q = q.model_copy(update={"form": reply.form, "source": "llm", "needs_knowledge": q.needs_knowledge or reply.needs_knowledge})
                else:
                    rec.note(f"LLM form '{reply.form}' rejected: the wording does not ask for it")
            except ModelOutputError as exc:
                rec.note(f"question analysis kept the rules' reading: {exc}")
        rec.note(f"question: {q.brief()}")
        return {"analysis": q}

    return analyze_node


def make_plan(
    services: Services,
    *,
    planner: Literal["llm", "rules"] = "llm",
    tools: Literal["auto", "all", "none"] | list[ToolKind] = "auto",
) -> NodeFn:
    """Decide what to observe. ``tools`` overrides the choice: ``all`` (MoAI runs every
    tool), ``none`` (a loop that perceives on demand), or an explicit list."""
    if isinstance(tools, list):
        bad = [t for t in tools if t not in kind_names()]
        if bad:
            raise ValueError(f"unknown tool kinds {bad}; choose from {', '.join(kind_names())}")

    def fixed(plan: Plan) -> Plan:
        if tools == "auto":
            return plan
        chosen: list[ToolKind] = kind_names() if tools == "all" else [] if tools == "none" else list(tools)  # type: ignore[arg-type]
        return plan.model_copy(update={"tools": chosen})

    def plan(state: GraphState, rec: Recorder) -> dict[str, Any]:
        question, choices = state["question"], state.get("choices") or []
        analysis = state.get("analysis")
        update: dict[str, Any] = {}
        if analysis is None:
            analysis = make_analyze(services, llm=False)(state, rec)["analysis"]
            update["analysis"] = analysis
        base = rules_plan(analysis)
        if planner == "rules":
            return {**update, "plan": fixed(base)}
        kinds = tool_kinds()
        try:
            reply: Any = services.ask(
                "plan", _plan_reply(tuple(kinds)), rec=rec, role="plan", max_tokens=96,
                question=question, choices=choices, kinds=[{"name": k.name, "does": k.does} for k in kinds.values()],
            )  # fmt: skip
        except ModelOutputError as exc:
            rec.note(f"planner fell back to rules: {exc}")
            return {**update, "plan": base}
        # The rules decide what the question demonstrably needs; the LLM may add OCR and names.
        chosen = list(base.tools) + [t for t in reply.tools if t == "ocr" and t not in base.tools]
        extra_targets = labels_in(" ".join(reply.targets))
        targets = list(dict.fromkeys([*base.targets, *extra_targets]))
        added = sorted(set(chosen) - set(base.tools))
        if added:
            rec.note(f"LLM plan added {', '.join(added)}")
        instruction = reply.instruction.strip() or base.instruction
        return {**update, "plan": fixed(base.model_copy(update={"instruction": instruction, "tools": chosen, "targets": targets, "source": "llm"}))}

    return plan


def _unprompted(plan: Plan) -> list[ToolKind]:
    kinds = tool_kinds()
    return [k for k in plan.tools if kinds[k].prompted_by is None]


def fan_out_tools(state: GraphState) -> list[Send] | str:
    """Router: one parallel ``perceive`` task per planned tool kind; kinds that take earlier
    evidence as prompts (segmentation) wait for the ``segment`` node. Node ids come from the edge's ``to``."""
    kinds = _unprompted(state["plan"])
    if not kinds:
        return "segment"
    return [Send("perceive", {**state, "perceive": kind}) for kind in kinds]


def fan_out_perception(state: GraphState) -> list[Send]:
    """Router: ``fan_out_tools`` plus ``describe``, the VLM's look, in parallel (the node
    notes in the trace when no VLM is configured)."""
    return [*(Send("perceive", {**state, "perceive": kind}) for kind in _unprompted(state["plan"])), Send("describe", {**state})]


def make_perceive(services: Services, *, tools: dict[str, str] | None = None) -> NodeFn:
    """Run one planned tool kind. ``tools`` picks registered tools per kind (``{detect: ultralytics}``)
    for the whole graph, overriding the config: ``compile_graph`` gives every node of the graph
    that choice, so recall passes, zoom and ProReason's actions use the same tools."""
    unknown = sorted(set(tools or {}) - set(kind_names()))
    if unknown:
        raise ValueError(f"unknown tool kinds {unknown}; choose from {', '.join(kind_names())}")

    def perceive(state: GraphState, rec: Recorder) -> dict[str, Any]:
        return {"evidence": services.run_tool(state["perceive"], state["images"], rec)}

    return perceive


def make_segment(services: Services, *, max_objects: int = 4) -> NodeFn:
    """Run the planned kinds that take earlier evidence as prompts (segmentation of the objects the
    question names, else the most confident ones) once the other tools have run."""

    def segment(state: GraphState, rec: Recorder) -> dict[str, Any]:
        plan, kinds = state["plan"], tool_kinds()
        found: list[Evidence] = []
        for kind in (k for k in plan.tools if kinds[k].prompted_by is not None):
            prompts = prompts_for(kinds[kind], state.get("evidence", []), plan.targets, max_objects=max_objects)
            if not prompts:
                rec.note(f"nothing to {kind}: no {kinds[kind].prompted_by} evidence to start from")
                continue
            found += services.run_tool(kind, state["images"], rec, prompts=prompts)
        return {"evidence": found} if found else {}

    return segment


def make_verbalize(services: Services, *, budget: int | None = None) -> NodeFn:
    def verbalize(state: GraphState, rec: Recorder) -> dict[str, Any]:
        out = verbalize_evidence(
            state.get("evidence", []),
            question=understood(state),
            targets=state["plan"].targets,
            budget_tokens=budget or services.config.evidence_budget,
            image_count=len(state["images"]),
        )
        if out.truncated:
            rec.note(f"{out.truncated} evidence lines left out to stay within {budget or services.config.evidence_budget} tokens")
        return {"context": out.text, "used": out.evidence_ids}

    return verbalize


def make_reason(services: Services, *, max_tokens: int = 64, grounded: bool = True) -> NodeFn:
    """Answer from the verbalized evidence.

    With ``grounded`` (the default), questions the evidence decides (counts,
    existence, reading, positions, options, places) are answered by choosing among
    ``answer_candidates`` (``grounded_reply``), so a small model copies instead
    of inventing; when one candidate is left, no model is asked. Other questions,
    and a choice the model could not make, get a short free-text answer.
    """

    def reason(state: GraphState, rec: Recorder) -> dict[str, Any]:
        choices = state.get("choices") or []
        analysis = understood(state)
        candidates = answer_candidates(analysis, state.get("evidence", []), images=state["images"]) if grounded else None
        measured = measured_answers(analysis, state.get("evidence", []), images=state["images"]) if candidates else []
        if candidates and len(candidates) == 1:
            rec.note(f"the evidence leaves one answer: {candidates[0]!r} (no model call)")
            return {"draft": candidates[0], "basis": _basis(analysis, candidates[0], measured, rec, chosen="guess")}
        variables: dict[str, Any] = {"question": state["question"], "choices": choices, "evidence": state.get("context", ""), "history": state.get("history", [])[-3:]}
        draft, basis = "", "model"
        if candidates:
            try:
                reply = services.ask("reason", grounded_reply(candidates), rec=rec, role="reason", max_tokens=max_tokens + 32,
                                     candidates=candidate_list(candidates), **variables)  # fmt: skip
                rec.note(f"grounded answer: chose among {len(candidates)} candidates from the evidence")
                draft = str(reply.model_dump()["answer"])
                basis = _basis(analysis, draft, measured, rec, chosen="guess" if analysis.form == "attribute" else "model")
            except ModelOutputError as exc:
                rec.note(f"{exc}; answering in free text")
        if not draft:
            try:
                draft = first_sentence(services.ask("reason", None, rec=rec, role="reason", max_tokens=max_tokens, **variables))
            except ModelOutputError as exc:
                rec.note(str(exc))
                return {"draft": ""}
        if analysis.unseen and not state.get("sources") and basis != "guess":
            rec.note(f"no tool can see {', '.join(t.noun for t in analysis.unseen)}: the answer is a guess")
            basis = "guess"
        return {"draft": draft, "basis": basis}

    return reason


def _basis(analysis: Question, answer: str, measured: Sequence[str], rec: Recorder, *, chosen: str) -> str:
    """``evidence`` when ``answer`` is one a measurement supports (``measured_answers``), else ``chosen``:
    ``model`` where the model chose among the answers the form allows, ``guess`` where nothing chose
    or the evidence holds nothing on what is asked (a colour, a material)."""
    if answer in measured:
        return "evidence"
    unseen = [t.noun for t in analysis.unseen]
    if unseen:
        rec.note(f"no tool can see {', '.join(unseen)}: the answer is a guess")
        return "guess"
    if analysis.unchecked:
        rec.note(f"no tool checks '{' '.join(analysis.unchecked)}': the evidence did not decide the answer")
    return chosen


def candidate_keys(candidates: Sequence[str]) -> list[str]:
    """What the model may write for each candidate: the option letters themselves, else numbers.

    Candidates carry the user's, the image's and the web's text; as grammar literals
    a quote in them crashed llama.cpp, so only these keys ever reach a grammar.
    """
    if all(c in LETTERS for c in candidates):
        return list(candidates)
    return [str(n) for n in range(1, len(candidates) + 1)]


def candidate_list(candidates: Sequence[str]) -> list[dict[str, str]]:
    """The candidates as the ``reason`` prompt lists them, each under its key."""
    return [{"key": k, "text": c} for k, c in zip(candidate_keys(candidates), candidates, strict=True)]


def grounded_reply(candidates: Sequence[str]) -> type[BaseModel]:
    """A reply schema whose ``answer`` is a candidate's key (an enum under constrained decoding),
    validated into the candidate itself; the prompt lists them (``candidate_list``)."""
    by_key = dict(zip(candidate_keys(candidates), candidates, strict=True))

    def to_candidate(key: str) -> str:
        if key not in by_key:
            raise ValueError(f"answer must be one of {', '.join(by_key)}")
        return by_key[key]

    answer: Any = Annotated[str, WithJsonSchema({"type": "string", "enum": list(by_key)}), AfterValidator(to_candidate)]
    return create_model("GroundedReply", answer=(answer, ...))


def first_sentence(text: str) -> str:
    """A small model's free text, cut to its first line; a leading "The answer is" is dropped."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(the )?answer( is)?:?\s*", "", line, flags=re.IGNORECASE)
    return line[:300]


def make_answer(services: Services) -> NodeFn:
    """Put the draft in the question's form (``agentvlm.question.forms``) and say what decided it.

    ``basis`` is ``program`` (code computed it), ``evidence`` (chosen among answers
    the evidence supports), ``model`` (the LLM's free text) or ``guess`` (nothing
    decided it; the answer still has the right form).
    """

    def answer(state: GraphState, rec: Recorder) -> dict[str, Any]:
        if state.get("part_answers"):
            return {}  # composed from its parts' answers, each already in its own form
        analysis = understood(state)
        draft = state.get("draft", "").strip()
        basis = state.get("basis") or ("program" if state.get("program", {}).get("value") is not None and draft else "model")
        if not draft and analysis.form == "open":
            rec.note("the reasoning model gave no usable answer")
            return {"answer": "I could not answer: the reasoning model returned no usable output (see the trace).", "basis": "guess"}
        out = conform(analysis, draft)
        fallback = None
        if not out.fits:  # the evidence's best answer, else a guess of the right form
            fallback = next(iter(answer_candidates(analysis, state.get("evidence", []), images=state["images"]) or []), None)
            out = conform(analysis, draft, fallback=fallback)
        if not out.fits:
            said = f" {draft!r}" if draft else " nothing"
            why = "the evidence's best answer" if fallback is not None and out.text == fallback else "a guess"
            unseen = [t.noun for t in analysis.unseen]
            if unseen:
                rec.note(f"no tool can see {', '.join(unseen)}: the answer is a guess")
            rec.note(f"answer form {analysis.form}: the draft was{said}; {why} {out.text!r} stands in")
            measured = measured_answers(analysis, state.get("evidence", []), images=state["images"])
            basis = "evidence" if fallback is not None and out.text == fallback and fallback in measured else "guess"
        return {"answer": out.text, "basis": basis}

    return answer


def make_route(services: Services, *, zoom_min_side: int = 1200) -> NodeFn:
    """Decide what the question still needs once the tools and the program have run, and say why.

    Sets ``next`` for the ``by_next`` router: ``web_search`` when it needs knowledge the
    image lacks and a search backend is configured; ``zoom`` when objects it names are
    missing from a large image; with a VLM configured, ``look`` (the VLM answers what no
    tool measured and is checked against what one did); without one, ``answer`` when a
    program decided it, else ``reason`` (prism-style, with the candidates the analysis allows).
    """

    def route(state: GraphState, rec: Recorder) -> dict[str, Any]:
        q = understood(state)
        evidence = state.get("evidence", [])
        seen = {label_of(e) for e in evidence if e.kind == "object"}
        missing = [label for label in q.labels if label not in seen]
        large = any(max(i.width, i.height) >= zoom_min_side for i in state["images"])
        vlm = services.config.vlm is not None
        if state.get("draft") and not vlm:
            chosen, why = "answer", "an evidence program decided it"
        elif q.needs_knowledge and services.config.search:
            chosen, why = "web_search", f"it needs knowledge the image lacks; searching {services.config.search}"
        elif missing and large:
            chosen, why = "zoom", f"{', '.join(missing)} not found in a {max(i.width for i in state['images'])}-px image"
        elif vlm:
            chosen = "look"
            why = "a program answered; the VLM looks too, and the measurement decides" if state.get("draft") else f"{q.form} question; asking the VLM"
        else:
            chosen = "reason"
            why = f"{q.form} question; reasoning over the evidence" + (" (knowledge needed, no search backend configured)" if q.needs_knowledge else "")
        rec.note(f"route: {chosen} ({why})")
        return {"next": chosen}

    return route
