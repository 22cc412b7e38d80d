"""Graph nodes for retrieval: ``web_search`` finds sources, ``answer_with_sources`` cites them.

    web_search:          {type: web_search, params: {search: "local:docs/", k: 3}}
    answer_with_sources: {type: answer_with_sources}

``web_search`` writes ``state["sources"]`` (``list[Source]``) and, when search
could not run, a ``statement`` evidence saying what was not checked, so the
answer and its trace both show it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from agentvlm.errors import ModelError
from agentvlm.graph.actions import FunctionAction
from agentvlm.graph.nodes import NodeFn
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.question.letters import option_letter
from agentvlm.retrieval.backends import parse_search_spec
from agentvlm.retrieval.bm25 import tokenize
from agentvlm.retrieval.pipeline import RetrievalOptions, format_sources, retrieve
from agentvlm.types import Evidence, Source
from agentvlm.untrusted import redact_instructions

__all__ = ["WEB_SEARCH_ACTION", "cite", "make_answer_with_sources", "make_web_search", "redact_instructions"]

_CITATION = re.compile(r"\[(\d+)\]")


def make_web_search(
    services: Services,
    *,
    search: str | None = None,
    k: int = 3,
    queries: Literal["llm", "rules"] = "llm",
    embed: bool = True,
    allow_private: bool = False,
    allow_hosts: Sequence[str] = (),
    max_pages: int = 6,
    timeout: float = 6.0,
    max_bytes: int = 2_000_000,
    budget_seconds: float = 30.0,
) -> NodeFn:
    """Search (``search`` spec, else the config's), read and rerank; ``k`` sources reach the answer."""
    if search is not None:
        parse_search_spec(search)
    if not 1 <= k <= 10:
        raise ValueError(f"k must be between 1 and 10, got {k}")
    options = RetrievalOptions(
        search=search, k=k, queries=queries, embed=embed, allow_private=allow_private, allow_hosts=tuple(allow_hosts),
        max_pages=max_pages, timeout=timeout, max_bytes=max_bytes, budget_seconds=budget_seconds,
    )

    def web_search(state: GraphState, rec: Recorder) -> dict[str, Any]:
        found = retrieve(services, state["question"], state.get("evidence", []), rec, options=options)
        sources = found.sources  # redacted by the pipeline itself
        rec.note(f"queries: {'; '.join(found.queries)}; {len(sources)} sources")
        update: dict[str, Any] = {"sources": sources}
        if found.unavailable:
            text = "Not checked against outside sources: " + "; ".join(found.unavailable)
            update["evidence"] = [Evidence(id="web0", tool="web_search", kind="statement", text=text[:400])]
        return update

    return web_search


def cite(draft: str, sources: Sequence[Source]) -> str:
    """Keep only citations of real sources; cite the best-overlapping source when the model cited none."""
    valid = {s.n for s in sources}
    text = _CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", draft).strip()
    if _CITATION.search(text) or not sources:
        return " ".join(text.split())
    words = set(tokenize(text))
    overlap = [(len(words & set(tokenize(s.snippet))), -s.n) for s in sources]
    best, neg_n = max(overlap)
    return f"{' '.join(text.split())} [{-neg_n}]" if best > 0 else " ".join(text.split())


def make_answer_with_sources(services: Services, *, max_tokens: int = 64) -> NodeFn:
    """Answer from the image evidence and the delimited sources, citing them as [n]."""

    def answer_with_sources(state: GraphState, rec: Recorder) -> dict[str, Any]:
        sources: list[Source] = state.get("sources", [])
        choices = state.get("choices") or []
        try:
            text = services.ask(
                "retrieval_answer", None, rec=rec, role="reason", max_tokens=max_tokens,
                question=state["question"], choices=choices, evidence=state.get("context", ""), sources=format_sources(sources),
            )  # fmt: skip
        except ModelError as exc:
            rec.note(str(exc))
            return {"draft": ""}
        line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
        line = re.sub(r"^(the )?answer( is)?:?\s*", "", line, flags=re.IGNORECASE)[:300]
        if choices:
            letter = option_letter(line, choices)
            draft = letter or line
        else:
            draft = cite(line, sources) if line else ""
        unchecked = [e.text for e in state.get("evidence", []) if e.tool == "web_search" and e.text]
        if draft and unchecked:
            draft = f"{draft} (Note: {unchecked[0][0].lower()}{unchecked[0][1:]})"
        return {"draft": draft}

    return answer_with_sources


def _search_action(services: Services, state: GraphState, rec: Recorder, decision: Any, tag: str) -> dict[str, Any]:
    from agentvlm.retrieval.pipeline import search_and_read

    sources, context = search_and_read(services, state["question"], state.get("evidence", []), rec)
    evidence = [Evidence(id=f"{tag}web0", tool="web_search", kind="statement", text=context)] if context else []
    return {"evidence": evidence, "sources": sources}


WEB_SEARCH_ACTION = FunctionAction(
    "web_search", "look up knowledge the image lacks", _search_action, available_fn=lambda services: bool(services.config.search)
)
"""ProReason's ``web_search``: the retrieval pipeline's sources, and their text as one statement."""
