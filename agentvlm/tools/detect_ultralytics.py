"""Object detection with any Ultralytics model (``.pt`` or exported ``.onnx``), through torch.

``yolo11n.pt`` is downloaded by Ultralytics on first use where there is internet;
offline, pass the path of a local weights file.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, ClassVar

from agentvlm.errors import ToolError
from agentvlm.tools.base import Availability, Tool, ToolKind, ToolParams, Weights, requires
from agentvlm.tools.detect_darknet import DetectParams, check_classes
from agentvlm.types import Box, Evidence

__all__ = ["UltralyticsDetector", "from_ultralytics"]



class UltralyticsDetector(Tool):
    """Detects objects with ``ultralytics.YOLO``; labels are the model's own ``names``.

    Args:
        model: A model name Ultralytics can download (``yolo11n.pt``) or a local ``.pt``/``.onnx``.
        imgsz: Inference size in pixels.
        device: ``"cpu"``, ``"cuda:0"``...; ``None`` lets Ultralytics choose.

    Example:
        >>> det = UltralyticsDetector(model="yolo11n.pt")  # doctest: +SKIP
        >>> det.run(load_image("bus.jpg"), det.params(classes=["bus"]))  # doctest: +SKIP
    """

    name: ClassVar[str] = "ultralytics"
    kind: ClassVar[ToolKind] = "detect"
    Params: ClassVar[type[ToolParams]] = DetectParams
    takes_classes: ClassVar[bool] = True

    def __init__(
        self, *, model: str = "yolo11n.pt", imgsz: int = 640, device: str | None = None
    ) -> None:
        self.model = model
        self.imgsz = self.input_size = imgsz
        self.device = device
        self._yolo = Weights()

    def at_input_size(self, size: int) -> UltralyticsDetector:
        twin = UltralyticsDetector(model=self.model, imgsz=size, device=self.device)
        twin._yolo = self._yolo
        return twin

    @classmethod
    def availability(cls) -> Availability:
        for pkg in ("ultralytics", "torch", "torchvision"):
            if find_spec(pkg) is None:
                return Availability(
                    ok=False,
                    detail=f"{pkg} is not installed; run: pip install 'agentvlm[ultralytics]'",
                )
        return Availability(
            ok=True, detail="ready (weights download on first use unless given as a local path)"
        )

    def identity(self) -> dict[str, Any]:
        return {"tool": self.name, "model": self.model, "imgsz": self.imgsz}

    def _run(self, pixels: Any, params: Any, *, prompts: list[Evidence]) -> list[Evidence]:
        import numpy as np

        yolo = self._load()
        names = _names(yolo.names)
        keep = check_classes(params.classes, names, tool=self.name)
        classes = None if keep is None else [i for i, n in enumerate(names) if n in keep]
        bgr = np.ascontiguousarray(pixels[..., ::-1])  # Ultralytics reads arrays as OpenCV BGR
        try:
            with self._yolo.lock:
                results = yolo.predict(
                    bgr,
                    imgsz=self.imgsz,
                    conf=params.confidence,
                    iou=params.nms,
                    classes=classes,
                    device=self.device,
                    verbose=False,
                )
        except Exception as exc:  # backend errors are mapped at the boundary
            raise ToolError(
                f"ultralytics failed on a {bgr.shape[1]}x{bgr.shape[0]} image: {exc}"
            ) from exc
        out = [ev for r in results for ev in from_ultralytics(r, tool=self.name)]
        return sorted(out, key=lambda ev: -(ev.score or 0.0))

    def _load(self) -> Any:
        def load() -> Any:
            ultralytics = requires("ultralytics", package="ultralytics", extra="ultralytics", purpose="Ultralytics detection")
            try:
                return ultralytics.YOLO(self.model, task="detect")
            except Exception as exc:
                raise ToolError(
                    f"Ultralytics could not load '{self.model}' ({type(exc).__name__}: {exc}); "
                    "pass model=PATH to a local .pt/.onnx file, or run once with internet to download it"
                ) from exc

        return self._yolo.get(load)


def _names(names: Any) -> list[str]:
    """Ultralytics gives ``{index: name}``; a list indexed by class id is easier to check."""
    if isinstance(names, dict):
        return [str(names[i]) for i in sorted(names)]
    return [str(n) for n in names]


def _clip(v: float) -> float:
    return min(max(float(v), 0.0), 1.0)


def from_ultralytics(result: Any, *, tool: str = "ultralytics") -> list[Evidence]:
    """Evidence from one ``ultralytics.engine.results.Results`` (``boxes.xyxyn``, ``cls``, ``conf``)."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    names = _names(result.names)
    xyxyn = boxes.xyxyn.cpu().numpy().tolist()
    cls = boxes.cls.cpu().numpy().astype(int).tolist()
    conf = boxes.conf.cpu().numpy().tolist()
    return [
        Evidence(
            tool=tool,
            kind="object",
            label=names[c] if c < len(names) else str(c),
            box=Box(x1=_clip(b[0]), y1=_clip(b[1]), x2=_clip(b[2]), y2=_clip(b[3])),
            score=s,
        )
        for b, c, s in zip(xyxyn, cls, conf)
    ]
