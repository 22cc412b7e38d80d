"""Local Hugging Face models through transformers: a VLM for perception, a causal LM for reasoning.

``hf:REPO_OR_DIR`` names a hub repo (downloaded once into the HF cache) or a
saved folder. Weights load on the first call, once per process, on CUDA in
bfloat16 when there is a GPU, else on the CPU in float32. Prompts go through the
model's own chat template, so any model with one works unchanged.

``yes_probability`` reads the next-token distribution after the chat template's
assistant prefix: P(Yes) / (P(Yes) + P(No)), summing the "Yes", " Yes", "yes",
" yes" (and "No" ...) tokens that the tokenizer encodes as one token each.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentvlm.errors import ConfigError, MissingDependencyError, ModelError
from agentvlm.models.base import Completion, Message
from agentvlm.models.specs import ModelSpec
from agentvlm.models.vlm import DescribeRequest, ImageLike, YesNoRequest, YesProbability, as_pil
from agentvlm.prompts import render

__all__ = ["TransformersLLM", "TransformersVLM", "check_target", "pick_device"]

_VARIANTS = {"yes": ("Yes", " Yes", "yes", " yes", "YES"), "no": ("No", " No", "no", " no", "NO")}


def _imports() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        raise MissingDependencyError("transformers", extra="torch", purpose="hf: models") from None
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return torch, transformers


def pick_device(device: str | None = None, dtype: str | None = None) -> tuple[str, Any]:
    """``(device, torch dtype)``: CUDA with bfloat16 (float16 on pre-Ampere cards) where present, else CPU float32."""
    torch, _ = _imports()
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype is not None:
        return device, getattr(torch, dtype)
    if device.startswith("cuda"):
        return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return device, torch.float32


def check_target(spec: ModelSpec) -> str:
    """A local folder must hold a saved model; anything path-like that is not one is a config error."""
    target = spec.target
    path = Path(target).expanduser()
    looks_local = path.exists() or target.startswith(("/", ".", "~")) or target.count("/") > 1
    if not looks_local:
        return target
    if not path.is_dir() or not (path / "config.json").exists():
        what = "does not exist" if not path.exists() else ("is a file" if path.is_file() else "has no config.json")
        raise ConfigError(
            f"hf:{target} is not a Hugging Face model: {path} {what}; pass a folder written by save_pretrained "
            "(config.json + weights) or a hub id such as hf:HuggingFaceTB/SmolVLM-256M-Instruct"
        )
    return str(path)


class _Local:
    """Shared loading for both roles: one lock, lazy weights, clear load errors."""

    def __init__(self, spec: ModelSpec, *, device: str | None = None, dtype: str | None = None) -> None:
        self.spec = str(spec)
        self.target = check_target(spec)
        self._device, self._dtype_name = device, dtype
        self._model: Any = None
        self._processor: Any = None
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        return str(self._load()[0].device)

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            _, transformers = _imports()
            device, dtype = pick_device(self._device, self._dtype_name)
            try:
                processor = self._load_processor(transformers)
                model = self._model_class(transformers).from_pretrained(self.target, dtype=dtype)
            except (OSError, ValueError, KeyError) as exc:
                raise ModelError(
                    f"transformers could not load {self.spec}: {str(exc).splitlines()[0][:300]}; check the id or folder "
                    "(offline, the model must already be in the Hugging Face cache)"
                ) from exc
            self._model, self._processor = model.to(device).eval(), processor
        return self._model, self._processor

    def _load_processor(self, transformers: Any) -> Any:
        raise NotImplementedError

    def _model_class(self, transformers: Any) -> Any:
        raise NotImplementedError

    def _tokenizer(self) -> Any:
        processor = self._load()[1]
        return getattr(processor, "tokenizer", processor)

    def _generate(self, inputs: Any, max_tokens: int, temperature: float = 0.0, *, logprobs: bool = False) -> list[Completion]:
        """Generate for a padded batch; with ``logprobs``, each completion's ``detail["token_logprobs"]``
        holds its tokens' log-probabilities under the model (from the scores ``generate`` returns)."""
        torch, _ = _imports()
        model, tokenizer = self._load()[0], self._tokenizer()
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id,
                                 output_scores=logprobs, return_dict_in_generate=True, **sampling)  # fmt: skip
        sequences = out.sequences
        steps = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in out.scores], dim=1) if logprobs and out.scores else None
        seconds = (time.perf_counter() - start) / max(len(sequences), 1)
        prompt_len = inputs["input_ids"].shape[1]
        results = []
        for n, (row, mask) in enumerate(zip(sequences, inputs["attention_mask"], strict=True)):
            new = row[prompt_len:]
            real = new != tokenizer.pad_token_id if tokenizer.pad_token_id is not None else torch.ones_like(new, dtype=torch.bool)
            n_new = int(real.sum())
            detail: dict[str, Any] = {}
            if steps is not None:
                picked = steps[n, : len(new)].gather(-1, new[: steps.shape[1]].unsqueeze(-1)).squeeze(-1)
                detail["token_logprobs"] = [float(v) for v, keep in zip(picked, real, strict=False) if keep]
            results.append(Completion(
                text=tokenizer.decode(new, skip_special_tokens=True).strip(), prompt_tokens=int(mask.sum()),
                completion_tokens=n_new, seconds=seconds, finish_reason="length" if n_new >= max_tokens else "stop", detail=detail,
            ))
        return results


class TransformersVLM(_Local):
    """A local VLM (SmolVLM, Qwen2.5-VL, LLaVA, Idefics3 ...) via ``AutoModelForImageTextToText``.

    Example:
        >>> vlm = load_vision_model("hf:HuggingFaceTB/SmolVLM-256M-Instruct")  # doctest: +SKIP
        >>> vlm.describe_batch([DescribeRequest(images=[crop], prompt="What is this?") for crop in crops])  # doctest: +SKIP
    """

    def __init__(self, spec: ModelSpec, *, device: str | None = None, dtype: str | None = None, image_max_side: int = 1536) -> None:
        super().__init__(spec, device=device, dtype=dtype)
        self.image_max_side = image_max_side

    def _load_processor(self, transformers: Any) -> Any:
        processor = transformers.AutoProcessor.from_pretrained(self.target)
        if getattr(processor, "tokenizer", None) is None or not getattr(processor, "chat_template", None):
            raise ConfigError(f"{self.spec} has no processor with a chat template; is it a vision-language model?")
        processor.tokenizer.padding_side = "left"  # batched generation continues every row at the end
        return processor

    def _model_class(self, transformers: Any) -> Any:
        return transformers.AutoModelForImageTextToText

    def _inputs(self, items: Sequence[tuple[Sequence[ImageLike], str]]) -> Any:
        model, processor = self._load()
        texts, images = [], []
        for imgs, prompt in items:
            content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": prompt}]
            texts.append(processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True))
            images.append([as_pil(i, max_side=self.image_max_side) for i in imgs])
        kwargs: dict[str, Any] = {"text": texts, "return_tensors": "pt", "padding": True}
        if any(images):
            kwargs["images"] = images
        inputs = processor(**kwargs)
        return inputs.to(model.device, dtype=model.dtype) if hasattr(inputs, "to") else inputs

    def describe(self, images: Sequence[ImageLike], prompt: str, *, max_tokens: int = 128) -> Completion:
        return self.describe_batch([DescribeRequest(images=list(images), prompt=prompt, max_tokens=max_tokens)])[0]

    def describe_batch(self, requests: Sequence[DescribeRequest]) -> list[Completion]:
        """Generate for all requests in one padded batch (left padding)."""
        if not requests:
            return []
        with self._lock:
            inputs = self._inputs([(r.images, r.prompt) for r in requests])
            temperature = max(r.temperature for r in requests)
            if temperature > 0:
                _imports()[0].manual_seed(requests[0].seed)
            return self._generate(inputs, max(r.max_tokens for r in requests), temperature, logprobs=any(r.logprobs for r in requests))

    def yes_probability(self, images: Sequence[ImageLike], question: str) -> YesProbability:
        return self.yes_probability_batch([YesNoRequest(images=list(images), question=question)])[0]

    def yes_probability_batch(self, requests: Sequence[YesNoRequest]) -> list[YesProbability]:
        """One forward pass for the batch; the last position's logits give P(Yes) vs P(No)."""
        if not requests:
            return []
        torch, _ = _imports()
        with self._lock:
            inputs = self._inputs([(r.images, render("vlm_yesno", question=r.question)["user"]) for r in requests])
            with torch.inference_mode():
                logits = self._load()[0](**inputs).logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1)
            ids = {k: self._single_token_ids(v) for k, v in _VARIANTS.items()}
        out = []
        for row in probs:
            yes, no = float(row[ids["yes"]].sum()), float(row[ids["no"]].sum())
            out.append(YesProbability(p=yes / (yes + no) if yes + no > 0 else 0.5, method="logits"))
        return out

    def _single_token_ids(self, words: Sequence[str]) -> list[int]:
        tok = self._tokenizer()
        found: set[int] = set()
        for w in words:
            enc = tok.encode(w, add_special_tokens=False)
            if len(enc) == 1:
                found.add(int(enc[0]))
        if not found:
            raise ModelError(f"{self.spec}: its tokenizer has no single token for {words[0]!r}; yes_probability needs one")
        return sorted(found)


class TransformersLLM(_Local):
    """A local text LLM via ``AutoModelForCausalLM`` and its tokenizer's chat template.

    It cannot constrain decoding to a schema, so a schema is stated in the system
    prompt and ``structured()`` repairs what does not validate.
    """

    def _load_processor(self, transformers: Any) -> Any:
        tokenizer = transformers.AutoTokenizer.from_pretrained(self.target)
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(f"{self.spec} has no chat template; use an instruction-tuned (chat) model")
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    def _model_class(self, transformers: Any) -> Any:
        return transformers.AutoModelForCausalLM

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> Completion:
        torch, _ = _imports()
        convo = [m.model_dump() for m in messages]
        if schema is not None:
            convo.insert(0, {"role": "system", "content": render("json_only", schema=json.dumps(schema))["system"]})
        with self._lock:
            model, tokenizer = self._load()
            torch.manual_seed(seed)
            text = tokenizer.apply_chat_template(convo, add_generation_prompt=True, tokenize=False)
            inputs = tokenizer([text], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            return self._generate(inputs, max_tokens, temperature)[0]
