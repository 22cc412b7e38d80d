"""Perception: tool evidence cached, turned into computed facts and compact prompt text.

``vocabulary`` maps question words to detector classes and decides which tools
a question needs; ``spatial`` decides which relations hold between two boxes,
for facts and evidence programs alike; ``facts`` computes counts, positions and
relations in code; ``verbalize`` renders all of it within a token budget for a
small LLM.
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
from agentvlm.perception.spatial import (
    RELATIONS,
    gap,
    inside,
    iou,
    larger,
    relation_holds,
    relations_between,
)
from agentvlm.perception.verbalize import Verbalized, estimate_tokens, text_blocks, verbalize
from agentvlm.perception.vocabulary import (
    COCO_CLASSES,
    SYNONYMS,
    TEXT_WORDS,
    asks_for_count,
    asks_for_relation,
    asks_for_text,
    canonical,
    labels_in,
    plural,
)

__all__ = [
    "COCO_CLASSES",
    "NOT_FOUND",
    "RELATIONS",
    "SYNONYMS",
    "TEXT_WORDS",
    "Fact",
    "PerceptionCache",
    "Verbalized",
    "answer_candidates",
    "asks_for_count",
    "asks_for_relation",
    "asks_for_text",
    "canonical",
    "compute_facts",
    "counts",
    "estimate_tokens",
    "evidence_ids",
    "gap",
    "inside",
    "iou",
    "labels_in",
    "larger",
    "mask_position",
    "percent",
    "plural",
    "position_words",
    "relation_holds",
    "relations",
    "relations_between",
    "text_blocks",
    "verbalize",
]
