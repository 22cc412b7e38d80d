"""Where a photo was probably taken, from what was seen in it: a place phrase, never a position.

A detector names objects, not places, but objects say a lot about the place
(buses and traffic lights: a street; a bed: a bedroom). Each detected class
votes for the places it is typical of, weighted by its score, and words read in
the image vote too (a "CAFE" sign: a café). The result is a short list of place
phrases, most likely first, for a place question's candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from agentvlm.question.vocabulary import label_of
from agentvlm.types import Evidence

__all__ = ["CLOSE", "PLACES", "PLACES_BY_CLASS", "PLACES_BY_WORD", "scene_candidates"]

CLOSE = 0.5  # places with more than this share of the leader's votes stay candidates; the rest are outvoted

PLACES_BY_CLASS: dict[str, tuple[str, ...]] = {
    "car": ("a street",), "bus": ("a street", "a bus stop"), "truck": ("a street",), "motorcycle": ("a street",),
    "bicycle": ("a street",), "traffic light": ("a street",), "stop sign": ("a street",),
    "fire hydrant": ("a street",), "parking meter": ("a street",), "bench": ("a park", "a street"),
    "train": ("a train station",), "airplane": ("an airport",), "boat": ("a harbour",),
    "bed": ("a bedroom",), "toilet": ("a bathroom",), "sink": ("a bathroom", "a kitchen"),
    "toothbrush": ("a bathroom",), "hair drier": ("a bathroom",), "oven": ("a kitchen",),
    "microwave": ("a kitchen",), "refrigerator": ("a kitchen",), "toaster": ("a kitchen",),
    "couch": ("a living room",), "tv": ("a living room",), "remote": ("a living room",),
    "potted plant": ("a living room",), "dining table": ("a dining room", "a restaurant"),
    "wine glass": ("a restaurant",), "cup": ("a café",), "fork": ("a restaurant",), "knife": ("a kitchen",),
    "spoon": ("a kitchen",), "bowl": ("a kitchen",), "pizza": ("a restaurant",), "cake": ("a party",),
    "donut": ("a café",), "sandwich": ("a café",), "hot dog": ("a street",), "laptop": ("an office",),
    "keyboard": ("an office",), "mouse": ("an office",), "cell phone": ("an office",), "book": ("a library",),
    "clock": ("a street",), "cow": ("a farm",), "sheep": ("a farm",), "horse": ("a farm",),
    "elephant": ("a zoo",), "giraffe": ("a zoo",), "zebra": ("a zoo",), "bear": ("a forest",),
    "bird": ("a park",), "skis": ("a ski slope",), "snowboard": ("a ski slope",), "surfboard": ("a beach",),
    "kite": ("a beach", "a park"), "frisbee": ("a park",), "sports ball": ("a sports field",),
    "baseball bat": ("a baseball field",), "baseball glove": ("a baseball field",),
    "tennis racket": ("a tennis court",), "skateboard": ("a skate park",), "suitcase": ("an airport",),
    "umbrella": ("a street",), "backpack": ("a street",), "handbag": ("a street",), "person": ("a street",),
}  # fmt: skip
# Kinds of place for a model to choose among when nothing seen votes for one.
PLACES: tuple[str, ...] = (
    "a street", "a city", "a park", "a garden", "a field", "a forest", "a beach", "a harbour", "a shop",
    "a café", "a restaurant", "a kitchen", "a living room", "a bedroom", "a bathroom", "an office", "a workshop",
    "a museum", "a church", "a station", "an airport", "the sky", "space", "indoors", "outdoors",
)  # fmt: skip
PLACES_BY_WORD: dict[str, str] = {
    "cafe": "a café", "café": "a café", "coffee": "a café", "espresso": "a café", "restaurant": "a restaurant",
    "bar": "a bar", "pub": "a pub", "shop": "a shop", "store": "a shop", "gallery": "a shop", "galleries": "a shop",
    "centre": "a street", "center": "a street", "parking": "a street", "street": "a street", "road": "a street",
    "station": "a train station", "platform": "a train station", "airport": "an airport", "hotel": "a hotel",
    "museum": "a museum", "library": "a library", "park": "a park", "school": "a school", "university": "a campus",
    "campus": "a campus", "church": "a church", "hospital": "a hospital", "bank": "a bank", "market": "a market",
    "bakery": "a bakery", "pharmacy": "a pharmacy", "beach": "a beach", "copy": "a shop", "office": "an office",
}  # fmt: skip


def scene_candidates(evidence: Sequence[Evidence], *, limit: int = 4) -> list[str]:
    """Place phrases the evidence suggests, most likely first; ``[]`` when nothing suggests one.

    Example:
        >>> from agentvlm.types import Box
        >>> bus = Evidence(tool="t", kind="object", label="bus", score=0.9, box=Box(x1=0, y1=0, x2=1, y2=1))
        >>> scene_candidates([bus])  # a bus votes for a street first, a bus stop second (half a vote)
        ['a street']
    """
    votes: dict[str, float] = defaultdict(float)
    for ev in evidence:
        if ev.kind == "object" and ev.label:
            label = label_of(ev)
            for rank, place in enumerate(PLACES_BY_CLASS.get(label, ())):
                votes[place] += (ev.score if ev.score is not None else 0.5) / (rank + 1)
        elif ev.kind == "text" and ev.text:
            for word in re.findall(r"[a-zé]+", ev.text.lower()):
                if word in PLACES_BY_WORD:
                    votes[PLACES_BY_WORD[word]] += 1.5 * (ev.score if ev.score is not None else 0.5)
    ranked = sorted(votes, key=lambda p: -votes[p])
    return [p for p in ranked if votes[p] > CLOSE * votes[ranked[0]]][:limit]
