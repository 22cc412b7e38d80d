"""The data that flows through a graph: image references in, evidence accumulated, an answer out.

Coordinates follow one convention everywhere: a box is ``xyxyn``, corners
``(x1, y1, x2, y2)`` normalized by the full image's width and height, so
``(0, 0, 1, 1)`` is the whole image whatever crop a tool looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

__all__ = ["BASIS_WORDS", "Answer", "Box", "Call", "Evidence", "EvidenceKind", "ImageRef", "PartAnswer", "Source", "Step"]

EvidenceKind = Literal["object", "text", "mask", "statement"]


class ImageRef(BaseModel):
    """A validated image on disk, referenced by path and content hash.

    Graph state carries these, never pixels: checkpoints stay small and a cache
    keyed by ``sha256`` survives renames.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str = Field(min_length=64, max_length=64)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    format: str
    source: str | None = None
    """Where a fetched image came from (its URL; a ``data:`` URI abbreviated); ``None`` for a local file."""

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


class Box(BaseModel):
    """A box in normalized ``xyxyn`` coordinates of the full image."""

    model_config = ConfigDict(frozen=True)

    x1: float = Field(ge=0.0, le=1.0)
    y1: float = Field(ge=0.0, le=1.0)
    x2: float = Field(ge=0.0, le=1.0)
    y2: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError(f"box corners are not ordered: {self.xyxyn}")
        return self

    @classmethod
    def from_xyxy(cls, xyxy: tuple[float, float, float, float] | list[float], *, resolution_wh: tuple[int, int]) -> Box:
        """Build from pixel corners, clipping to the image."""
        w, h = resolution_wh
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        return cls(
            x1=min(max(x1 / w, 0.0), 1.0),
            y1=min(max(y1 / h, 0.0), 1.0),
            x2=min(max(x2 / w, 0.0), 1.0),
            y2=min(max(y2 / h, 0.0), 1.0),
        )

    @property
    def xyxyn(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def xyxy(self, resolution_wh: tuple[int, int]) -> tuple[int, int, int, int]:
        """Pixel corners in an image of ``resolution_wh``."""
        w, h = resolution_wh
        return (round(self.x1 * w), round(self.y1 * h), round(self.x2 * w), round(self.y2 * h))

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def area(self) -> float:
        return (self.x2 - self.x1) * (self.y2 - self.y1)

    def within(self, region: Box) -> Box:
        """Map this box, normalized inside ``region``, to full-image coordinates."""
        rw, rh = region.x2 - region.x1, region.y2 - region.y1
        return Box(
            x1=region.x1 + self.x1 * rw,
            y1=region.y1 + self.y1 * rh,
            x2=region.x1 + self.x2 * rw,
            y2=region.y1 + self.y2 * rh,
        )

    def intersection(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return max(w, 0.0) * max(h, 0.0)

    @classmethod
    def enclosing(cls, boxes: Sequence[Box]) -> Box:
        """The smallest box around all of ``boxes`` (at least one)."""
        return cls(x1=min(b.x1 for b in boxes), y1=min(b.y1 for b in boxes), x2=max(b.x2 for b in boxes), y2=max(b.y2 for b in boxes))


class Evidence(BaseModel):
    """One observation a tool or model made about an image.

    Attributes:
        id: Stable within an answer (``det3``, ``ocr0``), so reasoning can cite it.
        tool: The tool or model that produced it (``darknet``, ``rapidocr``...).
        kind: ``object`` (a detection), ``text`` (an OCR line), ``mask``
            (a segmentation), ``statement`` (a model's sentence).
        label: Class name for objects and masks.
        box: Where it is, normalized to the full image.
        text: Text read (OCR) or said (a model's statement).
        score: The tool's confidence in [0, 1].
        image: Index of the image in the question's image list.
        region: The region the tool looked at; ``None`` is the whole image.
        attributes: Tool-specific numbers, e.g. a mask's ``area`` share and ``centroid``.
    """

    id: str = ""
    tool: str
    kind: EvidenceKind
    label: str | None = None
    box: Box | None = None
    text: str | None = None
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    image: int = 0
    region: Box | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("score", mode="before")
    @classmethod
    def _round_score(cls, v: Any) -> Any:
        return None if v is None else min(max(float(v), 0.0), 1.0)


class Call(BaseModel):
    """One model or tool invocation inside a step."""

    kind: Literal["model", "tool"]
    name: str
    seconds: float
    cached: bool = False
    detail: dict[str, Any] = Field(default_factory=dict)


class Step(BaseModel):
    """One graph node's run, with its timing and the calls it made."""

    node: str
    seconds: float
    calls: list[Call] = Field(default_factory=list)
    note: str | None = None


class Source(BaseModel):
    """A retrieved passage the answer may cite as ``[n]``: a web page or a local document.

    Attributes:
        n: The number the answer cites it by (1-based).
        url: Where it came from: an ``http(s)`` URL or a local file path.
        title: The page or document title, when known.
        snippet: The passage the reasoning model read (untrusted text).
        score: The reranker's relevance score, when ranked.
    """

    n: int = Field(ge=1)
    url: str
    title: str = ""
    snippet: str = ""
    score: float | None = None


BASIS_WORDS: dict[str, str] = {
    "program": "a program over the measurements",
    "evidence": "the tools' measurements",
    "vlm": "the vision model",
    "model": "the reasoning model",
    "guess": "nothing: a guess in the right form",
}
"""What decided an answer, by ``Answer.basis``, in the words the chat and the trace show."""


class PartAnswer(BaseModel):
    """One part of a question with several ("How many people are here, and is anyone on a bicycle?").

    Attributes:
        n: Its place in the question, from 1.
        question: The part as it was answered (an earlier answer put in where it refers to one).
        text: Its answer, in its own form.
        form: Its answer form (``agentvlm.question``).
        basis: What decided it, as ``Answer.basis``.
        evidence: Ids, in the whole answer's evidence, of what it rests on.
        depends_on: The ``n`` of the earlier part whose answer it used, else ``None``.
    """

    n: int = Field(ge=1)
    question: str
    text: str
    form: str = ""
    basis: str = ""
    evidence: list[str] = Field(default_factory=list)
    depends_on: int | None = None


class Answer(BaseModel):
    """What ``Agent.ask`` returns: the answer, what supports it, and how it was reached.

    ``form`` is the answer form the question asks for (``agentvlm.question``);
    ``basis`` says what decided the answer: ``program`` (code computed it from the
    evidence), ``evidence`` (chosen among answers the evidence supports), ``model``
    (the LLM's own words), ``vlm`` (the perception VLM's answer, where no tool measures
    what is asked) or ``guess`` (nothing decided it; the form is still right).
    """

    question: str
    text: str
    images: list[ImageRef]
    evidence: list[Evidence] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    graph: str = ""
    models: dict[str, str] = Field(default_factory=dict)
    seconds: float = 0.0
    form: str = ""
    basis: str = ""
    parts: list[PartAnswer] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_calls(self) -> int:
        return sum(1 for s in self.steps for c in s.calls if c.kind == "model")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def vlm_calls(self) -> int:
        """Requests to the perception VLM (a batch of zoom scores counts once)."""
        return sum(1 for s in self.steps for c in s.calls if c.kind == "model" and c.detail.get("vision"))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool_calls(self) -> int:
        return sum(1 for s in self.steps for c in s.calls if c.kind == "tool" and not c.cached)

    @property
    def decided_by(self) -> str:
        """``basis`` in words ("the vision model"), "" when unknown."""
        return BASIS_WORDS.get(self.basis, self.basis)

    def __str__(self) -> str:
        return self.text
