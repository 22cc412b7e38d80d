"""The ProReason loop: a dispatcher chooses the next look, an actor takes it, a referee decides
whether the evidence now suffices; budgets end it with the best answer so far.

Every decision is a structured output under a JSON schema. A decision that is
malformed (the model broke the schema twice) or impossible (a tool already run,
a VLM that is not configured) is repaired to the action the rules consider most
useful, and the trace says so: a loop never crashes on what a model said.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agentvlm.errors import ModelOutputError
from agentvlm.graph.nodes import NodeFn, rules_plan, run_tool, segment_prompts, understood
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.models import Message, structured
from agentvlm.perception.facts import SURE_SCORE
from agentvlm.perception.verbalize import verbalize
from agentvlm.prompts import render
from agentvlm.question.vocabulary import canonical, labels_in
from agentvlm.types import Evidence

__all__ = ["ACTIONS", "Decision", "by_next", "make_act", "make_dispatch", "make_referee", "rule_action"]

Action = Literal["detect", "ocr", "segment", "zoom", "ask_vlm", "web_search", "program", "answer"]
ACTIONS: tuple[str, ...] = ("detect", "ocr", "segment", "zoom", "ask_vlm", "web_search", "program", "answer")
_ZOOM_MIN_SIDE = 1500  # small objects vanish at the detector's 416-px input only in images this large
_RETRY_CONFIDENCE = 0.1  # targeted re-detection: only the named classes, so a low threshold is affordable


class Decision(BaseModel):
    action: Action
    target: str = Field(default="", max_length=40)


class _Verdict(BaseModel):
    sufficient: bool


def _available(services: Services) -> list[str]:
    from importlib.util import find_spec

    out = ["detect", "ocr", "segment", "zoom"]
    if services.config.vlm:
        out.append("ask_vlm")
    if getattr(services.config, "search", None) and find_spec("agentvlm.retrieval") is not None:
        out.append("web_search")
    if find_spec("agentvlm.programs") is not None:
        out.append("program")
    return [*out, "answer"]


def _found(evidence: list[Evidence], label: str) -> bool:
    return any((canonical(e.label or "") or e.label) == label and (e.score or 1.0) >= SURE_SCORE for e in evidence if e.kind == "object")


def rule_action(state: GraphState, available: list[str]) -> Decision:
    """What the evidence demonstrably lacks, in order of cost; ``answer`` when nothing does."""
    done, evidence = state.get("actions", []), state.get("evidence", [])
    needs = rules_plan(understood(state))
    targets = state["plan"].targets or needs.targets
    if "detect" not in done:
        return Decision(action="detect")
    if "ocr" in needs.tools and "ocr" not in done:
        return Decision(action="ocr")
    missing = [t for t in targets if not _found(evidence, t)]
    if missing and "detect:retry" not in done:
        return Decision(action="detect", target=",".join(missing))
    large = any(max(i.width, i.height) >= _ZOOM_MIN_SIDE for i in state["images"])
    if missing and large and "zoom" not in done and "zoom" in available:
        return Decision(action="zoom", target=",".join(missing))
    if "segment" in needs.tools and "segment" not in done:
        return Decision(action="segment")
    return Decision(action="answer")


def _repair(decision: Decision, state: GraphState, available: list[str], rec: Recorder) -> Decision:
    """Keep a decision that is possible and useful; otherwise take the rules' next action.

    What the rules know is missing comes first: a model may pick a look the rules
    cannot judge (the VLM, the web, a program), but not a different tool while the
    question's own needs are unmet.
    """
    done = state.get("actions", [])
    needed = rule_action(state, available)
    reason = None
    if decision.action == "detect" and decision.target:
        named = labels_in(decision.target)
        decision = decision.model_copy(update={"target": ",".join(named)})
        if not named:
            reason = "its target names no object the detector knows"
        elif "detect" not in done or "detect:retry" in done:
            reason = "a targeted re-detection comes after one full detection, once"
    elif decision.action == "detect" and "detect" in done:
        reason = "detection was already done"
    if reason is not None:
        pass
    elif decision.action not in available:
        reason = f"'{decision.action}' is not available here (available: {', '.join(available)})"
    elif decision.action in done and decision.action != "ask_vlm":
        reason = f"'{decision.action}' was already done"
    elif needed.action != "answer" and decision.action in ("detect", "ocr", "segment", "zoom", "answer") and decision != needed:
        reason = f"the question still needs {needed.action}"
    if reason is None:
        return decision
    rec.note(f"dispatcher chose {decision.action}: {reason}; repaired to {needed.action}")
    return needed


def make_dispatch(services: Services, *, use_llm: bool = True, budget: int = 200) -> NodeFn:
    def dispatch(state: GraphState, rec: Recorder) -> dict[str, Any]:
        available = _available(services)
        spent = services.over_budget(state)
        if spent:
            rec.note(f"stopping: {spent}; answering with the evidence so far")
            return {"decision": {"action": "answer", "target": ""}, "next": "finish"}
        if use_llm:
            context = verbalize(state.get("evidence", []), question=understood(state), targets=state["plan"].targets, budget_tokens=budget).text
            prompt = render(
                "dispatch", question=state["question"], choices=state.get("choices") or [],
                evidence=context, done=state.get("actions", []), actions=available,
            )  # fmt: skip
            msgs = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
            try:
                decision, completion = structured(services.llm, msgs, Decision, max_tokens=48)
                rec.model(services.llm.spec, completion, role="dispatch")
            except ModelOutputError as exc:
                rec.note(f"dispatcher output unusable ({exc}); using the rules")
                decision = rule_action(state, available)
        else:
            decision = rule_action(state, available)
        decision = _repair(decision, state, available, rec)
        nxt = "finish" if decision.action == "answer" else "act"
        return {"decision": decision.model_dump(), "next": nxt}

    return dispatch


def make_act(services: Services) -> NodeFn:
    """Carry out the dispatcher's decision; every look is one more round."""

    def act(state: GraphState, rec: Recorder) -> dict[str, Any]:
        decision = Decision.model_validate(state["decision"])
        rnd = state.get("round", 0) + 1
        tag = f"r{rnd}."
        evidence: list[Evidence] = []
        label: str = decision.action
        if decision.action == "detect" and decision.target:
            # Look again for just the named classes, at a low threshold and a larger input.
            wanted = set(labels_in(decision.target))
            looked = run_tool(services, rec, "detect", state, params={"confidence": _RETRY_CONFIDENCE}, tag=tag)
            evidence = [e for e in looked if (canonical(e.label or "") or e.label) in wanted]
            label = "detect:retry"
        elif decision.action in ("detect", "ocr"):
            evidence = run_tool(services, rec, "detect" if decision.action == "detect" else "ocr", state, tag=tag)
        elif decision.action == "zoom":
            from agentvlm.zoom import zoom_search

            evidence = zoom_search(services, state, rec, tag=tag)
        elif decision.action == "segment":
            prompts = segment_prompts(state.get("evidence", []), state["plan"].targets)
            if prompts:
                evidence = run_tool(services, rec, "segment", state, prompts=prompts, tag=tag)
        elif decision.action == "ask_vlm":
            vlm = services.vlm
            question = decision.target or state["question"]
            completion = vlm.describe(state["images"], question)
            rec.model(vlm.spec, completion, role="ask_vlm")
            evidence = [Evidence(id=f"{tag}vlm0", tool=vlm.spec, kind="statement", text=completion.text.strip())]
        elif decision.action == "web_search":
            from agentvlm.retrieval import search_and_read  # type: ignore[attr-defined,unused-ignore]

            sources, context = search_and_read(services, state["question"], state.get("evidence", []), rec)
            evidence = [Evidence(id=f"{tag}web0", tool="web_search", kind="statement", text=context)] if context else []
            return {"evidence": evidence, "round": rnd, "actions": [label], "sources": sources}
        elif decision.action == "program":
            from agentvlm.programs import run_program  # type: ignore[attr-defined,unused-ignore]

            out = run_program(services, state, rec) or {}
            evidence = list(out.get("evidence", []))  # detections from its recall passes
            if out.get("draft"):
                evidence.append(
                    Evidence(id=f"{tag}prog0", tool="program", kind="statement", text=f"A program computed the answer: {out['draft']}")
                )
        if not evidence:
            rec.note(f"{label} found nothing new")
        return {"evidence": evidence, "round": rnd, "actions": [label]}

    return act


def make_referee(services: Services, *, use_llm: bool = True, budget: int = 200) -> NodeFn:
    """Necessary (the rules: nothing the question needs is missing) and sufficient (the LLM agrees)."""

    def referee(state: GraphState, rec: Recorder) -> dict[str, Any]:
        spent = services.over_budget(state)
        if spent:
            rec.note(f"stopping: {spent}; answering with the evidence so far")
            return {"next": "finish"}
        available = _available(services)
        needed = rule_action(state, available)
        if needed.action != "answer":
            rec.note(f"evidence incomplete: {needed.action} {needed.target}".strip())
            return {"next": "dispatch"}
        if use_llm:
            context = verbalize(state.get("evidence", []), question=understood(state), targets=state["plan"].targets, budget_tokens=budget).text
            prompt = render("referee", question=state["question"], evidence=context)
            msgs = [Message(role="system", content=prompt["system"]), Message(role="user", content=prompt["user"])]
            try:
                verdict, completion = structured(services.llm, msgs, _Verdict, max_tokens=16)
                rec.model(services.llm.spec, completion, role="referee")
                rec.note(f"referee: {'sufficient' if verdict.sufficient else 'insufficient, but nothing the rules know of is missing'}")
            except ModelOutputError as exc:
                rec.note(f"referee output unusable ({exc}); the rules say sufficient")
        return {"next": "finish"}

    return referee


def by_next(state: GraphState) -> str:
    """Router: follow the ``next`` a loop node chose (``act``, ``dispatch`` or ``finish``)."""
    return state.get("next", "finish")
