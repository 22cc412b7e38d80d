"""The graph steps that ask the perception VLM: ``look`` (the default graph's), Prism's
query-specific ``describe``, the ``ask_vlm`` sub-questions, and ProReason's ``ask_vlm`` action.

All of them ask through ``look.ask.ask_vlm`` (one batch, a time limit, every call
recorded) about views from ``look.views`` (a crop around what a tool located, or the
whole image). What the VLM says becomes ``statement`` evidence, verbalized beside the
tools'. Without a configured VLM they add nothing and say so in the trace, so a graph
can include them unconditionally.
"""

from __future__ import annotations

from typing import Any

from agentvlm.evidence.candidates import answer_candidates, measured_answers
from agentvlm.graph.actions import FunctionAction
from agentvlm.graph.nodes import understood
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState, Plan
from agentvlm.look.ask import Ask, Reply, ask_vlm, focused_prompt, in_form
from agentvlm.look.policy import SURE, weigh
from agentvlm.look.views import View, views_for
from agentvlm.models.vlm import YesNoRequest
from agentvlm.prompts import render
from agentvlm.question import Question, analyze
from agentvlm.types import Evidence

__all__ = ["ASK_VLM_ACTION", "NO_VLM_NOTE", "make_ask_vlm", "make_describe", "make_look"]

NO_VLM_NOTE = "no VLM configured: answering from the tools alone"
_MAX_CHARS = 600


def _ev_id(prefix: str, image: int, n: int) -> str:
    return f"{prefix}{n}" if image == 0 else f"i{image}.{prefix}{n}"


def _clean(text: str) -> str:
    return " ".join(text.split())[:_MAX_CHARS]


def _vlm_and_plan(services: Services, state: GraphState, rec: Recorder) -> tuple[Any, Plan]:
    """The configured VLM (``None``, noted, when there is none) and the plan it works from."""
    vlm = services.vlm
    if vlm is None:
        rec.note(NO_VLM_NOTE)
    return vlm, state.get("plan") or Plan()


def _statement(reply: Reply, spec: str, n: int, **attributes: Any) -> Evidence:
    """A VLM reply as evidence: what it was asked, about which view, what it said, how sure."""
    view = next((v for v in reply.ask.views if v.region is not None), reply.ask.views[0])
    attrs: dict[str, Any] = {"views": [v.about for v in reply.ask.views], **attributes}
    if reply.confidence is not None:
        attrs.update(confidence=round(reply.confidence, 4), method=reply.method)
    if view.source:
        attrs["region_of"] = view.source
    return Evidence(
        id=_ev_id("look", view.image, n), tool=spec, kind="statement", text=_clean(reply.text), image=view.image,
        box=view.region, score=reply.confidence, attributes=attrs,
    )  # fmt: skip


def _tools_answer(state: GraphState, q: Question) -> tuple[str | None, str | None]:
    """What the tools answered before the VLM looked: the program's draft and basis, else the one
    answer a measurement leaves (``evidence.candidates``), else nothing."""
    draft = (state.get("draft") or "").strip()
    if draft:
        return draft, state.get("basis") or "program"
    evidence, images = state.get("evidence", []), state["images"]
    candidates = answer_candidates(q, evidence, images=images) or []
    if len(candidates) == 1 and candidates[0] in measured_answers(q, evidence, images=images):
        return candidates[0], "evidence"
    return None, None


def make_look(services: Services, *, context: bool = True, samples: int = 2, timeout: float | None = None,
              max_tokens: int = 32, sure: float = SURE) -> Any:  # fmt: skip
    """Node type ``look``: ask the VLM the question once, in its answer form, about the region that matters, and
    let the tools check it (``look.policy``).

    One request per question: a crop around what a tool located (with the whole image beside it
    when ``context``), or the whole image. Sets ``next`` to ``answer`` when the tools or the VLM
    decided, else ``reason`` (the LLM reads both). Without a VLM it only routes on.

    Args:
        context: Show the whole image beside a crop, in the same request.
        samples: Sampled replies that stand in for a confidence when the backend gives no logprobs
            (0: none, the confidence stays unknown); sent with the reply once the backend is known to lack them.
        timeout: Seconds to wait for the VLM (default: the config's ``vlm_timeout``).
        sure: The VLM confidence from which its answer outweighs a tools' guess.
    """

    def look(state: GraphState, rec: Recorder) -> dict[str, Any]:
        if services.vlm is None:
            rec.note(NO_VLM_NOTE)
            return {"next": "answer" if state.get("draft") else "reason"}
        q = understood(state)
        tools, tools_basis = _tools_answer(state, q)
        images = state["images"]
        views = views_for(q, state.get("evidence", []), images, context=context)
        choices = state.get("choices") or []
        asks = [Ask(views=views, prompt=focused_prompt(q, views, choices), max_tokens=max_tokens)]
        replies = ask_vlm(services, rec, images, asks, role="look", samples=samples, timeout=timeout, question=q)
        reply = replies[0] if replies else None
        said = in_form(q, reply.text) if reply and reply.text else None
        if reply and reply.text and said is None:
            rec.note(f"the VLM's reply {reply.text[:60]!r} is not a {q.form} answer")
        verdict = weigh(tools, tools_basis, said, reply.confidence if reply else None, sure=sure)
        rec.note(f"look: {verdict.decider} decides ({verdict.why})")
        spec = services.vlm.spec
        found = [_statement(r, spec, n, answer=said, decided=verdict.decider == "vlm", agrees=verdict.agrees) for n, r in enumerate(replies) if r.text]
        if verdict.decider == "reason":
            if tools:  # the tools' guess, as a statement beside the VLM's, so reasoning reads both with their sources
                found.append(Evidence(id="look_tools", tool="program", kind="statement", text=f"The tools' best guess, not measured: {tools}."))
            return {"evidence": found, "draft": "", "next": "reason"}
        update: dict[str, Any] = {"evidence": found, "draft": verdict.answer, "basis": verdict.basis, "next": "answer"}
        if state.get("used"):  # the program cited its evidence; the VLM's statement is cited beside it
            update["used"] = [*state["used"], *(e.id for e in found)]
        return update

    return look


def make_describe(services: Services, *, max_tokens: int = 128) -> Any:
    """Describe each image under the plan's query-specific instruction (Prism's perception stage).

    The instruction ("Describe the image, especially the bus.") comes from the
    plan, so the VLM spends its few tokens on what the question is about.
    """

    def describe(state: GraphState, rec: Recorder) -> dict[str, Any]:
        vlm, plan = _vlm_and_plan(services, state, rec)
        if vlm is None:
            return {}
        images = state["images"]
        asks = [Ask(views=[View(image=i)], prompt=plan.instruction, max_tokens=max_tokens) for i in range(len(images))]
        found: list[Evidence] = []
        for index, reply in enumerate(ask_vlm(services, rec, images, asks, role="describe")):
            if reply.text:
                found.append(Evidence(id=_ev_id("vlm", index, 0), tool=vlm.spec, kind="statement", text=_clean(reply.text), image=index))
            elif reply.error == "an empty reply":
                rec.note(f"{vlm.spec} gave an empty description of image {index}")
        return {"evidence": found}

    return describe


def make_ask_vlm(services: Services, *, max_targets: int = 3, max_tokens: int = 48, probability: bool = True) -> Any:
    """Ask the VLM one focused question per plan target and image ("Is there a bus? Where?").

    With ``probability``, each statement's ``score`` is the VLM's P("Yes") that
    the target is there (next-token logits or server logprobs; sampled where the
    backend has neither), so reasoning can weigh a hedged "maybe" below a sure "yes".
    """

    def ask_vlm_node(state: GraphState, rec: Recorder) -> dict[str, Any]:
        vlm, plan = _vlm_and_plan(services, state, rec)
        if vlm is None:
            return {}
        targets = plan.targets[:max_targets]
        if not targets:
            rec.note("no targets in the plan: nothing to ask the VLM")
            return {}
        images = state["images"]
        pairs = [(i, t) for i in range(len(images)) for t in targets]
        scores = (
            vlm.yes_probability_batch([YesNoRequest(images=[images[i]], question=render("vlm_ask", target=t)["exists"]) for i, t in pairs])
            if probability
            else [None] * len(pairs)
        )
        asks = [
            Ask(views=[View(image=i)], prompt=render("vlm_ask", target=t)["user"], max_tokens=max_tokens,
                detail={"target": t, "image": images[i].short_hash, **({"p_yes": round(y.p, 4), "method": y.method} if y else {})})
            for (i, t), y in zip(pairs, scores, strict=True)
        ]  # fmt: skip
        replies = ask_vlm(services, rec, images, asks, role="ask")
        found: list[Evidence] = []
        for n, ((index, target), reply, yes) in enumerate(zip(pairs, replies, scores, strict=True)):
            if not reply.text:
                continue
            attributes: dict[str, Any] = {"question": target} if yes is None else {"question": target, "p_method": yes.method}
            found.append(Evidence(
                id=_ev_id("ask", index, n), tool=vlm.spec, kind="statement", label=target, text=_clean(reply.text),
                score=yes.p if yes is not None else None, image=index, attributes=attributes,
            ))  # fmt: skip
        return {"evidence": found}

    return ask_vlm_node


def _ask_vlm_action(services: Services, state: GraphState, rec: Recorder, decision: Any, tag: str) -> dict[str, Any]:
    """Put the decision's target (or the question) to the VLM, about the region a tool located for it."""
    q = analyze(decision.target) if decision.target else understood(state)
    images = state["images"]
    views = views_for(q, state.get("evidence", []), images)
    replies = ask_vlm(services, rec, images, [Ask(views=views, prompt=focused_prompt(q, views), max_tokens=64)], role="ask_vlm", question=q)
    return {"evidence": [_statement(r, services.vlm.spec, 0).model_copy(update={"id": f"{tag}vlm0"}) for r in replies if r.text]}


ASK_VLM_ACTION = FunctionAction(
    "ask_vlm", "ask a vision model", _ask_vlm_action, available_fn=lambda services: services.config.vlm is not None
)
"""ProReason's ``ask_vlm``: put the decision's target (or the question) to the perception VLM."""
