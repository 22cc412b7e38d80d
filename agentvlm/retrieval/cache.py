"""Search results cached per (backend, query, k): ``JsonCache`` of search hits.

A ``SearchCache`` belongs to whoever searches (the pipeline keeps one per
``Services``), never to the module, so two agents in one process do not share
or evict each other's results. The memory layer holds ``max_items`` queries
(256 by default: each entry is one query's few hits, titles and snippets, a few
kilobytes) and drops the least recently used beyond that; the disk layer
(``folder/*.json``, written privately) serves the next process.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agentvlm.evidence.cache import JsonCache
from agentvlm.retrieval.base import SearchHit

__all__ = ["DEFAULT_MAX_ITEMS", "SearchCache"]

DEFAULT_MAX_ITEMS = 256


class SearchCache(JsonCache[SearchHit]):
    """A thread-safe, bounded two-level cache of search hits. ``folder=None`` keeps it in memory only.

    Example:
        >>> cache = SearchCache(max_items=2)
        >>> key = SearchCache.key("ddgs", "Wivenhoe Park painter", 3)
        >>> cache.put(key, [SearchHit(url="https://example.org/wivenhoe")])
        >>> [h.url for h in cache.get(key) or []]
        ['https://example.org/wivenhoe']
    """

    def __init__(self, folder: Path | None = None, *, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        super().__init__(SearchHit, folder, max_items=max_items)

    @staticmethod
    def key(backend: str, query: str, k: int) -> str:
        """The cache key of one search: a hash of the backend's name, the query and ``k``."""
        return hashlib.sha256(json.dumps([backend, query, k]).encode()).hexdigest()[:32]
