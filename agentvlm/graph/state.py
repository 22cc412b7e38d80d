"""The state a graph passes between nodes: references and evidence, never pixels."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field, field_validator

from agentvlm.question import Question
from agentvlm.tools.base import ToolKind
from agentvlm.types import Evidence, ImageRef, Source, Step

__all__ = ["GraphState", "Plan"]


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
