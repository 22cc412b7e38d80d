"""The ProReason loop: a dispatcher chooses the next look, an actor takes it, a referee decides
whether the evidence now suffices; budgets end it with the best answer so far.

The looks are ``agentvlm.graph.actions``: every tool kind plus what packages
register. Every decision is a structured output under a JSON schema. A decision
that is malformed (the model broke the schema twice) or impossible (an action
already taken, a VLM that is not configured) is repaired to the action the rules
consider most useful, and the trace says so: a loop never crashes on what a
model said. The referee decides: "insufficient" sends the loop back to the
dispatcher while the budgets last.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from agentvlm.errors import ModelOutputError
from agentvlm.evidence.facts import SURE_SCORE
from agentvlm.evidence.verbalize import verbalize
from agentvlm.graph.actions import ANSWER, Decision, actions
from agentvlm.graph.nodes import NodeFn, rules_plan, understood
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.question.vocabulary import label_of, labels_in
from agentvlm.tools import tool_kinds
from agentvlm.types import Evidence

__all__ = ["Decision", "by_next", "make_act", "make_dispatch", "make_referee", "rule_action"]

_ZOOM_MIN_SIDE = 1500  # small objects vanish at the detector's 416-px input only in images this large


class _Verdict(BaseModel):
    sufficient: bool


@cache
def _decision_schema(names: tuple[str, ...]) -> type[BaseModel]:
    """``Decision`` with ``action`` limited to ``names``, so constrained decoding cannot invent one."""
    choice: Any = Literal[names]
    return create_model("Decision", action=(choice, ...), target=(str, Field(default="", max_length=40)))


def _found(evidence: list[Evidence], label: str) -> bool:
    return any(label_of(e) == label and (e.score or 1.0) >= SURE_SCORE for e in evidence if e.kind == "object")


def rule_action(state: GraphState, available: list[str]) -> Decision:
    """What the evidence demonstrably lacks, in order of cost; ``answer`` when nothing does.

    Detection first; then the kinds the question calls for (OCR, a plugin's); a
    targeted re-detection, then a zoom, for named objects still missing; last the
    kinds that take earlier evidence as prompts (segmentation).
    """
    done, evidence = state.get("actions", []), state.get("evidence", [])
    needs = rules_plan(understood(state))
    targets = state["plan"].targets or needs.targets
    kinds = tool_kinds()
    if "detect" not in done:
        return Decision(action="detect")
    for kind in needs.tools:
        if kind not in done and kind in available and kinds[kind].prompted_by is None:
            return Decision(action=kind)
    missing = [t for t in targets if not _found(evidence, t)]
    if missing and "detect:retry" not in done:
        return Decision(action="detect", target=",".join(missing))
    large = any(max(i.width, i.height) >= _ZOOM_MIN_SIDE for i in state["images"])
    if missing and large and "zoom" not in done and "zoom" in available:
        return Decision(action="zoom", target=",".join(missing))
    for kind in needs.tools:
        if kind not in done and kind in available:
            return Decision(action=kind)
    return Decision(action=ANSWER)


def _repair(decision: Decision, state: GraphState, available: list[str], rec: Recorder) -> Decision:
    """Keep a decision that is possible and useful; otherwise take the rules' next action.

    What the rules know is missing comes first: a model may pick a look the rules
    cannot judge (the VLM, the web, a program), but not a different tool while the
    question's own needs are unmet.
    """
    done = state.get("actions", [])
    needed = rule_action(state, available)
    judged = {*tool_kinds(), "zoom", ANSWER}
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
    elif decision.action not in available:
        reason = f"'{decision.action}' is not available here (available: {', '.join(available)})"
    elif decision.action in done and decision.action != "ask_vlm":
        reason = f"'{decision.action}' was already done"
    elif needed.action != ANSWER and decision.action in judged and decision != needed:
        reason = f"the question still needs {needed.action}"
    if reason is None:
        return decision
    rec.note(f"dispatcher chose {decision.action}: {reason}; repaired to {needed.action}")
    return needed


def make_dispatch(services: Services, *, use_llm: bool = True, budget: int = 200) -> NodeFn:
    """Choose the next action: the LLM among the available ones (repaired by the rules), or the rules alone."""

    def dispatch(state: GraphState, rec: Recorder) -> dict[str, Any]:
        table = actions(services)
        available = [*table, ANSWER]
        spent = services.over_budget(state)
        if spent:
            rec.note(f"stopping: {spent}; answering with the evidence so far")
            return {"decision": {"action": ANSWER, "target": ""}, "next": "finish"}
        if use_llm:
            context = verbalize(state.get("evidence", []), question=understood(state), targets=state["plan"].targets, budget_tokens=budget).text
            described = [{"name": a.name, "does": a.does} for a in table.values()] + [{"name": ANSWER, "does": "stop looking and answer"}]
            try:
                reply = services.ask(
                    "dispatch", _decision_schema(tuple(available)), rec=rec, role="dispatch", max_tokens=48,
                    question=state["question"], choices=state.get("choices") or [], evidence=context,
                    done=state.get("actions", []), actions=described,
                )  # fmt: skip
                decision = Decision.model_validate(reply.model_dump())
            except ModelOutputError as exc:
                rec.note(f"dispatcher output unusable ({exc}); using the rules")
                decision = rule_action(state, available)
        else:
            decision = rule_action(state, available)
        decision = _repair(decision, state, available, rec)
        return {"decision": decision.model_dump(), "next": "finish" if decision.action == ANSWER else "act"}

    return dispatch


def make_act(services: Services) -> NodeFn:
    """Carry out the dispatcher's decision; every look is one more round."""

    def act(state: GraphState, rec: Recorder) -> dict[str, Any]:
        decision = Decision.model_validate(state["decision"])
        rnd = state.get("round", 0) + 1
        table = actions(services)
        if decision.action not in table:  # the dispatcher repairs first; a hand-written state may not
            rec.note(f"no action '{decision.action}' here (available: {', '.join(table)}); nothing done")
            return {"round": rnd, "actions": [decision.action]}
        update = table[decision.action].run(services, state, rec, decision, f"r{rnd}.")
        if not update.get("evidence"):
            rec.note(f"{update.get('actions', [decision.action])[0]} found nothing new")
        return {"evidence": [], "actions": [decision.action], **update, "round": rnd}

    return act


def make_referee(services: Services, *, use_llm: bool = True, budget: int = 200) -> NodeFn:
    """Necessary (the rules: nothing the question needs is missing) and sufficient (the LLM agrees).

    "Insufficient" goes back to the dispatcher, which may choose a look the rules
    cannot judge (the VLM, the web, a program); the budgets bound the rounds.
    """

    def referee(state: GraphState, rec: Recorder) -> dict[str, Any]:
        spent = services.over_budget(state)
        if spent:
            rec.note(f"stopping: {spent}; answering with the evidence so far")
            return {"next": "finish"}
        needed = rule_action(state, [*actions(services), ANSWER])
        if needed.action != ANSWER:
            rec.note(f"evidence incomplete: {needed.action} {needed.target}".strip())
            return {"next": "dispatch"}
        if not use_llm:
            return {"next": "finish"}
        context = verbalize(state.get("evidence", []), question=understood(state), targets=state["plan"].targets, budget_tokens=budget).text
        try:
            verdict = services.ask("referee", _Verdict, rec=rec, role="referee", max_tokens=16, question=state["question"], evidence=context)
        except ModelOutputError as exc:
            rec.note(f"referee output unusable ({exc}); the rules say sufficient")
            return {"next": "finish"}
        if verdict.sufficient:
            rec.note("referee: sufficient")
            return {"next": "finish"}
        rec.note("referee: insufficient; back to the dispatcher")
        return {"next": "dispatch"}

    return referee


def by_next(state: GraphState) -> str:
    """Router: follow the ``next`` a node chose (``act``, ``dispatch``, ``finish``, a route)."""
    return state.get("next", "finish")
