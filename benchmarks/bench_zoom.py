"""ZoomEye against an exhaustive sliding-window scan, at the same detector (YOLOv4-tiny, 416 px).

Seeded canvases: 3000-px-wide upscaled sign photos with small people (~150 px
tall) pasted in (tests/fixtures/zoom/canvas.py). For each, three looks:

- full: one detector pass on the whole image (the baseline that misses them);
- zoomeye: the offline ZoomEye search (detector scorer), then the detector on the
  regions found; calls = scorer calls + region runs;
- scan: the detector on every 416-px window at 25% overlap.

Type 1 ("Is there a person?"): hit = a person detected overlapping the pasted one.
Type 2 ("How many people?", 3 people each): exact count of detections scored at least
0.5 (the "sure" count the answer candidates lead with), each on a pasted person.

    python benchmarks/bench_zoom.py [--images 10] [--counting 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _overlaps(box: tuple[float, float, float, float], ev_box: object) -> bool:
    b = ev_box.xyxyn  # type: ignore[attr-defined]
    return min(box[2], b[2]) > max(box[0], b[0]) and min(box[3], b[3]) > max(box[1], b[1])


def _dedupe(found: list) -> list:  # type: ignore[type-arg]
    """Merge detections of the same person seen by overlapping windows (IoU > 0.3 or one inside the other)."""
    kept: list = []  # type: ignore[type-arg]
    for ev in sorted(found, key=lambda e: -(e.score or 0)):
        if not any(ev.box.intersection(k.box) > 0.3 * min(ev.box.area, k.box.area) for k in kept):
            kept.append(ev)
    return kept


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=10, help="type-1 canvases (one person each)")
    ap.add_argument("--counting", type=int, default=4, help="type-2 canvases (three people each)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from agentvlm.evidence.facts import SURE_SCORE
    from agentvlm.images import load_image
    from agentvlm.tools.detect_darknet import DarknetDetector
    from agentvlm.types import Box
    from agentvlm.zoom import DetectorScorer, regions, rule_cues, search_cue
    from tests.fixtures.zoom.canvas import make_canvas, random_layout

    det = DarknetDetector()
    sure, floor = det.params(classes=("person",)), det.params(confidence=0.01)
    side, stride = det.input_size, det.input_size * 3 // 4

    def scan(ref):  # type: ignore[no-untyped-def]
        xs = list(range(0, max(ref.width - side, 0) + 1, stride))
        ys = list(range(0, max(ref.height - side, 0) + 1, stride))
        xs += [ref.width - side] if xs[-1] != ref.width - side else []
        ys += [ref.height - side] if ys[-1] != ref.height - side else []
        found = []
        for y in ys:
            for x in xs:
                found += det.run(ref, sure, region=Box.from_xyxy((x, y, x + side, y + side), resolution_wh=(ref.width, ref.height)))
        return _dedupe(found), len(xs) * len(ys)

    def zoom(ref, question):  # type: ignore[no-untyped-def]
        scorer = DetectorScorer(det, params=floor)
        found, runs = [], 0
        for cue in rule_cues(question):
            res = search_cue(ref, question, cue, scorer)
            for region in regions(res.found, ref, min_side=scorer.input_size):
                found += det.run(ref, sure, region=region)
                runs += 1
        return _dedupe(found), scorer.calls, runs

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, n, people, question in (("type 1", args.images, 1, "Is there a person in this picture?"),
                                          ("type 2", args.counting, 3, "How many people are in this picture?")):  # fmt: skip
            tally = {"full": [0, 0, 0.0], "zoomeye": [0, 0, 0.0], "scan": [0, 0, 0.0]}
            for i in range(n):
                seed = args.seed + i + (1000 if people > 1 else 0)
                background, layout = random_layout(seed, people)
                path = Path(tmp) / f"{kind[-1]}-{i}.jpg"
                truth = make_canvas(path, background=background, people=layout)
                ref = load_image(path)

                def judge(found: list, truth: list = truth, people: int = people) -> bool:  # type: ignore[type-arg]
                    if people == 1:
                        return any(_overlaps(truth[0], e.box) for e in found)
                    counted = [e for e in found if (e.score or 0) >= SURE_SCORE]
                    return len(counted) == people and all(any(_overlaps(t, e.box) for e in counted) for t in truth)

                t = time.perf_counter()
                full = det.run(ref, sure)
                tally["full"][0] += judge(full)
                tally["full"][1] += 1
                tally["full"][2] += time.perf_counter() - t
                t = time.perf_counter()
                found, calls, runs = zoom(ref, question)
                tally["zoomeye"][0] += judge(found)
                tally["zoomeye"][1] += calls + runs
                tally["zoomeye"][2] += time.perf_counter() - t
                t = time.perf_counter()
                found, calls = scan(ref)
                tally["scan"][0] += judge(found)
                tally["scan"][1] += calls
                tally["scan"][2] += time.perf_counter() - t
            for method, (hits, calls, secs) in tally.items():
                rows.append((kind, method, f"{hits}/{n}", f"{calls / max(n, 1):.1f}", f"{secs / max(n, 1):.2f}"))
    print(f"{'search':7} {'method':8} {'hits':>6} {'detector calls/q':>17} {'s/q':>6}")
    for r in rows:
        print(f"{r[0]:7} {r[1]:8} {r[2]:>6} {r[3]:>17} {r[4]:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
