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
from agentvlm.graph.state import GraphState, Plan, QuestionKind
from agentvlm.models import Message, structured
from agentvlm.perception.candidates import answer_candidates
from agentvlm.perception.verbalize import verbalize as verbalize_evidence
from agentvlm.perception.vocabulary import asks_for_count, asks_for_text, canonical, labels_in
from agentvlm.prompts import render
from agentvlm.tools import ToolKind
from agentvlm.types import Box, Evidence

__all__ = [
    "NodeFn",
    "choice_letter",
    "fan_out_perception",
    "fan_out_tools",
    "make_answer",
    "make_perceive",
    "make_plan",
    "make_reason",
    "make_segment",
    "make_verbalize",
    "rules_plan",
    "run_tool",
    "segment_prompts",
]

NodeFn = Callable[[GraphState, Recorder], dict[str, Any]]
_ID_PREFIX: dict[str, str] = {"detect": "det", "ocr": "ocr", "segment": "seg"}
_SEGMENT_WORDS = re.compile(r"\b(area|size|shape|mask|outline|cover|covers|silhouette|how much of)\b", re.IGNORECASE)
_YESNO = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|has|have|will)\b", re.IGNORECASE)
_WHERE = re.compile(r"\bwhere\b|\bwhich side\b|\bleft\b|\bright\b|\babove\b|\bbelow\b", re.IGNORECASE)


class _PlanReply(BaseModel):
    """What the planning LLM fills in under constrained decoding."""

    instruction: str = Field(max_length=160)
    tools: list[Literal["detect", "ocr", "segment"]] = Field(max_length=3)
    targets: list[str] = Field(max_length=4)


def rules_plan(question: str, choices: Sequence[str] = ()) -> Plan:
    """The plan that keyword rules alone give; also the floor under an LLM's plan."""
    targets = labels_in(" ".join([question, *choices]))
    tools: list[ToolKind] = ["detect"]
    kind: QuestionKind = "other"
    if asks_for_text(question):
        tools.append("ocr")
        kind = "read"
    if asks_for_count(question):
        kind = "count"
    elif _YESNO.search(question) and kind == "other":
        kind = "yesno"
    elif _WHERE.search(question) and kind == "other":
        kind = "where"
    if choices and kind == "other":
        kind = "choice"
    if _SEGMENT_WORDS.search(question):
        tools.append("segment")
    focus = ", ".join(targets) or ("the text" if "ocr" in tools else "what the question asks about")
    return Plan(instruction=f"Describe the image, especially {focus}.", tools=tools, targets=targets, kind=kind)


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
        base = rules_plan(question, choices)
        if not base.targets:
            # A follow-up ("and the one on the left?") is about what the last turn named.
            for turn in reversed(state.get("history", [])):
                earlier = labels_in(str(turn.get("question", "")))
                if earlier:
                    base = base.model_copy(update={"targets": earlier})
                    rec.note(f"targets carried over from the previous turn: {', '.join(earlier)}")
                    break
        if planner == "rules":
            return {"plan": fixed(base)}
        prompt = render("plan", question=question, choices=choices)
        messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
        try:
            reply, completion = structured(services.llm, messages, _PlanReply, max_tokens=96)
        except ModelOutputError as exc:
            rec.note(f"planner fell back to rules: {exc}")
            return {"plan": base}
        rec.model(services.llm.spec, completion, role="plan")
        # The rules decide what the question demonstrably needs; the LLM may add OCR and names.
        chosen = list(base.tools) + [t for t in reply.tools if t == "ocr" and t not in base.tools]
        extra_targets = labels_in(" ".join(reply.targets))
        targets = list(dict.fromkeys([*base.targets, *extra_targets]))
        added = sorted(set(chosen) - set(base.tools))
        if added:
            rec.note(f"LLM plan added {', '.join(added)}")
        instruction = reply.instruction.strip() or base.instruction
        return {"plan": fixed(base.model_copy(update={"instruction": instruction, "tools": chosen, "targets": targets, "source": "llm"}))}

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
            question=state["question"],
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
    existence, reading, positions, options) are answered by choosing among
    ``answer_candidates`` under an enum schema, so a small model copies instead
    of inventing. Other questions get a short free-text answer.
    """

    def reason(state: GraphState, rec: Recorder) -> dict[str, Any]:
        plan, choices = state["plan"], state.get("choices") or []
        prompt = render(
            "reason", question=state["question"], choices=choices, evidence=state.get("context", ""), history=state.get("history", [])[-3:]
        )
        messages = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
        candidates = (
            answer_candidates(plan.kind, state.get("evidence", []), targets=plan.targets, choices=choices)
            if grounded
            else None
        )
        llm = services.llm
        try:
            if candidates:
                choice: Any = Literal[tuple(candidates)]
                reply_type: type[BaseModel] = create_model("GroundedReply", answer=(choice, ...))
                reply, completion = structured(llm, messages, reply_type, max_tokens=max_tokens + 32)
                rec.note(f"grounded answer: chose among {len(candidates)} candidates from the evidence")
                draft = str(reply.model_dump()["answer"])
            else:
                completion = llm.complete(messages, max_tokens=max_tokens)
                draft = _first_sentence(completion.text)
        except ModelOutputError as exc:
            rec.note(str(exc))
            return {"draft": ""}
        rec.model(llm.spec, completion, role="reason")
        return {"draft": draft}

    return reason


def _first_sentence(text: str) -> str:
    """A small model's free text, cut to its first line; a leading "The answer is" is dropped."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(the )?answer( is)?:?\s*", "", line, flags=re.IGNORECASE)
    return line[:300]


def make_answer(services: Services) -> NodeFn:
    """Tidy the draft into the question's form: an option letter for choices, no stray quotes."""

    def answer(state: GraphState, rec: Recorder) -> dict[str, Any]:
        draft = state.get("draft", "").strip().strip("\"'").strip()
        if not draft:
            rec.note("the reasoning model gave no usable answer")
            return {"answer": "I could not answer: the reasoning model returned no usable output (see the trace)."}
        choices = state.get("choices") or []
        if choices:
            letter = choice_letter(draft, choices)
            if letter:
                draft = letter
        return {"answer": draft}

    return answer


def choice_letter(text: str, choices: Sequence[str]) -> str | None:
    """The option letter ``text`` names ("B", "(b)", "Answer: B", or one option's text), else ``None``."""
    letters = "ABCDEFGH"[: len(choices)]
    m = re.search(rf"(?:^|[\s(\[:])([{letters}{letters.lower()}])(?:$|[\s).\]:,])", text.strip())
    if m and (len(text.strip()) <= 3 or m.group(0).strip().startswith("(") or text.strip()[0].upper() == m.group(1).upper()):
        return m.group(1).upper()
    named = [letters[i] for i, c in enumerate(choices) if c.strip() and c.strip().lower() in text.lower()]
    return named[0] if len(named) == 1 else (m.group(1).upper() if m else None)
