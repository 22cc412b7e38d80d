"""Results cached by key: a bounded, locked LRU in memory over JSON files on disk.

Tool calls dominate latency on a CPU; a second question about the same image
should cost only reasoning. ``PerceptionCache`` keeps tool evidence per (image
hash, tool identity, parameters, region); the retrieval package keeps search
hits the same way (``agentvlm.retrieval.cache.SearchCache``). The memory layer
serves one process (the ``max_items`` most recently used); the disk layer
(JSON files, written privately) serves the next ``agentvlm ask``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from agentvlm.types import Evidence

__all__ = ["JsonCache", "PerceptionCache"]

T = TypeVar("T")


class JsonCache(Generic[T]):
    """Lists of ``item_type`` by key, thread-safe and bounded; ``folder=None`` keeps them in memory only."""

    def __init__(self, item_type: Any, folder: Path | None = None, *, max_items: int = 512) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self.folder = folder
        self.max_items = max_items
        self._items: TypeAdapter[list[T]] = TypeAdapter(list[item_type])  # type: ignore[valid-type]
        self._memory: OrderedDict[str, list[T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> list[T] | None:
        """What is stored under ``key`` (memory first, then disk), or ``None``."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return list(self._memory[key])
        if self.folder is None:
            return None
        try:
            found = self._items.validate_json((self.folder / f"{key}.json").read_bytes())
        except (OSError, ValidationError):
            return None
        self._remember(key, found)
        return list(found)

    def put(self, key: str, items: list[T]) -> None:
        """Store ``items`` in memory and, with a folder, on disk (a read-only or full disk only costs speed)."""
        self._remember(key, items)
        if self.folder is None:
            return
        from agentvlm.paths import write_private

        try:
            write_private(self.folder / f"{key}.json", self._items.dump_json(items))
        except OSError:
            pass  # StorageError is an OSError

    def _remember(self, key: str, items: list[T]) -> None:
        with self._lock:
            self._memory[key] = list(items)
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_items:
                self._memory.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
        if self.folder is not None and self.folder.exists():
            for path in self.folder.glob("*.json"):
                path.unlink(missing_ok=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)


class PerceptionCache(JsonCache[Evidence]):
    """Tool evidence under ``folder/perception``; ``folder=None`` keeps it in memory only."""

    def __init__(self, folder: Path | None = None, *, max_items: int = 512) -> None:
        super().__init__(Evidence, folder / "perception" if folder else None, max_items=max_items)
