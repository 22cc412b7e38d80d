"""Perception: tool evidence cached, turned into computed facts and compact prompt text.

``facts`` computes counts, positions and relations in code;
``verbalize`` renders all of it within a token budget for a small LLM.
"""

from __future__ import annotations

from agentvlm.perception.cache import PerceptionCache
from agentvlm.perception.candidates import NOT_FOUND, answer_candidates
from agentvlm.perception.facts import (
    Fact,
    compute_facts,
    counts,
    evidence_ids,
    mask_position,
    percent,
    position_words,
    relations,
)
from agentvlm.perception.scenes import PLACES_BY_CLASS, PLACES_BY_WORD, scene_candidates
from agentvlm.perception.verbalize import Verbalized, estimate_tokens, text_blocks, verbalize

__all__ = [
    "NOT_FOUND",
    "PLACES_BY_CLASS",
    "PLACES_BY_WORD",
    "Fact",
    "PerceptionCache",
    "Verbalized",
    "answer_candidates",
    "compute_facts",
    "counts",
    "estimate_tokens",
    "evidence_ids",
    "mask_position",
    "percent",
    "position_words",
    "relations",
    "text_blocks",
    "verbalize",
]
