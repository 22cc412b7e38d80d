"""Node types that ask the perception VLM: Prism's query-specific description, and focused sub-questions.

Both add ``statement`` evidence beside the tools' (verbalized under "Statements"),
so the reasoning LLM reads what the VLM saw next to what the detector and OCR
measured. Without a configured VLM they add nothing and say so in the trace, so a
graph can include them unconditionally.
"""

from __future__ import annotations

from typing import Any

from agentvlm.graph.actions import FunctionAction
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState, Plan
from agentvlm.models.vlm import DescribeRequest, YesNoRequest
from agentvlm.prompts import render
from agentvlm.types import Evidence

__all__ = ["ASK_VLM_ACTION", "NO_VLM_NOTE", "make_ask_vlm", "make_describe"]

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
        requests = [DescribeRequest(images=[ref], prompt=plan.instruction, max_tokens=max_tokens) for ref in images]
        found: list[Evidence] = []
        for index, completion in enumerate(vlm.describe_batch(requests)):
            rec.model(vlm.spec, completion, role="describe", image=images[index].short_hash)
            text = _clean(completion.text)
            if text:
                found.append(Evidence(id=_ev_id("vlm", index, 0), tool=vlm.spec, kind="statement", text=text, image=index))
            else:
                rec.note(f"{vlm.spec} gave an empty description of image {index}")
        return {"evidence": found}

    return describe


def make_ask_vlm(services: Services, *, max_targets: int = 3, max_tokens: int = 48, probability: bool = True) -> Any:
    """Ask the VLM one focused question per plan target and image ("Is there a bus? Where?").

    With ``probability``, each statement's ``score`` is the VLM's P("Yes") that
    the target is there (next-token logits or server logprobs; sampled where the
    backend has neither), so reasoning can weigh a hedged "maybe" below a sure "yes".
    """

    def ask_vlm(state: GraphState, rec: Recorder) -> dict[str, Any]:
        vlm, plan = _vlm_and_plan(services, state, rec)
        if vlm is None:
            return {}
        targets = plan.targets[:max_targets]
        if not targets:
            rec.note("no targets in the plan: nothing to ask the VLM")
            return {}
        pairs = [(i, ref, t) for i, ref in enumerate(state["images"]) for t in targets]
        answers = vlm.describe_batch(
            [DescribeRequest(images=[ref], prompt=render("vlm_ask", target=t)["user"], max_tokens=max_tokens) for _, ref, t in pairs]
        )
        scores = (
            vlm.yes_probability_batch([YesNoRequest(images=[ref], question=render("vlm_ask", target=t)["exists"]) for _, ref, t in pairs])
            if probability
            else [None] * len(pairs)
        )
        found: list[Evidence] = []
        for n, ((index, ref, target), completion, yes) in enumerate(zip(pairs, answers, scores, strict=True)):
            detail: dict[str, Any] = {"role": "ask", "target": target, "image": ref.short_hash}
            if yes is not None:
                detail.update(p_yes=round(yes.p, 4), method=yes.method)
            rec.model(vlm.spec, completion, **detail)
            text = _clean(completion.text)
            if not text:
                continue
            attributes = {"question": target} if yes is None else {"question": target, "p_method": yes.method}
            found.append(Evidence(
                id=_ev_id("ask", index, n), tool=vlm.spec, kind="statement", label=target, text=text,
                score=yes.p if yes is not None else None, image=index, attributes=attributes,
            ))
        return {"evidence": found}

    return ask_vlm


def _ask_vlm_action(services: Services, state: GraphState, rec: Recorder, decision: Any, tag: str) -> dict[str, Any]:
    vlm = services.vlm
    completion = vlm.describe(state["images"], decision.target or state["question"])
    rec.model(vlm.spec, completion, role="ask_vlm")
    return {"evidence": [Evidence(id=f"{tag}vlm0", tool=vlm.spec, kind="statement", text=completion.text.strip())]}


ASK_VLM_ACTION = FunctionAction(
    "ask_vlm", "ask a vision model", _ask_vlm_action, available_fn=lambda services: services.config.vlm is not None
)
"""ProReason's ``ask_vlm``: put the decision's target (or the question) to the perception VLM."""
