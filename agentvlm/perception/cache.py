"""Perception results cached per (image hash, tool identity, parameters, region).

Tool calls dominate latency on a CPU; a second question about the same image
should cost only reasoning. The memory layer serves one process; the disk layer
(JSON files under the cache folder) serves the next ``agentvlm ask``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from agentvlm.types import Evidence

__all__ = ["PerceptionCache"]

_evidence_list = TypeAdapter(list[Evidence])


class PerceptionCache:
    """A two-level cache of tool evidence. ``folder=None`` keeps it in memory only."""

    def __init__(self, folder: Path | None = None, *, max_items: int = 512) -> None:
        self.folder = folder / "perception" if folder else None
        self.max_items = max_items
        self._memory: dict[str, list[Evidence]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> list[Evidence] | None:
        with self._lock:
            if key in self._memory:
                return list(self._memory[key])
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        try:
            found = _evidence_list.validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None
        self._remember(key, found)
        return list(found)

    def put(self, key: str, evidence: list[Evidence]) -> None:
        self._remember(key, evidence)
        if self.folder is None:
            return
        from agentvlm.paths import write_private

        try:
            write_private(self.folder / f"{key}.json", _evidence_list.dump_json(evidence))
        except OSError:
            pass  # a read-only or full disk only costs speed (StorageError is an OSError)

    def _remember(self, key: str, evidence: list[Evidence]) -> None:
        with self._lock:
            self._memory[key] = list(evidence)
            while len(self._memory) > self.max_items:
                self._memory.pop(next(iter(self._memory)))

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
        if self.folder is not None and self.folder.exists():
            for path in self.folder.glob("*.json"):
                path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._memory)
