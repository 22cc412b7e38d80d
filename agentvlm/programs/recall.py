"""Look again, harder, for the objects a program names but the evidence lacks.

One YOLOv4-tiny pass at confidence 0.3 finds both objects of a BLINK spatial
question in under a third of items, so before a program gives up it runs, in
order, until every named class is found: the detector at confidence 0.05, at
other input sizes (a pyramid from 288 to 832 px, nearest the trained 416 first:
larger inputs for small objects, smaller for large ones such as tables and
beds; Darknet only), on four overlapping tiles (``Tool.run(region=...)`` maps
boxes back), on the mirrored image (416 and 320; boxes mirrored back), and
last a ZoomEye search per missing class (the detector scores the image tree's
patches; the detector runs again on the regions found), which matters for
large images where an object is a few pixels at the detector's input. On the
143 BLINK spatial items, every named object is found in 23% of items after one
pass at 0.3 and in 89.5% after these passes (``benchmarks/bench_programs.py``). Passes
keep every class and are filtered afterwards, so one cached result per (image,
pass) serves every question; a caller adds passes of its own with ``extra``.

Every pass runs through ``Services.run_tool``; the pyramid uses ``Tool.at_input_size``
(detectors that declare no such option skip it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agentvlm.graph.services import Recorder, Services
from agentvlm.programs.executor import SAME, iou
from agentvlm.prompts import render
from agentvlm.question.vocabulary import label_of
from agentvlm.tools import Tool
from agentvlm.types import Box, Evidence, ImageRef

__all__ = ["LOW_CONFIDENCE", "MIRRORED_SIZES", "SIZES", "TILES", "ExtraPass", "find_missing"]

LOW_CONFIDENCE = 0.05
SIZES = (384, 480, 320, 544, 608, 288, 832)  # nearest the detector's trained 416 first
MIRRORED_SIZES: tuple[int | None, ...] = (None, 320)  # None: the detector's own input size
TILES: tuple[Box, ...] = (
    Box(x1=0.0, y1=0.0, x2=0.6, y2=0.6), Box(x1=0.4, y1=0.0, x2=1.0, y2=0.6),
    Box(x1=0.0, y1=0.4, x2=0.6, y2=1.0), Box(x1=0.4, y1=0.4, x2=1.0, y2=1.0),
)  # fmt: skip
ExtraPass = Callable[[Services, Recorder, ImageRef, list[str]], list[Evidence]]
"""(services, rec, image, classes still missing) -> evidence: a further pass, such as a plugin's."""


class _Mirrored(Tool):
    """A detector run on the left-right mirrored image, boxes mirrored back.

    A small CNN's misses are not mirror-symmetric (and the letterbox pads the
    other side), so the mirrored image is a genuinely different look.
    """

    def __init__(self, inner: Tool) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.kind = inner.kind  # type: ignore[misc]
        self.Params = inner.Params  # type: ignore[misc]

    def identity(self) -> dict[str, Any]:
        return {**self.inner.identity(), "mirrored": True}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        found = self.inner._run(np.ascontiguousarray(pixels[:, ::-1]), params, prompts=[])
        return [
            ev.model_copy(update={"box": Box(x1=1 - ev.box.x2, y1=ev.box.y1, x2=1 - ev.box.x1, y2=ev.box.y2)})
            if ev.box is not None
            else ev
            for ev in found
        ]


def _mirrored(services: Services, tool: Tool, size: int | None) -> Tool | None:
    """The detector (at ``size``, when given) on the mirrored image."""
    inner = tool if size is None else services.sized(tool, size)
    return None if inner is None else _Mirrored(inner)


def _detect(services: Services, rec: Recorder, tool: Tool, image: ImageRef, region: Box | None, why: str) -> list[Evidence]:
    return services.run_tool("detect", [image], rec, params={"confidence": LOW_CONFIDENCE}, region=region, tool=tool, role=f"recall: {why}", ids=False)


def find_missing(
    services: Services, rec: Recorder, images: Sequence[ImageRef], classes: Sequence[str], evidence: Sequence[Evidence],
    *, tiles: bool = True, extra: Sequence[ExtraPass] = (),
) -> list[Evidence]:
    """New object evidence for the ``classes`` missing from ``evidence``, with fresh ``det`` ids.

    Stops as soon as every class is present; detections that repeat an object
    already known (same class, IoU >= ``SAME``) are dropped. ``extra`` passes run last.
    """
    tool = services.tool("detect")
    known = list(evidence)
    new: list[Evidence] = []
    specs: list[tuple[str, Tool, tuple[Box | None, ...]]] = [("low confidence", tool, (None,))]
    specs += [(f"input {size}", sized, (None,)) for size in SIZES if (sized := services.sized(tool, size)) is not None]
    if tiles:
        specs.append(("tiles", tool, TILES))
    for size in MIRRORED_SIZES:
        if (mirrored := _mirrored(services, tool, size)) is not None:
            specs.append((f"mirrored{'' if size is None else f' {size}'}", mirrored, (None,)))
    for index, image in enumerate(images):
        for why, runner, regions in [*specs, ("zoom", tool, ()), *([("extra", tool, ())] if extra else [])]:
            wanted = _missing(classes, known, index)
            if not wanted:
                break
            found = [e for region in regions for e in _detect(services, rec, runner, image, region, why)]
            if why == "zoom":
                found += _zoom(services, rec, tool, image, wanted)
            found += [e for more in extra if why == "extra" for e in more(services, rec, image, wanted)]
            added = _merge(found, wanted, known, index)
            if added:
                rec.note(f"recall ({why}) found {', '.join(sorted({e.label or '' for e in added}))}")
            known += added
            new += added
    return new


def _zoom(services: Services, rec: Recorder, tool: Tool, image: ImageRef, wanted: list[str]) -> list[Evidence]:
    """A ZoomEye search per missing class with the detector as scorer, then the detector on each region found.

    An image no larger than the detector's input is a single leaf: nothing to zoom into.
    """
    from agentvlm.zoom.cues import Cue
    from agentvlm.zoom.node import DETECT_FLOOR
    from agentvlm.zoom.run import regions, search_cue
    from agentvlm.zoom.scorers import DetectorScorer

    scorer = DetectorScorer(services, rec, tool=tool, params={"confidence": DETECT_FLOOR})
    if max(image.width, image.height) <= scorer.input_size:
        return []
    found: list[Evidence] = []
    for label in wanted:
        result = search_cue(image, render("zoom_search", cue=label)["search"], Cue(phrase=label, label=label), scorer)
        for box in regions(result.found, image, min_side=scorer.input_size):
            found += _detect(services, rec, tool, image, box, "zoom")
    return found


def _missing(classes: Sequence[str], evidence: Sequence[Evidence], image: int) -> list[str]:
    have = {label_of(e) for e in evidence if e.kind == "object" and e.image == image}
    return [c for c in dict.fromkeys(classes) if c not in have]


def _merge(found: list[Evidence], wanted: list[str], known: list[Evidence], image: int) -> list[Evidence]:
    prefix = "det" if image == 0 else f"i{image}.det"
    taken = {e.id for e in known}
    n = sum(1 for e in known if e.id.startswith(prefix))
    out: list[Evidence] = []
    for ev in sorted(found, key=lambda e: -(e.score or 0.0)):
        if label_of(ev) not in wanted or ev.box is None:
            continue
        same = [k for k in [*known, *out] if k.box is not None and label_of(k) == label_of(ev) and k.image == image]
        if any(iou(ev.box, k.box) >= SAME for k in same if k.box is not None):
            continue
        while f"{prefix}{n}" in taken:
            n += 1
        out.append(ev.model_copy(update={"id": f"{prefix}{n}", "image": image}))
        taken.add(f"{prefix}{n}")
    return out
