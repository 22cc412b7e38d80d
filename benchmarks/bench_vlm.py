"""Throughput and peak memory of a VLM through the transformers backend (``TransformersVLM``).

Why: perception nodes call ``describe`` and ``yes_probability`` per image and per
crop (ZoomEye-style search asks dozens of yes/no questions), so requests per
second at batch 1 and batch 8 decide how many looks an answer can afford, and
peak memory decides which GPU a model needs.

By default it builds the tiny random Idefics3 model of the tests (weights are
noise; this measures the backend's own overhead: processor, chat template,
padding, generate). Pass ``--model hf:HuggingFaceTB/SmolVLM-256M-Instruct`` to
measure a real model where it is downloaded.

Usage: python benchmarks/bench_vlm.py [--device cpu|cuda] [--model hf:...] [--repeats N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _measure(fn: Any, items: int, repeats: int) -> tuple[float, float]:
    fn()  # warm-up: first-call allocations, kernels
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    seconds = time.perf_counter() - start
    return items * repeats / seconds, seconds / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--model", default=None, help="hf:REPO_OR_DIR (default: a tiny random Idefics3 built here)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    import numpy as np
    import torch

    from agentvlm.models.specs import parse_spec
    from agentvlm.models.transformers import TransformersVLM
    from agentvlm.models.vlm import DescribeRequest, YesNoRequest

    spec = args.model
    if spec is None:
        from tests.tiny_vlm import build_tiny_vlm

        spec = f"hf:{build_tiny_vlm(Path(tempfile.mkdtemp()) / 'tiny-vlm')}"
    vlm = TransformersVLM(parse_spec(spec), device=args.device)
    start = time.perf_counter()
    vlm._load()
    load_s = time.perf_counter() - start
    device = vlm.device
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        card = torch.cuda.get_device_name(0)
    else:
        card = platform.processor() or platform.machine()

    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, size=(96 + 8 * i, 128, 3), dtype=np.uint8) for i in range(8)]
    photo = ROOT / "examples" / "images" / "street_scene_pedestrians.jpg"
    if photo.exists():
        from agentvlm.images import load_image

        first: Any = load_image(photo)  # a validated reference, decoded once and cached, as the graph passes it
    else:
        first = crops[0]
    rows: list[dict[str, Any]] = []
    for batch in (1, 8):
        images = [first] + crops[1:batch] if batch > 1 else [first]
        describe = [DescribeRequest(images=[img], prompt="Describe the image, especially the people.", max_tokens=args.max_tokens) for img in images]
        yesno = [YesNoRequest(images=[img], question="Is there a person?") for img in images]
        for name, fn in (("describe", lambda r=describe: vlm.describe_batch(r)), ("yes_probability", lambda r=yesno: vlm.yes_probability_batch(r))):
            per_s, latency = _measure(fn, batch, args.repeats)
            rows.append({"op": name, "batch": batch, "items_per_s": round(per_s, 2), "batch_latency_ms": round(latency * 1000, 1)})

    if device.startswith("cuda"):
        peak = {"kind": "torch.cuda.max_memory_allocated", "mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}
    else:
        peak = {"kind": "peak RSS (ru_maxrss)", "mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    import transformers

    print(f"model {spec}  device {device} ({card})  dtype {vlm._load()[0].dtype}  load {load_s:.2f}s  "
          f"torch {torch.__version__}  transformers {transformers.__version__}  max_tokens {args.max_tokens}")
    print(f"{'op':<16} {'batch':>5} {'items/s':>10} {'batch latency ms':>17}")
    for r in rows:
        print(f"{r['op']:<16} {r['batch']:>5} {r['items_per_s']:>10} {r['batch_latency_ms']:>17}")
    print(f"peak memory: {peak['mb']} MB ({peak['kind']})")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": spec, "device": device, "card": card, "rows": rows, "peak": peak}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
