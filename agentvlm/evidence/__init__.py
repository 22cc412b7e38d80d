"""Evidence as data: tool evidence cached, turned into computed facts, answer candidates and compact prompt text.

``spatial`` decides which relations hold between two boxes, for facts and
evidence programs alike; ``facts`` computes counts, positions and relations in
code; ``verbalize`` renders all of it within a token budget for a small LLM.
"""

from __future__ import annotations

from agentvlm.evidence.cache import JsonCache, PerceptionCache
from agentvlm.evidence.candidates import (
    ATTRIBUTE_WORDS,
    NOT_FOUND,
    answer_candidates,
    measured_answers,
)
from agentvlm.evidence.facts import (
    Fact,
    compute_facts,
    counts,
    evidence_ids,
    mask_position,
    percent,
    position_words,
    relations,
)
from agentvlm.evidence.scenes import (
    CLOSE,
    PLACES,
    PLACES_BY_CLASS,
    PLACES_BY_WORD,
    scene_candidates,
)
from agentvlm.evidence.spatial import (
    RELATIONS,
    gap,
    inside,
    iou,
    larger,
    relation_holds,
    relations_between,
)
from agentvlm.evidence.verbalize import Verbalized, estimate_tokens, text_blocks, verbalize

__all__ = [
    "ATTRIBUTE_WORDS",
    "CLOSE",
    "NOT_FOUND",
    "PLACES",
    "PLACES_BY_CLASS",
    "PLACES_BY_WORD",
    "RELATIONS",
    "Fact",
    "JsonCache",
    "PerceptionCache",
    "Verbalized",
    "answer_candidates",
    "compute_facts",
    "counts",
    "estimate_tokens",
    "evidence_ids",
    "gap",
    "inside",
    "iou",
    "larger",
    "mask_position",
    "measured_answers",
    "percent",
    "position_words",
    "relation_holds",
    "relations",
    "relations_between",
    "scene_candidates",
    "text_blocks",
    "verbalize",
]
