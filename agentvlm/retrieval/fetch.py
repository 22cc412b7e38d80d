"""Fetching pages named by search results: the shared guard (``agentvlm.net``) set for text.

Private, loopback and link-local addresses are refused on every hop; bodies are
cut at ``max_bytes``; only HTML, text, Markdown and JSON are read.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentvlm.net import FetchError, FetchRefused, Page, SafeFetcher, check_address

__all__ = ["ALLOWED_TYPES", "FetchError", "FetchRefused", "Fetcher", "Page", "check_address"]

ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown", "application/json")


class Fetcher(SafeFetcher):
    """Fetch web pages safely (text types only; long pages are cut and marked truncated).

    Example:
        >>> Fetcher().get("http://10.0.0.1/")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        FetchRefused: refused http://10.0.0.1/: 10.0.0.1 resolves to a private address 10.0.0.1 ...
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allow_hosts: Sequence[str] = (),
        timeout: float = 6.0,
        max_bytes: int = 2_000_000,
        max_redirects: int = 3,
    ) -> None:
        super().__init__(
            allowed_types=ALLOWED_TYPES,
            accept="text/html,text/plain,text/markdown,application/json;q=0.9",
            allow_private=allow_private,
            allow_hosts=allow_hosts,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
        )
