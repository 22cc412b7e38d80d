"""UDKAG's retrieval pipeline: queries, search, fetch, chunk, rerank, numbered sources.

``search_and_read`` is the one entry point, shared by the ``web_search`` node and
by any dispatcher (the ProReason loop) that decides to look something up.
Nothing here raises for an unreachable engine or page: what could not be
checked is written into the trace and into the returned context.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentvlm.errors import ModelError
from agentvlm.graph.services import Recorder, Services
from agentvlm.retrieval.backends import load_backend
from agentvlm.retrieval.base import SearchBackend, SearchHit, SearchUnavailable
from agentvlm.retrieval.cache import DEFAULT_MAX_ITEMS, SearchCache
from agentvlm.retrieval.chunks import Chunk, chunk_text, extract_html
from agentvlm.retrieval.fetch import Fetcher, FetchError
from agentvlm.retrieval.queries import evidence_terms, llm_queries, rule_queries
from agentvlm.retrieval.rerank import load_embedder, rank
from agentvlm.types import Evidence, Source
from agentvlm.untrusted import neutralize, redact_instructions

__all__ = [
    "Retrieval",
    "RetrievalOptions",
    "Searcher",
    "format_sources",
    "search_and_read",
    "searcher_for",
]


@dataclass(frozen=True)
class RetrievalOptions:
    """Knobs of one retrieval; the ``web_search`` node's parameters map onto these."""

    search: str | None = None
    k: int = 3
    hits_per_query: int = 5
    max_pages: int = 6
    queries: str = "llm"  # or "rules"
    embed: bool = True
    allow_private: bool = False
    allow_hosts: tuple[str, ...] = ()
    timeout: float = 6.0
    max_bytes: int = 2_000_000
    budget_seconds: float = 30.0


@dataclass
class Retrieval:
    """What one retrieval found, and what it could not check."""

    sources: list[Source] = field(default_factory=list)
    context: str = ""
    queries: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


class Searcher:
    """The search backends and result cache one ``Services`` owns; safe to share between threads.

    Web results go through ``cache`` (a bounded LRU in memory, then JSON files under
    ``cache_dir/search``); local corpora are searched directly and re-index themselves
    when a file changes, so edits to the corpus show.

    Example:
        >>> searcher = Searcher(SearchCache(max_items=64))
        >>> backend = searcher.backend("local:docs/")  # doctest: +SKIP
        >>> hits = searcher.search(backend, "Wivenhoe Park", k=3, rec=Recorder())  # doctest: +SKIP
    """

    def __init__(self, cache: SearchCache | None = None) -> None:
        self.cache = cache if cache is not None else SearchCache()
        self._backends: dict[str, SearchBackend] = {}
        self._lock = threading.Lock()

    def backend(self, spec: str | None) -> SearchBackend:
        """The backend ``spec`` names, loaded once (local corpora: on every call)."""
        key = spec or ""
        with self._lock:
            if key not in self._backends:  # a local corpus re-indexes itself when its files change
                self._backends[key] = load_backend(spec)
            return self._backends[key]

    def search(
        self, backend: SearchBackend, query: str, *, k: int, rec: Recorder
    ) -> list[SearchHit]:
        """One query through the cache; local corpora are searched directly."""
        local = backend.name.startswith("local:")
        key = SearchCache.key(backend.name, query, k)
        hit = None if local else self.cache.get(key)
        name = f"search:{backend.name.split(':')[0]}"
        with rec.tool(name, cached=hit is not None, query=query) as detail:
            hits = hit if hit is not None else backend.search(query, k=k)
            detail["hits"] = len(hits)
        if hit is None and not local:
            self.cache.put(key, hits)
        return hits


def searcher_for(services: Services) -> Searcher:
    """The ``Searcher`` of ``services`` (shared by its graphs): made on first use, dropped with it.

    Its cache folder is ``config.cache_dir / "search"`` when ``config.cache`` is on.
    """

    def make() -> Searcher:
        config = services.config
        folder = config.cache_dir / "search" if config.cache else None
        return Searcher(SearchCache(folder, max_items=DEFAULT_MAX_ITEMS))

    searcher: Searcher = services.owned("retrieval.searcher", make)
    return searcher


def _read(hit: SearchHit, fetcher: Fetcher, rec: Recorder) -> list[Chunk]:
    """The chunks of one hit: its own text (local), the fetched page, or at least its snippet."""
    if hit.text is not None:
        return chunk_text(hit.text, url=hit.url, title=hit.title)
    with rec.tool("fetch", url=hit.url) as detail:
        try:
            page = fetcher.get(hit.url)
        except FetchError as exc:
            detail["error"] = str(exc)
            rec.note(f"skipped {exc}" if str(exc).startswith("refused") else f"could not read {hit.url}: {exc}")
            return chunk_text(hit.snippet, url=hit.url, title=hit.title) if hit.snippet else []
        detail.update(bytes=len(page.body), truncated=page.truncated)
    if page.content_type in ("text/html", "application/xhtml+xml"):
        text, title = extract_html(page.text, url=page.url)
    else:
        text, title = page.text, ""
    if not text.strip():
        text = hit.snippet
    return chunk_text(text, url=page.url, title=hit.title or title)


def format_sources(sources: Sequence[Source], unavailable: Sequence[str] = ()) -> str:
    """Sources as delimited, numbered blocks of untrusted text for the reasoning prompt.

    Body, title and URL are all untrusted: delimiter look-alikes are made inert
    and quotes escaped, so nothing can close its block or its attribute.
    """
    blocks = []
    for s in sources:
        body = neutralize(s.snippet)
        title = neutralize(" ".join(s.title.split())).replace('"', "'")
        url = neutralize(s.url).replace('"', "%22").replace(">", "%3E").replace(" ", "%20")
        blocks.append(f'<source n={s.n} url="{url}" title="{title}">\n{body}\n</source>')
    if unavailable:
        blocks.append("Not checked: " + "; ".join(unavailable))
    return "\n".join(blocks)


def search_and_read(
    services: Services,
    question: str,
    evidence: Sequence[Evidence],
    rec: Recorder,
    *,
    options: RetrievalOptions | None = None,
) -> tuple[list[Source], str]:
    """Look up what the image cannot tell: returns numbered sources and their delimited text.

    Example:
        >>> sources, context = search_and_read(services, "Who painted this park?", evidence, Recorder())  # doctest: +SKIP
        >>> sources[0].url, context.splitlines()[0]  # doctest: +SKIP
        ('docs/wivenhoe.md', '<source n=1 url="docs/wivenhoe.md" title="Wivenhoe Park">')
    """
    found = retrieve(services, question, evidence, rec, options=options)
    return found.sources, found.context


def retrieve(
    services: Services, question: str, evidence: Sequence[Evidence], rec: Recorder, *, options: RetrievalOptions | None = None
) -> Retrieval:
    """``search_and_read`` with the queries and the list of what could not be checked."""
    opts = options or RetrievalOptions()
    spec = opts.search or services.config.search
    searcher = searcher_for(services)
    backend = searcher.backend(spec)
    out = Retrieval()
    if opts.queries == "llm":
        try:
            out.queries = llm_queries(services, rec, question, evidence)
        except ModelError as exc:
            rec.note(f"query writing fell back to rules: {exc}")
    rules = rule_queries(question, evidence)
    out.queries = list(dict.fromkeys([*rules[:1], *out.queries, *rules[1:]]))[:3]
    deadline = time.monotonic() + opts.budget_seconds
    hits: list[SearchHit] = []
    for query in out.queries:
        if time.monotonic() > deadline:
            out.unavailable.append(f"search for '{query}' skipped: the {opts.budget_seconds:g}s search budget ran out")
            continue
        try:
            hits += searcher.search(backend, query, k=opts.hits_per_query, rec=rec)
        except SearchUnavailable as exc:
            out.unavailable.append(f"search unavailable for '{query}' ({exc})")
            if not backend.name.startswith("local:"):
                break  # the engine is down or rate limiting: do not hammer it with the other queries
    fetcher = Fetcher(allow_private=opts.allow_private, allow_hosts=opts.allow_hosts, timeout=opts.timeout, max_bytes=opts.max_bytes)
    chunks: list[Chunk] = []
    pages = 0
    for hit in {h.url + (h.text or "")[:64]: h for h in hits}.values():
        if hit.text is None:
            if pages >= opts.max_pages or time.monotonic() > deadline:
                chunks += chunk_text(hit.snippet, url=hit.url, title=hit.title) if hit.snippet else []
                continue
            pages += 1
        chunks += _read(hit, fetcher, rec)
    chunks = list({(c.url, c.text): c for c in chunks}.values())
    ocr, labels = evidence_terms(evidence)
    query = " ".join([question, *ocr[:6], *labels[:6]])
    embedder = None
    if opts.embed and chunks:
        embedder, why = services.owned("retrieval.embedder", load_embedder)
        if why:
            rec.note(why)
    ranked = rank(query, chunks, k=opts.k, embedder=embedder)
    for i, (c, score) in enumerate(ranked, 1):
        snippet, removed = redact_instructions(c.text)
        title, removed_title = redact_instructions(c.title)
        if removed + removed_title:
            rec.note(f"source {i} ({c.url}): removed {removed + removed_title} sentence(s) addressed to the model")
        out.sources.append(Source(n=i, url=c.url, title=title, snippet=snippet, score=score))
    if not out.sources and not out.unavailable:
        out.unavailable.append(f"no passage found for {', '.join(repr(q) for q in out.queries)}")
    for reason in out.unavailable:
        rec.note(reason)
    out.context = format_sources(out.sources, out.unavailable)
    return out
