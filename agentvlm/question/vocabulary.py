"""Map question words to detector class names.

Detectors speak the 80 COCO class names; people ask about "men", "a sofa" or
"traffic lights". ``labels_in`` and ``label_spans`` bridge the two without an
LLM, in microseconds, deterministically; the question analysis reads them.

Matching is case-insensitive on whole words, tries the longest phrase first
("hot dog" wins over "dog", "bus stop" hides "bus"), accepts plurals (regular
ones by rule, irregular ones from ``_IRREGULAR``) and a hyphen for a space
("cell-phone"). Known limits: words with a second meaning still match
("orange" the colour is the fruit, "mouse" the animal is the computer mouse).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = [
    "COCO_CLASSES",
    "SYNONYMS",
    "canonical",
    "label_of",
    "label_spans",
    "labels_in",
    "normal_label",
    "plural",
]

COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

# Question word -> COCO class. Plurals of these come from ``plural``; Darknet's
# spellings (aeroplane, sofa, tvmonitor...) are here too so its labels normalize.
SYNONYMS: dict[str, str] = {
    # person
    "man": "person", "woman": "person", "child": "person", "kid": "person", "boy": "person",
    "girl": "person", "people": "person", "persons": "person", "pedestrian": "person",
    "player": "person", "guy": "person", "lady": "person", "human": "person", "adult": "person",
    "baby": "person", "toddler": "person", "gentleman": "person",
    # vehicles
    "bike": "bicycle", "automobile": "car", "taxi": "car", "motorbike": "motorcycle",
    "aeroplane": "airplane", "plane": "airplane", "jet": "airplane", "aircraft": "airplane",
    "locomotive": "train", "lorry": "truck", "van": "truck", "pickup": "truck", "minivan": "car", "ship": "boat", "sailboat": "boat",
    # street
    "traffic signal": "traffic light", "stoplight": "traffic light", "stop light": "traffic light",
    "hydrant": "fire hydrant",
    # animals
    "kitten": "cat", "puppy": "dog", "pony": "horse", "lamb": "sheep", "calf": "cow",
    "bull": "cow",
    # accessories and sports
    "rucksack": "backpack", "purse": "handbag", "necktie": "tie", "luggage": "suitcase",
    "ski": "skis", "ball": "sports ball", "soccer ball": "sports ball",
    "tennis ball": "sports ball",
    "racket": "tennis racket", "racquet": "tennis racket", "tennis racquet": "tennis racket",
    # kitchen and food
    "wineglass": "wine glass", "mug": "cup", "hotdog": "hot dog", "doughnut": "donut",
    # furniture and electronics
    "sofa": "couch", "plant": "potted plant", "houseplant": "potted plant",
    "pottedplant": "potted plant", "table": "dining table", "diningtable": "dining table",
    "television": "tv", "tvmonitor": "tv", "tv monitor": "tv", "monitor": "tv",
    "laptop computer": "laptop", "remote control": "remote", "cellphone": "cell phone",
    "phone": "cell phone", "mobile phone": "cell phone", "smartphone": "cell phone",
    "fridge": "refrigerator", "teddy": "teddy bear", "hair dryer": "hair drier",
    "hairdryer": "hair drier",
}  # fmt: skip

# Compounds that name no object of the class inside them: "the bus stop" has no bus.
_NOT_OBJECTS: tuple[str, ...] = (
    "bus stop", "bus station", "train station", "table tennis", "phone number", "car park",
)  # fmt: skip

_IRREGULAR: dict[str, str] = {
    "person": "people", "man": "men", "woman": "women", "child": "children",
    "gentleman": "gentlemen", "mouse": "mice", "knife": "knives", "calf": "calves",
    "sheep": "sheep", "skis": "skis", "scissors": "scissors", "people": "people",
    "persons": "persons", "luggage": "luggage", "broccoli": "broccoli",
}  # fmt: skip

def plural(noun: str) -> str:
    """English plural of a class name or synonym; multi-word names pluralize the last word.

    Example:
        >>> plural("person"), plural("bus"), plural("traffic light"), plural("knife")
        ('people', 'buses', 'traffic lights', 'knives')
    """
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    elif len(last) > 1 and last.endswith("y") and last[-2] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def canonical(word: str) -> str | None:
    """The COCO class a word or phrase names (any case, singular or plural), or ``None``.

    Example:
        >>> canonical("Sofas"), canonical("men"), canonical("sign")
        ('couch', 'person', None)
    """
    return _phrase_table(COCO_CLASSES).get(" ".join(word.lower().replace("-", " ").split())) or None


def normal_label(name: str) -> str:
    """The COCO class a label or phrase names (``canonical``), else the phrase lower-cased: the one label normaliser."""
    return canonical(name) or name.strip().lower()


def label_of(evidence: Any, default: str = "") -> str:
    """``normal_label`` of an evidence's label (``default`` when it has none)."""
    return normal_label(getattr(evidence, "label", None) or default)


def labels_in(question: str, known: Iterable[str] = COCO_CLASSES) -> list[str]:
    """Class names from ``known`` that ``question`` mentions, in order of first mention, once each.

    A synonym counts only when the class it maps to is in ``known``; names in
    ``known`` that are not COCO classes match literally (and in the plural).

    Example:
        >>> labels_in("Is the stop sign left of the cars?")
        ['stop sign', 'car']
        >>> labels_in("How many men and women are there?")
        ['person']
    """
    names = tuple(known)
    table = _phrase_table(names)
    found: list[str] = []
    for match in _pattern(names).finditer(question):
        label = table[" ".join(match.group(0).lower().replace("-", " ").split())]
        if label and label not in found:
            found.append(label)
    return found


def label_spans(text: str, known: Iterable[str] = COCO_CLASSES) -> list[tuple[str, int, int, str]]:
    """Every mention of a class in ``known``: ``(label, start, end, words as said)``, left to right.

    Example:
        >>> label_spans("Is the red car left of the men?")
        [('car', 11, 14, 'car'), ('person', 27, 30, 'men')]
    """
    names = tuple(known)
    table = _phrase_table(names)
    out = []
    for match in _pattern(names).finditer(text):
        label = table[" ".join(match.group(0).lower().replace("-", " ").split())]
        if label:
            out.append((label, match.start(), match.end(), match.group(0)))
    return out


def _words_regex(phrases: Iterable[str]) -> str:
    """Alternation of whole-word phrases, longest first so the regex prefers the longest match."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    parts = [r"[\s-]+".join(re.escape(w) for w in p.split()) for p in ordered]
    return r"\b(?:" + "|".join(parts) + r")\b"




@lru_cache(maxsize=32)
def _phrase_table(known: tuple[str, ...]) -> dict[str, str]:
    """Every accepted phrase (lower case, single spaces) -> class name in ``known``."""
    table: dict[str, str] = {}
    names = set(known)
    for word, label in SYNONYMS.items():
        if label in names:
            table[word] = table[plural(word)] = label
    for label in known:  # class names win over synonyms spelled the same
        key = " ".join(label.lower().split())
        table[key] = table[plural(key)] = label
    for phrase in _NOT_OBJECTS:  # matched, longest first, so that they hide their nouns
        table[phrase] = table[plural(phrase)] = ""
    return table


@lru_cache(maxsize=32)
def _pattern(known: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_words_regex(_phrase_table(known)), re.IGNORECASE)
