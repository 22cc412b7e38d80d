"""Search queries from the question and what perception saw (OCR names and brands, objects).

The LLM writes up to three under a JSON schema (``maxItems`` 3); rules give a
floor that needs no model: quoted and capitalized spans, OCR lines, and the
question's content words with the text read in the image.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, Field

from agentvlm.errors import ModelError
from agentvlm.graph.services import Recorder, Services
from agentvlm.retrieval.bm25 import tokenize
from agentvlm.types import Evidence
from agentvlm.untrusted import PLACEHOLDER, clean

__all__ = ["MAX_QUERIES", "Queries", "evidence_terms", "llm_queries", "rule_queries"]

MAX_QUERIES = 3
_QUOTED = re.compile(r"[\"“']([^\"”']{3,80})[\"”']")
_CAPS = re.compile(r"\b[A-Z][\w'&-]*(?:\s+(?:of|the|de|and|&)?\s*[A-Z][\w'&-]*)+")
_LEAD = re.compile(r"^\s*(who|what|which|when|where|why|how|is|are|was|were|does|do|did|can|tell me)\b\s*", re.IGNORECASE)


class Queries(BaseModel):
    """What the query-writing LLM fills in under constrained decoding."""

    queries: list[Annotated[str, Field(max_length=80)]] = Field(max_length=MAX_QUERIES, description="web search queries, 2 to 8 words each")


def evidence_terms(evidence: Sequence[Evidence]) -> tuple[list[str], list[str]]:
    """OCR lines (most confident first, untrusted text cleaned, lines addressed to the model dropped) and object labels."""
    texts = [e for e in evidence if e.kind == "text" and e.text and e.text.strip()]
    lines = [clean(" ".join(e.text.split())) for e in sorted(texts, key=lambda e: -(e.score or 0)) if e.text]
    ocr = [line for line in lines if line != PLACEHOLDER]
    labels = [e.label for e in evidence if e.kind == "object" and e.label]
    return list(dict.fromkeys(ocr)), list(dict.fromkeys(labels))


def _dedupe(queries: Sequence[str]) -> list[str]:
    seen: set[frozenset[str]] = set()
    out: list[str] = []
    for q in queries:
        q = " ".join(q.split()).strip(" ?.!,;:")[:120]
        key = frozenset(tokenize(q))
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(q)
    return out


def rule_queries(question: str, evidence: Sequence[Evidence] = ()) -> list[str]:
    """Up to three queries from rules alone.

    Example:
        >>> rule_queries('Who founded "the copy centre"?')
        ['founded the copy centre', 'the copy centre']
    """
    ocr, _ = evidence_terms(evidence)
    content = re.sub(r"[\"“”]", "", _LEAD.sub("", question)).strip(" ?.!")
    spans = [m.group(1) for m in _QUOTED.finditer(question)] + [m.group(0) for m in _CAPS.finditer(question[1:])]
    names = [line for line in ocr if len(tokenize(line)) >= 1][:3]
    first = f"{content} {' '.join(names[:2])}".strip() if names else content
    first = re.sub(r"\b(this|that|these|the|in the|on the)\s+(sign|image|picture|photo|label)\b", "", first, flags=re.IGNORECASE)
    return _dedupe([first, *spans, *names])[:MAX_QUERIES]


def llm_queries(services: Services, rec: Recorder, question: str, evidence: Sequence[Evidence] = ()) -> list[str]:
    """Up to three queries the LLM writes under a JSON schema.

    Raises:
        ModelError: The model gave no valid reply (callers fall back to ``rule_queries``).
    """
    ocr, labels = evidence_terms(evidence)
    reply = services.ask("queries", Queries, rec=rec, role="queries", max_tokens=96, question=question, ocr=ocr[:8], objects=labels[:8])
    queries = _dedupe(reply.queries)
    if not queries:
        raise ModelError(f"{services.llm.spec} wrote no usable search query")
    return queries[:MAX_QUERIES]
