"""The built-in node types: plain functions of (state, services, recorder) returning a state update.

A node type is a factory ``make(services, **params) -> fn(state, rec) -> update``,
registered under its YAML ``type:`` name in ``agentvlm.registry``; routers are
plain functions of the state that conditional edges name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langgraph.types import Send
from pydantic import BaseModel, Field, create_model

from agentvlm.errors import MissingDependencyError, ModelOutputError
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState, Plan
from agentvlm.models import Message, structured
from agentvlm.perception.candidates import answer_candidates
from agentvlm.perception.verbalize import verbalize as verbalize_evidence
from agentvlm.prompts import render
from agentvlm.question import FORMS, Question, Target, accept_form, analyze
from agentvlm.question.forms import conform
from agentvlm.question.letters import option_letter as choice_letter
from agentvlm.question.vocabulary import canonical, labels_in
from agentvlm.tools import ToolKind
from agentvlm.types import Box, Evidence

__all__ = [
    "NodeFn",
    "choice_letter",
    "fan_out_perception",
    "fan_out_tools",
    "make_analyze",
    "make_answer",
    "make_perceive",
    "make_plan",
    "make_reason",
    "make_route",
    "make_segment",
    "make_verbalize",
    "rules_plan",
    "run_tool",
    "segment_prompts",
    "understood",
]

NodeFn = Callable[[GraphState, Recorder], dict[str, Any]]
_ID_PREFIX: dict[str, str] = {"detect": "det", "ocr": "ocr", "segment": "seg"}
_SEGMENT_WORDS = re.compile(r"\b(area|size|shape|mask|outline|cover|covers|silhouette|how much of)\b", re.IGNORECASE)


class _PlanReply(BaseModel):
    """What the planning LLM fills in under constrained decoding."""

    instruction: str = Field(max_length=160)
    tools: list[Literal["detect", "ocr", "segment"]] = Field(max_length=3)
    targets: list[str] = Field(max_length=4)


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
    if _SEGMENT_WORDS.search(q.text):
        tools.append("segment")
    named = ", ".join(targets or [t.noun for t in q.targets])
    focus = named or ("the text" if q.text_need == "needed" else "what the question asks about")
    return Plan(instruction=f"Describe the image, especially {focus}.", tools=tools, targets=targets)


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
            prompt = render("question", question=q.text, forms=list(FORMS))
            messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
            try:
                reply, completion = structured(services.llm, messages, _FormReply, max_tokens=32)
                rec.model(services.llm.spec, completion, role="analyze")
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
        bad = [t for t in tools if t not in _ID_PREFIX]
        if bad:
            raise ValueError(f"unknown tool kinds {bad}; choose from {', '.join(_ID_PREFIX)}")

    def fixed(plan: Plan) -> Plan:
        if tools == "auto":
            return plan
        chosen: list[ToolKind] = list(_ID_PREFIX) if tools == "all" else [] if tools == "none" else list(tools)  # type: ignore[arg-type]
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
        prompt = render("plan", question=question, choices=choices)
        messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
        try:
            reply, completion = structured(services.llm, messages, _PlanReply, max_tokens=96)
        except ModelOutputError as exc:
            rec.note(f"planner fell back to rules: {exc}")
            return {**update, "plan": base}
        rec.model(services.llm.spec, completion, role="plan")
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


def fan_out_tools(state: GraphState) -> list[Send] | str:
    """Router: one parallel ``perceive`` task per planned tool (segmentation waits for boxes)."""
    kinds = [k for k in state["plan"].tools if k != "segment"]
    if not kinds:
        return "segment"
    return [Send("perceive", {**state, "perceive": kind}) for kind in kinds]


def fan_out_perception(state: GraphState) -> list[Send]:
    """Router: ``fan_out_tools`` plus ``describe``, the VLM's look, in parallel (the node
    notes in the trace when no VLM is configured)."""
    kinds = [k for k in state["plan"].tools if k != "segment"]
    return [*(Send("perceive", {**state, "perceive": kind}) for kind in kinds), Send("describe", {**state})]


def run_tool(
    services: Services,
    rec: Recorder,
    kind: ToolKind,
    state: GraphState,
    *,
    prompts: dict[int, list[Evidence]] | None = None,
    params: dict[str, Any] | None = None,
    region: Box | None = None,
    images: Sequence[int] | None = None,
    tag: str = "",
    tool_name: str | None = None,
) -> list[Evidence]:
    """Run the configured ``kind`` tool on the question's images through the perception cache.

    Evidence ids are ``det0``, ``ocr3`` (``i1.det0`` on the second image); ``tag``
    prefixes them (``r2.det0``) so repeated looks in a loop never collide.
    """
    tool = services.tool(kind, tool_name)
    p = services.tool_params(tool, **(params or {}))
    found: list[Evidence] = []
    for index, image in enumerate(state["images"]):
        if images is not None and index not in images:
            continue
        image_prompts = (prompts or {}).get(index)
        if prompts is not None and not image_prompts:
            continue
        extra = [(e.id, e.box.xyxyn if e.box else None) for e in image_prompts or []]
        key = tool.cache_key(image, p, region, extra=extra or None)
        hit = services.cache.get(key)
        with rec.tool(tool.name, cached=hit is not None, image=image.short_hash) as detail:
            try:
                result = hit if hit is not None else tool.run(image, p, region=region, prompts=image_prompts)
            except Exception as exc:  # a failing tool becomes a note; the answer uses the rest
                if isinstance(exc, MissingDependencyError):
                    raise
                detail["error"] = f"{type(exc).__name__}: {exc}"[:300]
                rec.note(f"{tool.name} failed on image {index + 1} ({detail['error']}); answering without it")
                continue
            detail["found"] = len(result)
            if params:
                detail["params"] = params
            if region is not None:
                detail["region"] = [round(v, 3) for v in region.xyxyn]
        if hit is None:
            services.cache.put(key, result)
        prefix = tag + (_ID_PREFIX[kind] if index == 0 else f"i{index}.{_ID_PREFIX[kind]}")
        found += [ev.model_copy(update={"id": f"{prefix}{n}", "image": index}) for n, ev in enumerate(result)]
    return found


def make_perceive(services: Services, *, tools: dict[str, str] | None = None) -> NodeFn:
    """Run one planned tool kind. ``tools`` picks registered tools per kind for this graph
    (``{detect: ultralytics}``), overriding the config."""
    chosen = dict(tools or {})
    unknown = sorted(set(chosen) - set(_ID_PREFIX))
    if unknown:
        raise ValueError(f"unknown tool kinds {unknown}; choose from {', '.join(_ID_PREFIX)}")

    def perceive(state: GraphState, rec: Recorder) -> dict[str, Any]:
        kind = state["perceive"]
        return {"evidence": run_tool(services, rec, kind, state, tool_name=chosen.get(kind))}

    return perceive


def segment_prompts(evidence: Sequence[Evidence], targets: Sequence[str], *, max_objects: int = 4) -> dict[int, list[Evidence]]:
    """Detections to prompt a segmenter with, per image: the question's classes (else every
    object), most confident first, at most ``max_objects`` each."""
    objects = [e for e in evidence if e.kind == "object"]
    named = [e for e in objects if (canonical(e.label or "") or e.label) in targets] or objects
    prompts: dict[int, list[Evidence]] = {}
    for ev in sorted(named, key=lambda e: -(e.score or 0)):
        if len(prompts.setdefault(ev.image, [])) < max_objects:
            prompts[ev.image].append(ev)
    return prompts


def make_segment(services: Services, *, max_objects: int = 4) -> NodeFn:
    """Segment the objects the question names (or the most confident ones) when the plan asks."""

    def segment(state: GraphState, rec: Recorder) -> dict[str, Any]:
        plan = state["plan"]
        if "segment" not in plan.tools:
            return {}
        prompts = segment_prompts(state.get("evidence", []), plan.targets, max_objects=max_objects)
        if not prompts:
            rec.note("nothing to segment: no objects were detected")
            return {}
        return {"evidence": run_tool(services, rec, "segment", state, prompts=prompts)}

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
    ``answer_candidates`` under an enum schema, so a small model copies instead
    of inventing; when one candidate is left, no model is asked. Other questions
    get a short free-text answer.
    """

    def reason(state: GraphState, rec: Recorder) -> dict[str, Any]:
        choices = state.get("choices") or []
        analysis = understood(state)
        candidates = answer_candidates(analysis, state.get("evidence", []), images=state["images"]) if grounded else None
        if candidates and len(candidates) == 1:
            rec.note(f"the evidence leaves one answer: {candidates[0]!r} (no model call)")
            unseen = [t.noun for t in analysis.unseen]
            if unseen:
                rec.note(f"no tool can see {', '.join(unseen)}: the answer is a guess")
            return {"draft": candidates[0], "basis": "guess" if unseen else "evidence"}
        prompt = render(
            "reason", question=state["question"], choices=choices, evidence=state.get("context", ""), history=state.get("history", [])[-3:]
        )
        messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
        llm = services.llm
        try:
            if candidates:
                choice: Any = Literal[tuple(candidates)]
                reply_type: type[BaseModel] = create_model("GroundedReply", answer=(choice, ...))
                reply, completion = structured(llm, messages, reply_type, max_tokens=max_tokens + 32)
                rec.note(f"grounded answer: chose among {len(candidates)} candidates from the evidence")
                draft, basis = str(reply.model_dump()["answer"]), "evidence"
            else:
                completion = llm.complete(messages, max_tokens=max_tokens)
                draft, basis = _first_sentence(completion.text), "model"
        except ModelOutputError as exc:
            rec.note(str(exc))
            return {"draft": ""}
        rec.model(llm.spec, completion, role="reason")
        if analysis.unseen and not state.get("sources"):
            rec.note(f"no tool can see {', '.join(t.noun for t in analysis.unseen)}: the answer is a guess")
            basis = "guess"
        return {"draft": draft, "basis": basis}

    return reason


def _first_sentence(text: str) -> str:
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
            basis = "evidence" if fallback is not None and out.text == fallback and not analysis.unseen else "guess"
        return {"answer": out.text, "basis": basis}

    return answer


def make_route(services: Services, *, zoom_min_side: int = 1200) -> NodeFn:
    """Decide what the question still needs once the tools and the program have run, and say why.

    Sets ``next`` for the ``by_next`` router: ``answer`` when a program decided it; ``web_search`` when it needs knowledge the
    image lacks and a search backend is configured; ``zoom`` when objects it names are
    missing from a large image; else ``reason`` (prism-style, with the candidates
    the analysis allows).
    """

    def route(state: GraphState, rec: Recorder) -> dict[str, Any]:
        q = understood(state)
        evidence = state.get("evidence", [])
        seen = {canonical(e.label or "") or e.label for e in evidence if e.kind == "object"}
        missing = [label for label in q.labels if label not in seen]
        large = any(max(i.width, i.height) >= zoom_min_side for i in state["images"])
        if state.get("draft"):
            chosen, why = "answer", "an evidence program decided it"
        elif q.needs_knowledge and services.config.search:
            chosen, why = "web_search", f"it needs knowledge the image lacks; searching {services.config.search}"
        elif missing and large:
            chosen, why = "zoom", f"{', '.join(missing)} not found in a {max(i.width for i in state['images'])}-px image"
        else:
            chosen = "reason"
            why = f"{q.form} question; reasoning over the evidence" + (" (knowledge needed, no search backend configured)" if q.needs_knowledge else "")
        rec.note(f"route: {chosen} ({why})")
        return {"next": chosen}

    return route
