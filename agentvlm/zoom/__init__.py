"""ZoomEye (Shen et al., 2024): search a large image as a tree of zoomed patches for small objects and text.

The search (``search``) is pure; scorers (``scorers``) give patches their
confidences: a VLM's yes-probabilities, as in the paper, or offline the detector's
and OCR's scores. ``zoom_search`` is the step a loop calls; ``node`` holds the graph nodes.
"""

from agentvlm.zoom.cues import Cue, rule_cues, visual_cues
from agentvlm.zoom.node import (
    make_zoom,
    make_zoom_perceive,
    make_zoom_reason,
    zoom_regions,
    zoom_search,
)
from agentvlm.zoom.run import draw_search, regions, search_cue, zoom_image_path
from agentvlm.zoom.scorers import (
    DetectorScorer,
    OCRScorer,
    Scorer,
    VLMScorer,
    edge_density,
    latent_proxy,
)
from agentvlm.zoom.search import (
    SearchParams,
    SearchResult,
    confidence,
    keep_type2,
    priority,
    search_type1,
    search_type2,
    weight,
)
from agentvlm.zoom.tree import ImageTree, ZoomNode, split_counts

__all__ = [
    "Cue",
    "DetectorScorer",
    "ImageTree",
    "OCRScorer",
    "Scorer",
    "SearchParams",
    "SearchResult",
    "VLMScorer",
    "ZoomNode",
    "confidence",
    "draw_search",
    "edge_density",
    "keep_type2",
    "latent_proxy",
    "make_zoom",
    "make_zoom_perceive",
    "make_zoom_reason",
    "priority",
    "regions",
    "rule_cues",
    "search_cue",
    "search_type1",
    "search_type2",
    "split_counts",
    "visual_cues",
    "weight",
    "zoom_image_path",
    "zoom_regions",
    "zoom_search",
]
