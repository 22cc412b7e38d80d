"""Retrieval for knowledge the image lacks (UDKAG): queries, search, fetch, rerank, numbered sources.

    from agentvlm.retrieval import search_and_read, load_backend
    backend = load_backend("local:docs/")          # or "ddgs", "searxng:http://localhost:8888"
    hits = backend.search("Wivenhoe Park painter", k=3)

Only the backend interface is imported eagerly (``Config`` validates search
specs with it); the pipeline, trafilatura and the embedding model load on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentvlm._lazy import lazy_getattr
from agentvlm.retrieval.backends import load_backend, parse_search_spec
from agentvlm.retrieval.base import SearchBackend, SearchHit, SearchUnavailable

if TYPE_CHECKING:
    from agentvlm.retrieval.fetch import Fetcher, FetchError, FetchRefused
    from agentvlm.retrieval.node import make_answer_with_sources, make_web_search
    from agentvlm.retrieval.pipeline import RetrievalOptions, search_and_read

__all__ = [
    "FetchError",
    "FetchRefused",
    "Fetcher",
    "RetrievalOptions",
    "SearchBackend",
    "SearchHit",
    "SearchUnavailable",
    "load_backend",
    "make_answer_with_sources",
    "make_web_search",
    "parse_search_spec",
    "search_and_read",
]

_LAZY = {
    "FetchError": "agentvlm.retrieval.fetch",
    "FetchRefused": "agentvlm.retrieval.fetch",
    "Fetcher": "agentvlm.retrieval.fetch",
    "RetrievalOptions": "agentvlm.retrieval.pipeline",
    "search_and_read": "agentvlm.retrieval.pipeline",
    "make_web_search": "agentvlm.retrieval.node",
    "make_answer_with_sources": "agentvlm.retrieval.node",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
