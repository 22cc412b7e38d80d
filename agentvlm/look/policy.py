"""Who decides when the tools and the VLM both answered: the policy, in one place.

1. A measurement decides. Where a tool measured what is asked (a program counted
   confident detections, OCR read the text confidently, a relation between located
   boxes, a computed price; or the evidence leaves one measured answer), its answer
   stands (basis ``program`` or ``evidence``) and a VLM that disagrees is noted.
2. Where nothing measured it, the VLM is the eye: its reply, in the question's form,
   is the answer (basis ``vlm``) when it agrees with the tools' guess, when the tools
   had none, or when it is sure (confidence at least ``SURE``, or unknown with no
   tools' guess to weigh it against).
3. Where they disagree and neither is decisive (an unsure VLM against a tools'
   guess), the reasoning LLM reads both, each with its source.
4. Where the VLM gave nothing usable (it failed, timed out, or replied out of form),
   the graph goes on as without a VLM: the tools' guess stands, else reasoning.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

__all__ = ["SURE", "Verdict", "same_answer", "weigh"]

SURE = 0.5
"""VLM confidence (geometric-mean token probability) from which its answer outweighs a tools' guess."""

MEASURED = ("program", "evidence")


class Verdict(BaseModel):
    """What decided the answer, and why, for the trace.

    Attributes:
        decider: ``tools``, ``vlm`` or ``reason`` (the LLM reads both).
        answer: The answer when ``tools`` or ``vlm`` decided, else "".
        basis: The answer's basis (``program``, ``evidence``, ``vlm``, ``guess``), "" for ``reason``.
        why: The rule that applied, in words.
        agrees: Whether the VLM's answer matches the tools' (``None`` when either had none).
    """

    decider: Literal["tools", "vlm", "reason"]
    answer: str = ""
    basis: str = ""
    why: str
    agrees: bool | None = None


def same_answer(a: str, b: str) -> bool:
    """Equal once case, spacing and punctuation are set aside ("7AM" and "7 am.")."""

    def key(s: str) -> str:
        return re.sub(r"[\W_]+", "", s.lower())

    return key(a) == key(b)


def weigh(tools: str | None, tools_basis: str | None, vlm: str | None, vlm_confidence: float | None, *, sure: float = SURE) -> Verdict:
    """Apply the policy to the tools' answer (with its basis) and the VLM's (in the question's form, with its confidence)."""
    agrees = same_answer(tools, vlm) if tools and vlm else None
    if tools and tools_basis in MEASURED:
        if agrees is False:
            why = f"a tool measured what is asked; the VLM said {vlm!r} (confidence {_pct(vlm_confidence)}), overruled"
        else:
            why = "a tool measured what is asked" + ("; the VLM agrees" if agrees else "")
        return Verdict(decider="tools", answer=tools, basis=tools_basis or "evidence", why=why, agrees=agrees)
    if not vlm:
        if tools:
            return Verdict(decider="tools", answer=tools, basis=tools_basis or "guess", why="the VLM gave no answer in the question's form; the tools' guess stands")
        return Verdict(decider="reason", why="the VLM gave no answer in the question's form; reasoning over the tools' evidence")
    if agrees:
        return Verdict(decider="vlm", answer=vlm, basis="vlm", why="the VLM agrees with the tools' unmeasured answer", agrees=True)
    if tools is None and (vlm_confidence is None or vlm_confidence >= sure):
        return Verdict(decider="vlm", answer=vlm, basis="vlm", why=f"no tool measures what is asked; the VLM answered (confidence {_pct(vlm_confidence)})")
    if tools is not None and vlm_confidence is not None and vlm_confidence >= sure:
        why = f"the VLM is sure ({_pct(vlm_confidence)}) and no tool measured what is asked; the tools guessed {tools!r}"
        return Verdict(decider="vlm", answer=vlm, basis="vlm", why=why, agrees=False)
    why = f"the VLM said {vlm!r} (confidence {_pct(vlm_confidence)})" + (f", the tools guessed {tools!r}" if tools else "") + "; neither is decisive: reasoning reads both"
    return Verdict(decider="reason", why=why, agrees=agrees)


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"
