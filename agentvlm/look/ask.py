"""The one way the graph asks the perception VLM: requests of views and a prompt, sent as one
batch within a time limit, each reply recorded, weighed by its confidence and put in the
question's form.

Confidence is the geometric mean of the reply's token probabilities where the backend
gives them (a local model's logits, a server's ``logprobs``: vLLM, llama.cpp's server);
otherwise, with ``samples``, the share of sampled replies that agree with the greedy one,
sent in the same batch once the server is known to give no logprobs (a second round for
the first reply that tells); otherwise unknown (``None``). A VLM that errors, times out or
says nothing costs only its own replies: they come back with ``error`` set and the caller
answers from the tools.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentvlm.errors import ConfigError, MissingDependencyError
from agentvlm.graph.nodes import first_sentence
from agentvlm.graph.services import Recorder, Services
from agentvlm.look.views import View, pixels_of
from agentvlm.models.base import Completion
from agentvlm.models.vlm import DescribeRequest
from agentvlm.prompts import render
from agentvlm.question import Question
from agentvlm.question.forms import conform
from agentvlm.question.letters import LETTERS
from agentvlm.types import ImageRef

__all__ = ["Ask", "Reply", "ask_vlm", "confidence", "focused_prompt", "in_form"]

SAMPLE_TEMPERATURE = 0.7


class Ask(BaseModel):
    """One request: the views shown (in order), the prompt, and what its trace entry adds (``detail``)."""

    views: list[View]
    prompt: str
    max_tokens: int = Field(default=32, gt=0)
    detail: dict[str, Any] = Field(default_factory=dict)


class Reply(BaseModel):
    """The VLM's reply to one ``Ask``.

    Attributes:
        text: The reply's first line ("" when it failed or said nothing).
        confidence: In [0, 1], or ``None`` when the backend gave no way to tell.
        method: ``logprobs`` or ``sampling``; ``None`` with no confidence.
        error: Why there is no reply (a timeout, an HTTP error), else ``None``.
    """

    ask: Ask
    text: str = ""
    confidence: float | None = None
    method: Literal["logprobs", "sampling"] | None = None
    error: str | None = None


def focused_prompt(question: Question, views: Sequence[View], choices: Sequence[str] = ()) -> str:
    """The question put to the VLM with its targets named and the answer's form stated
    ("Answer with one word: the colour.")."""
    hint = render("vlm_forms", attribute=question.attribute or "", options=question.options)[question.form]
    shown = [v.about for v in views] if len(views) > 1 or any(v.region is not None for v in views) else []
    given = list(choices) or question.choices
    options = [{"key": k, "text": c} for k, c in zip(LETTERS, given, strict=False)] if question.form == "choice" else []
    return render("vlm_focus", question=question.text, views=shown, choices=options, hint=hint)["user"]


def confidence(completion: Completion) -> float | None:
    """The geometric mean of the reply's token probabilities, or ``None`` without logprobs."""
    logprobs = [v for v in completion.detail.get("token_logprobs") or [] if v is not None and math.isfinite(v)]
    return math.exp(sum(logprobs) / len(logprobs)) if logprobs else None


def in_form(question: Question, text: str) -> str | None:
    """The reply in the question's form, or ``None`` when it has not that form (a sentence for a count)."""
    if not text.strip():
        return None
    out = conform(question, text)
    return out.text if out.fits else None


def _requests(asks: Sequence[Ask], images: Sequence[ImageRef], services: Services) -> list[DescribeRequest]:
    return [
        DescribeRequest(images=[pixels_of(v, images, services.pixels) for v in a.views], prompt=a.prompt, max_tokens=a.max_tokens, logprobs=True)
        for a in asks
    ]


def _samples(requests: Sequence[DescribeRequest], n: int) -> list[DescribeRequest]:
    """``n`` sampled copies of each request, in request order (each one's copies together)."""
    return [r.model_copy(update={"temperature": SAMPLE_TEMPERATURE, "seed": s + 1}) for r in requests for s in range(n)]


def _within(seconds: float, job: Any) -> tuple[Any, str | None]:
    """``job()``'s result, or the reason there is none: it raised, or ran past ``seconds``.

    It runs on a daemon thread, so a server that hangs delays neither the answer nor the exit.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = job()
        except Exception as exc:  # noqa: BLE001  (reported below; the tools' answer stands)
            box["error"] = exc

    worker = threading.Thread(target=run, name="agentvlm-vlm", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None, f"no reply within {seconds:g} s"
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, (MissingDependencyError, ConfigError)):
            raise exc
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return box["out"], None


def ask_vlm(
    services: Services,
    rec: Recorder,
    images: Sequence[ImageRef],
    asks: Sequence[Ask],
    *,
    role: str,
    samples: int = 0,
    timeout: float | None = None,
    question: Question | None = None,
) -> list[Reply]:
    """Send ``asks`` to the configured VLM as one batch and record each request (``Recorder.vision``).

    With ``samples`` and a backend that gives no logprobs, that many more replies are
    sampled per request and the share agreeing with the greedy reply (in ``question``'s
    form, when given) is its confidence. Nothing raises for a VLM that fails: the
    replies carry ``error`` and a trace note says the tools' answer stands.
    """
    vlm = services.vlm
    if vlm is None or not asks:
        return []
    limit = timeout if timeout is not None else services.config.vlm_timeout
    # A backend known to give no logprobs gets its samples in the same batch: still one round.
    together = samples if samples > 0 and getattr(vlm, "gives_logprobs", None) is False else 0
    requests = _requests(asks, images, services)
    completions, error = _within(limit, lambda: vlm.describe_batch([*requests, *_samples(requests, together)]))
    if error is not None:
        rec.note(f"the VLM failed ({error}); answering from the tools")
        for a in asks:
            rec.vision(vlm.spec, Completion(text="", seconds=limit if "within" in error else 0.0), role=role, error=error,
                       views=[v.about for v in a.views], **a.detail)  # fmt: skip
        return [Reply(ask=a, error=error) for a in asks]
    replies: list[Reply] = []
    for n, (a, completion) in enumerate(zip(asks, completions[: len(asks)], strict=True)):
        text = first_sentence(completion.text)
        conf = confidence(completion)
        rec.vision(vlm.spec, completion, role=role, views=[v.about for v in a.views], **a.detail,
                   **({"confidence": round(conf, 4)} if conf is not None else {}))  # fmt: skip
        reply = Reply(ask=a, text=text, confidence=conf, method="logprobs" if conf is not None else None, error=None if text else "an empty reply")
        if together and text and conf is None:
            mine = completions[len(asks) + n * together : len(asks) + (n + 1) * together]
            reply = _agreement(vlm.spec, rec, reply, mine, role, question)
        replies.append(reply)
    if samples > 0 and not together:
        replies = [_sampled(services, rec, images, r, samples, limit, role, question) if r.text and r.confidence is None else r for r in replies]
    return replies


def _sampled(services: Services, rec: Recorder, images: Sequence[ImageRef], reply: Reply, samples: int, limit: float,
             role: str, question: Question | None) -> Reply:  # fmt: skip
    """``reply`` with its confidence from ``samples`` sampled replies, asked as a second round."""
    vlm = services.vlm
    requests = _samples(_requests([reply.ask], images, services), samples)
    completions, error = _within(limit, lambda: vlm.describe_batch(requests))
    if error is not None:
        rec.note(f"sampling the VLM for a confidence failed ({error})")
        return reply
    return _agreement(vlm.spec, rec, reply, completions, role, question)


def _agreement(spec: str, rec: Recorder, reply: Reply, completions: Sequence[Completion], role: str, question: Question | None) -> Reply:
    """``reply`` with the share of ``completions`` (sampled replies) that agree with it, in ``question``'s form, as its confidence."""

    def key(text: str) -> str:
        return (in_form(question, text) if question is not None else None) or text.lower()

    for c in completions:
        rec.vision(spec, c, role=f"{role} sample")
    same = sum(key(first_sentence(c.text)) == key(reply.text) for c in completions)
    return reply.model_copy(update={"confidence": same / len(completions), "method": "sampling"}) if completions else reply
