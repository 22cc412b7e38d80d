"""ZoomEye as graph nodes (``zoom``, ``zoom_perceive``, ``zoom_reason``) and as one ProReason step.

``zoom`` finds regions and records each as a ``statement`` evidence from the tool
``zoomeye`` (box = the region, attributes: ``zoom_path``, ``zoom_image``, ``cue``,
``scorer_calls``), so graph state needs no new key; ``zoom_perceive`` runs the
planned tools on those regions at full resolution.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from agentvlm.errors import ModelOutputError
from agentvlm.evidence.facts import SURE_SCORE, position_words
from agentvlm.graph.actions import FunctionAction
from agentvlm.graph.nodes import NodeFn, candidate_list, grounded_reply, make_reason, understood
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.question.vocabulary import label_of
from agentvlm.tools import ToolKind
from agentvlm.types import Evidence
from agentvlm.zoom.cues import Cue, visual_cues
from agentvlm.zoom.run import draw_search, regions, search_cue, zoom_image_path
from agentvlm.zoom.scorers import DetectorScorer, OCRScorer, Scorer, VLMScorer
from agentvlm.zoom.search import SearchParams, SearchResult

__all__ = ["ZOOM_ACTION", "make_zoom", "make_zoom_perceive", "make_zoom_reason", "zoom_regions", "zoom_search"]

ScorerMode = Literal["auto", "vlm", "offline"]
DETECT_FLOOR = 0.01  # the detector scorer keeps weak hits: they are its latent signal
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)


class _Scorers:
    """One scorer per kind per question, so patches run once even when several cues share them."""

    def __init__(self, services: Services, rec: Recorder, mode: ScorerMode, vlm_input_size: int) -> None:
        self.services, self.rec, self.mode, self.vlm_input_size = services, rec, mode, vlm_input_size
        self.made: dict[str, Scorer] = {}

    def for_cue(self, cue: Cue) -> Scorer | None:
        s = self.services
        if self.mode != "offline" and s.config.vlm:
            key = "vlm"
            if key not in self.made:
                self.made[key] = VLMScorer(s.vlm, rec=self.rec, input_size=self.vlm_input_size)
        elif self.mode == "vlm":
            return None
        elif cue.label is not None:
            key = "detect"
            if key not in self.made:
                self.made[key] = DetectorScorer(s, self.rec, params={"confidence": DETECT_FLOOR})
        elif cue.text:
            key = "ocr"
            if key not in self.made:
                self.made[key] = OCRScorer(s, self.rec)
        else:
            return None
        return self.made[key]


def zoom_regions(
    services: Services, state: GraphState, rec: Recorder, *, scorer: ScorerMode = "auto", cues: Literal["llm", "rules"] = "llm",
    depth_limit: int = 5, vlm_input_size: int = 512, tag: str = "",
) -> list[Evidence]:  # fmt: skip
    """Search every image for the question's visual cues; one ``zoomeye`` statement per region found (or per miss)."""
    question = state["question"]
    found_cues = visual_cues(understood(state), services=services if cues == "llm" else None, rec=rec)
    if not found_cues:
        rec.note("zoom: the question names nothing to search for; the whole image is perceived")
        return []
    scorers = _Scorers(services, rec, scorer, vlm_input_size)
    several = sum(1 for c in found_cues if not c.exhaustive) > 1
    out: list[Evidence] = []
    for idx, image in enumerate(state["images"]):
        prefix = tag + ("" if idx == 0 else f"i{idx}.")
        mine: list[Evidence] = []
        results: list[SearchResult] = []
        wh = (image.width, image.height)
        for cue in found_cues:
            sc = scorers.for_cue(cue)
            if sc is None or not sc.supports(cue):
                rec.note(f"zoom: no scorer for '{cue.phrase}' ({'no VLM configured' if scorer == 'vlm' else 'not a detector class nor text'})")
                continue
            before = sc.calls
            res = search_cue(image, question, cue, sc, params=SearchParams(bias=sc.bias, cue_threshold=sc.cue_threshold, depth_limit=depth_limit), several=several)
            results.append(res)
            calls = sc.calls - before
            boxes = regions(res.found, image, min_side=sc.input_size)
            path = " > ".join(f"d{n.depth}[{n.x1},{n.y1},{n.x2},{n.y2}]" for n in (res.found[0].path() if res.found and res.kind == "type1" else res.popped))
            rec.note(f"zoom '{cue.phrase}' ({res.kind}, scorer {sc.name}): {calls} scorer calls, {len(res.scored)} patches scored, "
                     f"{len(res.popped)} popped; found {len(boxes)} region(s){'; path ' + path if path else ''}")  # fmt: skip
            attrs: dict[str, Any] = {"cue": cue.phrase, "text": cue.text, "search": res.kind, "scorer": sc.name, "scorer_calls": calls}
            if not boxes:
                mine.append(Evidence(tool="zoomeye", kind="statement", image=idx, text=f"A zoomed search of the image found no {cue.phrase}.", attributes=attrs))
            for b in boxes:
                inside = [n for n in res.found if n.box(wh).intersection(b) > 0]
                best = max((n.existence if n.existence is not None else (n.answering or -1.0)) for n in inside) if inside else -1.0
                paths = [[[round(v, 4) for v in p.box(wh).xyxyn] for p in n.path()] for n in inside]
                mine.append(Evidence(
                    tool="zoomeye", kind="statement", image=idx, box=b, score=(best + 1) / 2,
                    text=f"A zoomed search for the {cue.phrase} led to the {position_words(b)} of the image.",
                    attributes={**attrs, "zoom_path": paths[0] if len(paths) == 1 else paths},
                ))  # fmt: skip
        if results:
            drawing = draw_search(image, results, [e.box for e in mine if e.box is not None], zoom_image_path(services.config.cache_dir, image, question))
            rec.note(f"zoom image: {drawing}")
            mine = [e.model_copy(update={"attributes": {**e.attributes, "zoom_image": str(drawing)}}) for e in mine]
        out += [e.model_copy(update={"id": f"{prefix}zoom{k}"}) for k, e in enumerate(mine)]
    return out


def _perceive_regions(services: Services, state: GraphState, rec: Recorder, zooms: list[Evidence], *, tag: str = "") -> list[Evidence]:
    planned = state["plan"].tools if "plan" in state else []
    kinds: list[ToolKind] = [k for k in planned if k in ("detect", "ocr")] or ["detect"]
    out: list[Evidence] = []
    for idx in range(len(state["images"])):
        mine = [z for z in zooms if z.image == idx and z.box is not None]
        if not mine:
            rec.note(f"zoom found no region in image {idx}; perceiving the whole image")
            for kind in kinds:
                out += services.run_tool(kind, state["images"], rec, only=[idx], tag=tag)
            continue
        for k, z in enumerate(mine):
            wanted = kinds + (["ocr"] if z.attributes.get("text") and "ocr" not in kinds else [])
            keep = {key: z.attributes[key] for key in ("zoom_path", "zoom_image") if key in z.attributes}
            for kind in wanted:
                found = services.run_tool(kind, state["images"], rec, region=z.box, only=[idx], tag=f"{tag}z{k}.")
                fresh = [e for e in found if not any(_same(e, o) for o in out)]
                if len(fresh) < len(found):
                    rec.note(f"zoom region {z.id}: {len(found) - len(fresh)} {kind} result(s) already seen in an overlapping region")
                out += [e.model_copy(update={"attributes": {**e.attributes, **keep, "zoom": z.id}}) for e in fresh]
    return out


def _same(a: Evidence, b: Evidence) -> bool:
    """One thing seen from two overlapping regions: same image, kind and label, boxes overlapping by half."""
    if a.image != b.image or a.kind != b.kind or a.label != b.label or a.box is None or b.box is None:
        return False
    return a.box.intersection(b.box) > 0.5 * min(a.box.area, b.box.area)


def zoom_search(services: Services, state: GraphState, rec: Recorder, *, tag: str = "") -> list[Evidence]:
    """One ZoomEye step for loops (ProReason's ``zoom`` action): search, then perceive on the regions.

    Returns the ``zoomeye`` statements and the tools' evidence from the regions, ids prefixed by ``tag``.
    """
    zooms = zoom_regions(services, state, rec, tag=tag)
    return zooms + _perceive_regions(services, state, rec, zooms, tag=tag)


def make_zoom(
    services: Services, *, scorer: ScorerMode = "auto", cues: Literal["llm", "rules"] = "llm", depth_limit: int = 5, vlm_input_size: int = 512
) -> NodeFn:
    """ZoomEye's search. ``scorer``: ``auto`` (the VLM when configured, else the detector/OCR),
    ``vlm`` or ``offline``; ``cues``: named by the ``llm`` or by keyword ``rules``."""
    if depth_limit < 1:
        raise ValueError(f"depth_limit must be at least 1, got {depth_limit}")

    def zoom(state: GraphState, rec: Recorder) -> dict[str, Any]:
        return {"evidence": zoom_regions(services, state, rec, scorer=scorer, cues=cues, depth_limit=depth_limit, vlm_input_size=vlm_input_size)}

    return zoom


def make_zoom_perceive(services: Services) -> NodeFn:
    """Run the planned detect/OCR tools on each zoomed region (the whole image where none was found)."""

    def zoom_perceive(state: GraphState, rec: Recorder) -> dict[str, Any]:
        zooms = [e for e in state.get("evidence", []) if e.tool == "zoomeye"]
        return {"evidence": _perceive_regions(services, state, rec, zooms)}

    return zoom_perceive


def make_zoom_reason(services: Services, *, max_tokens: int = 64) -> NodeFn:
    """``reason``, except that "Is there X? Where?" is answered "yes, at the <place>" of a confident
    detection (the model chooses where there are several places), or chosen between "no" and "yes"."""
    base = make_reason(services, max_tokens=max_tokens)

    def reason(state: GraphState, rec: Recorder) -> dict[str, Any]:
        question, analysis = state["question"], understood(state)
        if analysis.form != "yes_no" or not _WHERE.search(question):
            return base(state, rec)
        wanted = set(analysis.labels)
        objects = sorted(
            (e for e in state.get("evidence", []) if e.kind == "object" and e.box is not None and (e.score or 1.0) >= SURE_SCORE
             and (not wanted or label_of(e) in wanted)),
            key=lambda e: -(e.score or 0.0),
        )  # fmt: skip
        places = list(dict.fromkeys(f"yes, at the {position_words(e.box)}" for e in objects if e.box is not None))
        if len(places) == 1:  # a confident detection of the thing asked for: "no" is not an answer the evidence allows
            rec.note(f"the evidence leaves one answer: {places[0]!r} (no model call)")
            return {"draft": places[0], "basis": "evidence"}
        candidates = places or ["no", "yes"]
        try:
            reply = services.ask(
                "reason", grounded_reply(candidates), rec=rec, role="reason", max_tokens=max_tokens + 32,
                question=question, choices=[], evidence=state.get("context", ""), history=state.get("history", [])[-3:],
                candidates=candidate_list(candidates),
            )  # fmt: skip
        except ModelOutputError as exc:
            rec.note(str(exc))
            return {"draft": ""}
        rec.note(f"grounded answer: chose among {len(candidates)} candidates (existence and place) from the evidence")
        return {"draft": str(reply.model_dump()["answer"])}

    return reason


def _zoom_action(services: Services, state: GraphState, rec: Recorder, decision: Any, tag: str) -> dict[str, Any]:
    return {"evidence": zoom_search(services, state, rec, tag=tag)}


ZOOM_ACTION = FunctionAction("zoom", "search a large image patch by patch for small objects or small text", _zoom_action)
"""ProReason's ``zoom``: ``zoom_search`` for what the question names."""
