"""Okapi BM25 over short passages: small, dependency-free, serializable.

Kept in-house because the index is persisted as JSON next to a local corpus and
reranking builds a fresh one over each question's candidate chunks; both need
only term counts, which a 60-line class handles.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["BM25", "tokenize"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "did", "do", "does", "for", "from",
    "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "of", "on", "or", "so",
    "than", "that", "the", "their", "there", "these", "this", "to", "was", "were", "what",
    "when", "where", "which", "who", "whom", "whose", "why", "will", "with", "you", "your",
))  # fmt: skip


def _stem(word: str) -> str:
    """A light suffix strip so "packages"/"package" and "painted"/"paint" meet; no dictionary."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stopwords.

    Example:
        >>> tokenize("Which painter painted the parks?")
        ['painter', 'paint', 'park']
    """
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


class BM25:
    """Okapi BM25 (k1, b) over tokenized documents.

    Example:
        >>> index = BM25([tokenize("apt installs packages"), tokenize("the kernel boots")])
        >>> [round(s, 3) > 0 for s in index.scores(tokenize("install a package"))]
        [True, False]
    """

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avgdl = (sum(self.lengths) / len(docs)) if docs else 0.0
        df: Counter[str] = Counter()
        for counts in self.tf:
            df.update(counts.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def __len__(self) -> int:
        return len(self.tf)

    def scores(self, query: Sequence[str]) -> list[float]:
        """One score per document; 0 for a document sharing no term with the query."""
        terms = [t for t in dict.fromkeys(query) if t in self.idf]
        out = []
        for counts, length in zip(self.tf, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / (self.avgdl or 1.0))
            out.append(sum(self.idf[t] * counts[t] * (self.k1 + 1) / (counts[t] + norm) for t in terms if t in counts))
        return out

    def top(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (index, score) pairs with a positive score, best first."""
        ranked = sorted(((s, -i) for i, s in enumerate(self.scores(query)) if s > 0), reverse=True)
        return [(-i, s) for s, i in ranked[:k]]

    def to_dict(self) -> dict[str, Any]:
        return {"k1": self.k1, "b": self.b, "tf": [dict(c) for c in self.tf]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BM25:
        docs = [[t for t, c in tf.items() for _ in range(int(c))] for tf in data["tf"]]
        return cls(docs, k1=float(data["k1"]), b=float(data["b"]))
