"""The state a graph passes between nodes: references and evidence, never pixels."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field, field_validator

from agentvlm.question import Question
from agentvlm.tools.base import ToolKind
from agentvlm.types import Answer, Evidence, ImageRef, Source, Step

__all__ = ["GraphState", "Plan", "answer_of"]


class Plan(BaseModel):
    """What to observe for this question (Prism's query-specific instruction) and which tools to run."""

    instruction: str = "Describe the image."
    tools: list[ToolKind] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    source: Literal["llm", "rules"] = "rules"

    @field_validator("tools")
    @classmethod
    def _registered(cls, kinds: list[str]) -> list[str]:
        from agentvlm.tools import kind_names

        unknown = [k for k in kinds if k not in kind_names()]
        if unknown:
            raise ValueError(f"unknown tool kinds {unknown}; tool kinds: {', '.join(kind_names())}")
        return kinds


class GraphState(TypedDict, total=False):
    started: float
    question: str
    choices: list[str]
    images: list[ImageRef]
    analysis: Question  # the question understood once (agentvlm.question)
    plan: Plan
    perceive: ToolKind
    evidence: Annotated[list[Evidence], operator.add]
    context: str
    used: list[str]
    draft: str
    program: dict[str, Any]
    answer: str
    basis: str  # what decided the answer: program, evidence, model or guess
    sources: list[Source]  # retrieved passages the answer cites as [n] (agentvlm.retrieval)
    steps: Annotated[list[Step], operator.add]
    # finished turns of the conversation before this one: {question, answer, images}
    history: list[dict[str, Any]]
    # a question with several parts (agentvlm.parts)
    parts: list[Any]  # agentvlm.question.parts.Part, in the order asked
    chain: list[int]  # the parts one ``parts`` task answers, in order (its Send payload)
    part_answers: Annotated[list[Any], operator.add]  # agentvlm.types.PartAnswer
    whole: bool  # answer the question as one part (a part's own run)
    # the ProReason loop
    round: int
    decision: dict[str, str]
    actions: Annotated[list[str], operator.add]
    next: str


def answer_of(values: dict[str, Any], *, graph: str = "", models: dict[str, str] | None = None, seconds: float | None = None) -> Answer:
    """The ``Answer`` a finished run's state holds: ``Agent.ask``'s, and a checkpointed turn's in a report.

    Its evidence is what the answer cited (``used``), else all of it; its parts are in the
    order asked; ``seconds`` defaults to the steps' own time.
    """
    evidence = list(values.get("evidence", []))
    used = set(values.get("used", []))
    steps = list(values.get("steps", []))
    parts = sorted(values.get("part_answers") or [], key=lambda p: p.n)
    analysis = values.get("analysis")
    return Answer(
        question=str(values.get("question", "")),
        text=str(values.get("answer", "")),
        images=list(values.get("images", [])),
        evidence=[e for e in evidence if e.id in used] if used else evidence,
        steps=steps,
        sources=list(values.get("sources", [])),
        graph=graph,
        models=dict(models or {}),
        seconds=round(seconds if seconds is not None else sum(s.seconds for s in steps), 4),
        form="parts" if parts else analysis.form if analysis is not None else "",
        basis=str(values.get("basis") or ""),
        parts=parts,
    )
