"""What every search backend shares: the hit it returns, its interface, its one error.

The lowest module of ``agentvlm.retrieval``: the backends (``backends``, ``local``),
the cache and the pipeline import from here, and it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agentvlm.errors import AgentVLMError

__all__ = ["SearchBackend", "SearchHit", "SearchUnavailable"]


class SearchUnavailable(AgentVLMError, RuntimeError):
    """Search could not run: no network, an engine error, a rate limit or a timeout."""


@dataclass(frozen=True)
class SearchHit:
    """One search result. ``text`` is the whole document when the backend already has it (local)."""

    url: str
    title: str = ""
    snippet: str = ""
    text: str | None = None


@runtime_checkable
class SearchBackend(Protocol):
    """What every backend implements; ``name`` keys the result cache."""

    name: str

    def search(self, query: str, *, k: int) -> list[SearchHit]: ...
