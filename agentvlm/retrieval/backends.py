"""Search backends behind one interface, chosen by a spec string.

    ddgs              DuckDuckGo and friends through the ``ddgs`` package (needs the internet)
    searxng:URL       a SearXNG instance's JSON API (``GET URL/search?q=...&format=json``)
    local:PATH        a folder of HTML, Markdown or text files, or a JSONL of documents (BM25)

Every failure to search (no network, an engine error, a rate limit, a timeout)
becomes ``SearchUnavailable``, so callers report what could not be checked
instead of crashing. ``SearchHit``, ``SearchBackend`` and ``SearchUnavailable``
live in ``retrieval.base`` (re-exported here); this module imports ``local``,
never the other way round.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from agentvlm.errors import ConfigError
from agentvlm.retrieval.base import SearchBackend, SearchHit, SearchUnavailable

__all__ = [
    "DEFAULT_SEARCH",
    "SEARCH_FORMS",
    "DdgsBackend",
    "SearchBackend",
    "SearchHit",
    "SearchUnavailable",
    "SearxngBackend",
    "bounded",
    "load_backend",
    "parse_search_spec",
]

DEFAULT_SEARCH = "ddgs"
SEARCH_FORMS = "ddgs, searxng:URL (e.g. searxng:http://localhost:8888), local:PATH (a folder of .html/.md/.txt files or a .jsonl file)"
T = TypeVar("T")


def parse_search_spec(spec: str) -> tuple[str, str]:
    """Split and check a spec: ``("ddgs", "")``, ``("searxng", URL)`` or ``("local", PATH)``.

    Raises:
        ConfigError: An unknown form or a missing URL or path, listing the valid forms.

    Example:
        >>> parse_search_spec("searxng:http://localhost:8888")
        ('searxng', 'http://localhost:8888')
    """
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "ddgs" and not arg:
        return kind, ""
    if kind == "searxng" and arg.startswith(("http://", "https://")):
        return kind, arg.rstrip("/")
    if kind == "local" and arg.strip():
        return kind, arg.strip()
    hint = ""
    if kind == "searxng":
        hint = " (the SearXNG URL must start with http:// or https://)"
    elif kind == "local":
        hint = " (give the folder or .jsonl file after 'local:')"
    raise ConfigError(f"invalid search spec '{spec}'{hint}; valid forms: {SEARCH_FORMS}")


def bounded(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``fn`` in a daemon thread, giving up after ``seconds`` so a hung engine cannot hang the agent."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (re-raised below in the caller's thread)
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"agentvlm-{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise SearchUnavailable(f"{what} timed out after {seconds:g}s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    if "dns" in text.lower() or "name or service not known" in text.lower():
        return "no network: DNS lookup failed"
    return f"{type(exc).__name__}: {text[:160]}{'...' if len(text) > 160 else ''}"


class DdgsBackend:
    """Web search through the ``ddgs`` metasearch package (no API key; needs the internet)."""

    name = "ddgs"

    def __init__(self, *, timeout: float = 8.0, region: str = "us-en") -> None:
        self.timeout, self.region = timeout, region

    def search(self, query: str, *, k: int) -> list[SearchHit]:
        try:
            from ddgs import DDGS
        except ImportError as exc:
            raise SearchUnavailable("the 'ddgs' package is not installed; run: pip install 'agentvlm[retrieval]'") from exc

        def run() -> list[dict[str, str]]:
            return list(DDGS(timeout=int(self.timeout)).text(query, region=self.region, max_results=k) or [])

        try:
            rows = bounded(run, self.timeout + 2, "ddgs search")
        except SearchUnavailable:
            raise
        except Exception as exc:  # ddgs raises its own and network errors
            raise SearchUnavailable(f"ddgs search failed ({_short(exc)}); is there internet access?") from exc
        return [SearchHit(url=r.get("href", ""), title=r.get("title", ""), snippet=r.get("body", "")) for r in rows if r.get("href")][:k]


class SearxngBackend:
    """A SearXNG instance, self-hosted or shared, through its JSON API.

    The instance is configured by the user, so it may be on localhost; the
    result pages it returns are still fetched under the private-address rules.
    """

    def __init__(self, url: str, *, timeout: float = 8.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        self.name = f"searxng:{self.url}"

    def search(self, query: str, *, k: int) -> list[SearchHit]:
        import httpx

        try:
            resp = httpx.get(f"{self.url}/search", params={"q": query, "format": "json"}, timeout=self.timeout,
                             headers={"Accept": "application/json"}, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise SearchUnavailable(f"SearXNG at {self.url} could not be reached ({_short(exc)})") from exc
        if resp.status_code == 429:
            raise SearchUnavailable(f"SearXNG at {self.url} is rate limiting (HTTP 429); retry later")
        if resp.status_code == 403:
            raise SearchUnavailable(f"SearXNG at {self.url} refused JSON (HTTP 403): enable 'json' in search.formats of its settings.yml")
        if resp.status_code != 200:
            raise SearchUnavailable(f"SearXNG at {self.url} answered HTTP {resp.status_code}")
        try:
            rows = resp.json().get("results", [])
        except ValueError as exc:
            raise SearchUnavailable(f"SearXNG at {self.url} did not return JSON; is the URL right?") from exc
        hits = [SearchHit(url=str(r.get("url", "")), title=str(r.get("title") or ""), snippet=str(r.get("content") or ""))
                for r in rows if isinstance(r, dict) and r.get("url")]
        return hits[:k]


def load_backend(spec: str | None) -> SearchBackend:
    """The backend ``spec`` names (``None``: ``ddgs``). Local corpora are indexed on first load."""
    kind, arg = parse_search_spec(spec or DEFAULT_SEARCH)
    if kind == "ddgs":
        return DdgsBackend()
    if kind == "searxng":
        return SearxngBackend(arg)
    from agentvlm.retrieval.local import LocalBackend

    return LocalBackend(arg)
