"""Fetching pages named by search results, which are untrusted: no private addresses, bounded everything.

Each hop (the first request and every redirect) resolves the host, refuses it
if any address is private, loopback, link-local or unspecified (SSRF), then
connects to the checked address itself, so a second DNS answer cannot swap in
an internal one. Bodies are streamed and cut at ``max_bytes``; only HTML, text,
Markdown and JSON are read.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from agentvlm.errors import AgentVLMError

__all__ = ["ALLOWED_TYPES", "FetchError", "FetchRefused", "Fetcher", "Page", "check_address"]

ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown", "application/json")
USER_AGENT = "agentvlm-retrieval/0.1 (+https://github.com/agentvlm/agentvlm)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(AgentVLMError, RuntimeError):
    """A page could not be fetched (network error, timeout, HTTP error, too many redirects)."""


class FetchRefused(FetchError):
    """A page was not fetched on purpose: a private address, a non-http URL or an unreadable content type."""


@dataclass(frozen=True)
class Page:
    url: str
    content_type: str
    body: bytes
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def check_address(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched (private, loopback, link-local...), or ``None`` if it is public.

    Example:
        >>> check_address(ipaddress.ip_address("169.254.169.254"))
        'a link-local address 169.254.169.254'
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return check_address(ip.ipv4_mapped)
    for test, what in (
        (ip.is_unspecified, "an unspecified"), (ip.is_loopback, "a loopback"), (ip.is_link_local, "a link-local"),
        (ip.is_private, "a private"), (ip.is_multicast, "a multicast"), (ip.is_reserved, "a reserved"),
    ):  # fmt: skip
        if test:
            return f"{what} address {ip}"
    return None


class Fetcher:
    """Fetch pages safely.

    Args:
        allow_private: Fetch private and loopback addresses too (a trusted intranet, tests).
        allow_hosts: ``host`` or ``host:port`` entries fetched even when private, e.g.
            ``["127.0.0.1:8080"]`` for one local server; redirects elsewhere stay refused.
        timeout: Seconds for connect and each read.
        max_bytes: Stop reading a body after this many bytes (the page is marked truncated).
        max_redirects: Redirect hops followed, each checked like the first request.

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
        self.allow_private = allow_private
        self.allow_hosts = {h.lower() for h in allow_hosts}
        self.timeout, self.max_bytes, self.max_redirects = timeout, max_bytes, max_redirects

    def _resolve(self, url: str) -> tuple[str, str, int, str]:
        """Check ``url`` and pick the address to connect to: (scheme, host, port, address)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"refused {url}: only http and https URLs are fetched")
        host = parts.hostname.lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        allowed = self.allow_private or host in self.allow_hosts or f"{host}:{port}" in self.allow_hosts
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"could not resolve {host} ({exc})") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not allowed:
            for address in addresses:
                reason = check_address(ipaddress.ip_address(address.split("%")[0]))
                if reason:
                    raise FetchRefused(f"refused {url}: {host} resolves to {reason} (allow_private or allow_hosts would permit it)")
        return parts.scheme, host, port, addresses[0]

    def get(self, url: str) -> Page:
        """Fetch ``url``, following redirects by hand and re-checking every hop.

        Raises:
            FetchRefused: A private target, a non-http URL or a content type that is not text.
            FetchError: Network errors, timeouts, HTTP errors, too many redirects.
        """
        import httpx

        timeout = httpx.Timeout(self.timeout)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for _ in range(self.max_redirects + 1):
                scheme, host, port, address = self._resolve(url)
                parts = urlsplit(url)
                netloc = f"[{address}]" if ":" in address else address
                pinned = parts._replace(netloc=f"{netloc}:{port}").geturl()
                headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": USER_AGENT,
                           "Accept": "text/html,text/plain,text/markdown,application/json;q=0.9"}
                extensions = {"sni_hostname": host} if scheme == "https" else {}
                try:
                    with client.stream("GET", pinned, headers=headers, extensions=extensions) as resp:
                        if resp.is_redirect:
                            location = resp.headers.get("location", "")
                            if not location:
                                raise FetchError(f"{url} redirected without a Location header")
                            url = urljoin(url, location)
                            continue
                        if resp.status_code >= 400:
                            raise FetchError(f"{url} answered HTTP {resp.status_code}")
                        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                        if ctype not in ALLOWED_TYPES:
                            raise FetchRefused(f"refused {url}: content type '{ctype or 'none'}' is not HTML, text, Markdown or JSON")
                        body, truncated = bytearray(), False
                        for piece in resp.iter_bytes():
                            body += piece
                            if len(body) >= self.max_bytes:
                                truncated = True
                                del body[self.max_bytes :]
                                break
                        return Page(url=url, content_type=ctype, body=bytes(body), truncated=truncated)
                except httpx.TimeoutException:
                    raise FetchError(f"{url} timed out after {self.timeout:g}s") from None
                except httpx.HTTPError as exc:
                    raise FetchError(f"{url} could not be fetched ({type(exc).__name__}: {exc})") from None
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")
