"""Search results cached per (backend, query, k): a bounded LRU in memory, JSON files on disk.

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
import threading
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

from agentvlm.retrieval.base import SearchHit

__all__ = ["DEFAULT_MAX_ITEMS", "SearchCache"]

DEFAULT_MAX_ITEMS = 256


class SearchCache:
    """A thread-safe, bounded two-level cache of search hits. ``folder=None`` keeps it in memory only.

    Example:
        >>> cache = SearchCache(max_items=2)
        >>> key = SearchCache.key("ddgs", "Wivenhoe Park painter", 3)
        >>> cache.put(key, [SearchHit(url="https://example.org/wivenhoe")])
        >>> [h.url for h in cache.get(key) or []]
        ['https://example.org/wivenhoe']
    """

    def __init__(self, folder: Path | None = None, *, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self.folder = folder
        self.max_items = max_items
        self._memory: OrderedDict[str, list[SearchHit]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(backend: str, query: str, k: int) -> str:
        """The cache key of one search: a hash of the backend's name, the query and ``k``."""
        return hashlib.sha256(json.dumps([backend, query, k]).encode()).hexdigest()[:32]

    def get(self, key: str) -> list[SearchHit] | None:
        """The hits stored under ``key`` (memory first, then disk), or ``None``."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return list(self._memory[key])
        if self.folder is None:
            return None
        try:
            hits = [SearchHit(**h) for h in json.loads((self.folder / f"{key}.json").read_text())]
        except (OSError, ValueError, TypeError):
            return None
        self._remember(key, hits)
        return list(hits)

    def put(self, key: str, hits: list[SearchHit]) -> None:
        """Store ``hits`` in memory and, with a folder, on disk (a failed write only costs speed)."""
        self._remember(key, hits)
        if self.folder is None:
            return
        from agentvlm.paths import write_private

        try:
            write_private(self.folder / f"{key}.json", json.dumps([asdict(h) for h in hits]))
        except OSError:
            pass

    def _remember(self, key: str, hits: list[SearchHit]) -> None:
        with self._lock:
            self._memory[key] = list(hits)
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_items:
                self._memory.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)
