"""The one interface perception nodes use to ask a vision-language model about images.

Every VLM backend (local transformers models, OpenAI-compatible servers)
implements ``VisionModel``: describe images under a prompt, and give the
probability that the answer to a yes/no question is "Yes". Probabilities come
from the model's next-token distribution where the backend exposes it
(``method="logits"`` or ``"logprobs"``); otherwise from the share of "Yes" over
a few sampled answers (``method="sampling"``, ``fallback=True``), which is
coarser (steps of 1/n) and costs n calls.
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from agentvlm.errors import ConfigError, InputError
from agentvlm.models.base import Completion
from agentvlm.models.specs import BACKENDS, parse_spec
from agentvlm.types import ImageRef

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "DescribeRequest",
    "ImageLike",
    "VisionModel",
    "YesNoRequest",
    "YesProbability",
    "as_pil",
    "data_url",
    "load_vision_model",
    "yes_or_no",
]

ImageLike = Any
"""An ``ImageRef``, a PIL image, an RGB ``uint8`` numpy array (a crop) or a path."""


YES_WORDS = ("yes", "no")
_FIRST_WORD = re.compile(r"[A-Za-z]+")


class YesProbability(BaseModel):
    """How likely the model's answer to a yes/no question is "Yes".

    Attributes:
        p: P("Yes") / (P("Yes") + P("No")), in [0, 1].
        method: ``logits`` (next-token logits), ``logprobs`` (a server's
            ``top_logprobs``) or ``sampling`` (share of "Yes" over ``samples`` answers).
        fallback: True when the backend could not give probabilities and sampling stood in.
        samples: How many sampled answers ``p`` rests on (0 unless ``method == "sampling"``).
    """

    p: float = Field(ge=0.0, le=1.0)
    method: Literal["logits", "logprobs", "sampling"]
    fallback: bool = False
    samples: int = 0


class DescribeRequest(BaseModel):
    """One item of ``describe_batch``.

    With ``logprobs``, the completion's ``detail["token_logprobs"]`` holds the log-probability
    of each generated token where the backend can give it (next-token logits, a server's
    ``logprobs``), so the caller can weigh the answer; ``temperature`` and ``seed`` sample.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    images: list[Any]
    prompt: str
    max_tokens: int = Field(default=128, gt=0)
    logprobs: bool = False
    temperature: float = Field(default=0.0, ge=0.0)
    seed: int = 0


class YesNoRequest(BaseModel):
    """One item of ``yes_probability_batch``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    images: list[Any]
    question: str


@runtime_checkable
class VisionModel(Protocol):
    """A model that looks at images. Crops are plain RGB arrays, so zooming needs no files."""

    spec: str

    def describe(self, images: Sequence[ImageLike], prompt: str, *, max_tokens: int = 128) -> Completion: ...

    def describe_batch(self, requests: Sequence[DescribeRequest]) -> list[Completion]: ...

    def yes_probability(self, images: Sequence[ImageLike], question: str) -> YesProbability: ...

    def yes_probability_batch(self, requests: Sequence[YesNoRequest]) -> list[YesProbability]: ...


def as_pil(image: ImageLike, *, max_side: int | None = None) -> Image.Image:
    """Any supported image input as an RGB PIL image, downscaled so its longest side is ``max_side``."""
    from PIL import Image

    if isinstance(image, ImageRef):
        from agentvlm.images import pixels

        img = Image.fromarray(pixels(image))
    elif isinstance(image, Image.Image):
        img = image
    elif isinstance(image, (str, os.PathLike)):
        from agentvlm.images import load_image, pixels

        img = Image.fromarray(pixels(load_image(image)))
    elif hasattr(image, "shape") and hasattr(image, "dtype"):
        if len(image.shape) != 3 or image.shape[2] != 3 or str(image.dtype) != "uint8":
            raise InputError(
                f"an image array must be RGB uint8 of shape (H, W, 3); got shape {tuple(image.shape)} dtype {image.dtype}"
            )
        img = Image.fromarray(image)
    else:
        raise InputError(
            f"cannot use a {type(image).__name__} as an image; pass an ImageRef, a PIL image, an RGB numpy array or a path"
        )
    img = img.convert("RGB")
    if max_side and max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return img


def data_url(image: ImageLike, *, max_side: int | None = None, quality: int = 90) -> str:
    """A ``data:image/jpeg;base64,...`` URL, the form OpenAI-compatible servers take images in."""
    buf = io.BytesIO()
    as_pil(image, max_side=max_side).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def yes_or_no(text: str) -> str | None:
    """``"yes"`` or ``"no"`` when ``text`` starts with that word, else ``None``."""
    m = _FIRST_WORD.search(text)
    word = m.group(0).lower() if m else ""
    return word if word in YES_WORDS else None


def load_vision_model(spec: str) -> VisionModel:
    """A new instance of the VLM named by ``spec`` (weights load on first use; ``Services`` keeps it).

    An OpenAI-compatible spec is a chat client that also takes images; ``Services``
    uses its LLM client when both roles name the same server, so it gets one
    connection pool and one concurrency limit.

    Example:
        >>> vlm = load_vision_model("hf:HuggingFaceTB/SmolVLM-256M-Instruct")  # doctest: +SKIP
        >>> vlm.yes_probability(["photo.jpg"], "Is there a bus?").p  # doctest: +SKIP
    """
    parsed = parse_spec(spec)
    backend = BACKENDS.get(parsed.backend)
    if backend is None or backend.vision is None:
        raise ConfigError(
            f"the '{parsed.backend}' backend is text-only and cannot be the VLM ('{spec}'); "
            "use hf:REPO_OR_DIR (e.g. hf:HuggingFaceTB/SmolVLM-256M-Instruct), openai:MODEL@URL or ollama:MODEL"
        )
    module, _, cls = backend.vision.partition(":")
    model: VisionModel = getattr(import_module(module), cls)(parsed)
    return model
