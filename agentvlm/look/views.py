"""What the VLM is shown: the whole image, or a crop around the region a tool located, with a margin.

A small VLM downscales a 3000-px photo to under 1,000 px, so a 150-px person becomes
a few dozen pixels; a crop around the person (ViCrop, Zhang et al., 2025) keeps them
large. The region comes from the tools: the ZoomEye search's found region, else the
most confident detection of the thing the question names, else, for a reading
question, the text OCR found. The whole image goes beside the crop in the same
request where context helps, so one request still answers the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from agentvlm.images import PixelCache, crop
from agentvlm.question import Question
from agentvlm.question.vocabulary import label_of
from agentvlm.types import Box, Evidence, ImageRef

__all__ = ["FOCUSED_FORMS", "Located", "View", "located", "pixels_of", "views_for", "with_margin"]

FOCUSED_FORMS = frozenset({"attribute", "read", "identify", "yes_no", "number", "open"})
"""Forms asked about one thing, where a close look at it beats the scene; counts, positions,
places and comparisons are about the whole image."""

MARGIN = 0.5
"""How much of the region's own size a crop adds on each side, for context (ViCrop-style)."""
SMALL = 0.5
"""A crop is worth its pixels only when it covers less than this share of the image (half the
image shows its things at 1.4 times the size a downscaled whole image does)."""


class View(BaseModel):
    """One image the VLM is shown.

    Attributes:
        image: Index into the question's images.
        region: The crop, normalized to the full image; ``None`` is the whole image.
        about: What it shows, in words the prompt uses ("a close-up of the person").
        source: The evidence id the region came from ("det2", "zoom0").
    """

    model_config = ConfigDict(frozen=True)

    image: int = 0
    region: Box | None = None
    about: str = "the whole photo"
    source: str = ""


def with_margin(box: Box, margin: float = MARGIN, *, least: float = 0.04) -> Box:
    """``box`` grown by ``margin`` of its size on every side (at least ``least`` of the image), clipped to it."""
    dx = max((box.x2 - box.x1) * margin, least)
    dy = max((box.y2 - box.y1) * margin, least)
    return Box(x1=max(box.x1 - dx, 0.0), y1=max(box.y1 - dy, 0.0), x2=min(box.x2 + dx, 1.0), y2=min(box.y2 + dy, 1.0))


class Located(NamedTuple):
    """A region a tool found for the question: where, what it holds, the evidence it came from,
    and whether a crop needs a margin around it for context."""

    box: Box
    what: str
    source: str
    margin: bool = True


def located(question: Question, evidence: Sequence[Evidence], image: int = 0) -> Located | None:
    """The region the question is about, as a tool found it, or ``None``.

    A ZoomEye region first (it was searched for this question, and already holds its
    context, so it needs no margin), then the most confident detection of the first thing
    named that a detector knows, then, for a reading question, the lines OCR read.
    """
    mine = [e for e in evidence if e.image == image and e.box is not None]
    zoomed = sorted((e for e in mine if e.tool == "zoomeye"), key=lambda e: -(e.score or 0.0))
    if zoomed:
        cue = str(zoomed[0].attributes.get("cue") or "region")
        return Located(zoomed[0].box, f"the {cue}", zoomed[0].id, margin=False)  # type: ignore[arg-type]
    for target in question.targets:
        if target.label is None:
            continue
        found = [e for e in mine if e.kind == "object" and label_of(e) == target.label]
        if found:
            best = max(found, key=lambda e: e.score or 0.0)
            return Located(best.box, f"the {target.noun}", best.id)  # type: ignore[arg-type]
    lines = [e for e in mine if e.kind == "text"]
    if question.form == "read" and lines:
        return Located(Box.enclosing([e.box for e in lines if e.box is not None]), "the text", lines[0].id)
    return None


def views_for(question: Question, evidence: Sequence[Evidence], images: Sequence[ImageRef], *, context: bool = True) -> list[View]:
    """The images of one request to the VLM about ``question``.

    Several images: each whole. A question about one thing a tool located in a small
    part of the image: a crop around it with a margin, after the whole image when
    ``context``. Anything else: the whole image.
    """
    if len(images) > 1:
        return [View(image=i, about=f"photo {i + 1}") for i in range(len(images))]
    whole = View()
    if question.form not in FOCUSED_FORMS:
        return [whole]
    found = located(question, evidence)
    if found is None:
        return [whole]
    region = with_margin(found.box) if found.margin else found.box
    if region.area >= SMALL:
        return [whole]
    close = View(region=region, about=f"a close-up of {found.what} from {'that' if context else 'a'} photo", source=found.source)
    return [whole, close] if context else [close]


def pixels_of(view: View, images: Sequence[ImageRef], cache: PixelCache | None = None) -> Any:
    """What goes to the VLM for ``view``: the image itself, or the crop's pixels (an RGB array)."""
    ref = images[view.image]
    return ref if view.region is None else crop(ref, view.region, cache)
