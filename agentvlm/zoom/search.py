"""ZoomEye's search over an ``ImageTree``: pure functions of the confidences scorers give.

Faithful to the paper and its reference code (om-ai-lab/ZoomEye ``zoom_eye.py``):

- confidences are ``2p - 1`` in [-1, 1];
- priority = w * existence + (1 - w) * latent, with w = b + (1 - b) * (depth / D)^2:
  near the root a patch is too coarse to show the object, so the latent
  confidence ("would zooming find it?") leads; deeper, the existence confidence does;
- type 1 (one object): best-first search; a popped node whose answering confidence
  reaches the threshold (0.6) stops it. After ``3 * D`` pops the threshold drops by
  0.1, 0.1, then 0.2 every 2 more pops, and the best node visited so far that meets
  the lowered threshold is taken; below the floor (0) the search gives up;
- type 2 (all of them): a post-order pass to depth 2 keeps every node whose existence
  confidence reaches both the cue threshold (0.6) and its best descendant's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from agentvlm.zoom.tree import ImageTree, ZoomNode

__all__ = [
    "SearchParams",
    "SearchResult",
    "confidence",
    "keep_type2",
    "priority",
    "search_type1",
    "search_type2",
    "weight",
]

RankFn = Callable[[list[ZoomNode]], list[tuple[float, float]]]
"""Existence and latent confidences for a batch of sibling nodes (one scorer call)."""
AnswerFn = Callable[[ZoomNode], float]
"""The answering confidence of one node."""


class SearchParams(BaseModel):
    """The paper's settings (its ``perform_zoom_eye.py``); ``bias`` is b in the weight schedule.

    ``search_cue`` takes ``bias`` and ``cue_threshold`` from the scorer: b = 0.6 for a VLM
    shown the full image and the patch, 0.2 for one shown the patch alone (the paper's two).
    """

    bias: float = Field(default=0.2, ge=0.0, le=1.0)
    answer_threshold: float = 0.6
    answer_floor: float = 0.0
    threshold_steps: tuple[float, ...] = (0.1, 0.1, 0.2)
    pops_per_depth: int = Field(default=3, ge=1)
    pop_interval: int = Field(default=2, ge=1)
    depth_limit: int = Field(default=5, ge=1)
    type2_depth: int = Field(default=2, ge=0)
    cue_threshold: float = 0.6
    force_no_root: bool = False
    force_visit_bottom: bool = False


@dataclass
class SearchResult:
    """What a search found and what it cost, for the answer's trace and the zoom image."""

    kind: str
    found: list[ZoomNode]
    popped: list[ZoomNode] = field(default_factory=list)
    scored: list[ZoomNode] = field(default_factory=list)
    threshold: float = 0.0


def confidence(p: float) -> float:
    """A probability in [0, 1] as a confidence in [-1, 1].

    Example:
        >>> confidence(0.8), confidence(0.5), confidence(0.0)
        (0.6000000000000001, 0.0, -1.0)
    """
    return 2.0 * min(max(p, 0.0), 1.0) - 1.0


def weight(depth: int, max_depth: int, bias: float) -> float:
    """The existence confidence's share of the priority at ``depth``: b + (1 - b) * (depth / D)^2.

    Example:
        >>> weight(0, 3, 0.2), weight(3, 3, 0.2)
        (0.2, 1.0)
    """
    if max_depth <= 0:
        return 1.0
    return bias + (1.0 - bias) * (depth / max_depth) ** 2


def priority(existence: float, latent: float, depth: int, max_depth: int, bias: float) -> float:
    """w * existence + (1 - w) * latent."""
    w = weight(depth, max_depth, bias)
    return w * existence + (1.0 - w) * latent


def search_type1(tree: ImageTree, rank: RankFn, answer: AnswerFn, params: SearchParams | None = None) -> SearchResult:
    """Best-first search for one object; returns the deepest node that could answer (or none)."""
    p = params or SearchParams()
    depth_cap = min(tree.max_depth, p.depth_limit)
    pop_limit = p.pops_per_depth * depth_cap
    threshold, steps = p.answer_threshold, list(p.threshold_steps)
    queue, popped, scored, found = [tree.root], [], [], []
    visited_bottom = False

    def stops(node: ZoomNode) -> bool:
        if p.force_no_root and node.is_root:
            return False
        node.answering = answer(node)
        return node.answering >= threshold

    while queue:
        node = queue.pop(0)
        popped.append(node)
        if stops(node):
            found.append(node)
            if not p.force_visit_bottom or visited_bottom:
                break
        elif len(popped) >= pop_limit:
            threshold -= steps[0]
            if len(steps) > 1:
                steps.pop(0)
            pop_limit += p.pop_interval
            best = max((n for n in popped if n.answering is not None and n.answering >= threshold),
                       key=lambda n: n.answering or 0.0, default=None)  # fmt: skip
            if best is not None:
                found = [best]
                break
            if threshold < p.answer_floor:
                break
        if tree.is_leaf(node) or node.depth >= depth_cap:
            visited_bottom = True
            if p.force_visit_bottom and found:
                break
        else:
            kids = tree.children(node)
            for kid, (e, lat) in zip(kids, rank(kids)):
                kid.existence, kid.latent = e, lat
                kid.priority = priority(e, lat, kid.depth, tree.max_depth, p.bias)
            scored += kids
            queue += kids
        queue.sort(key=lambda n: n.priority if n.priority is not None else -2.0, reverse=True)
    found.sort(key=lambda n: -n.depth)
    return SearchResult(kind="type1", found=found[:1], popped=popped, scored=scored, threshold=threshold)


def search_type2(tree: ImageTree, rank: RankFn, params: SearchParams | None = None) -> SearchResult:
    """Every node to ``type2_depth`` whose existence confidence beats its best descendant's."""
    p = params or SearchParams()
    nodes = tree.down_to(min(p.type2_depth, tree.max_depth))
    for node, (e, lat) in zip(nodes, rank(nodes)):
        node.existence, node.latent = e, lat
    return SearchResult(kind="type2", found=keep_type2(tree.root, p.cue_threshold), popped=[], scored=nodes)


def keep_type2(root: ZoomNode, cue_threshold: float) -> list[ZoomNode]:
    """The post-order rule on scored nodes: keep a node when existence >= max(threshold, best below it)."""
    kept: list[ZoomNode] = []

    def visit(node: ZoomNode) -> float:
        best_below = max((visit(c) for c in node.children or [] if c.existence is not None), default=-1.0)
        own = node.existence if node.existence is not None else -1.0
        if own >= max(best_below, cue_threshold):
            kept.append(node)
        return max(best_below, own)

    visit(root)
    return kept
