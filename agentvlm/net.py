"""Fetching URLs that users or web pages name, which are untrusted: no private addresses, bounded everything.

Each hop (the first request and every redirect) resolves the host, refuses it
if any address is private, loopback, link-local or unspecified (SSRF), then
connects to the checked address itself, so a second DNS answer cannot swap in
an internal one. Bodies are streamed and cut (or refused) at ``max_bytes``, the
whole fetch ends after ``deadline`` seconds however slowly a server drips, and
only the content types asked for are read. Web retrieval (text pages) and image
URLs share this one guard.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from agentvlm.errors import AgentVLMError

__all__ = ["FetchError", "FetchRefused", "Page", "SafeFetcher", "check_address"]

USER_AGENT = "agentvlm/0.1 (+https://github.com/agentvlm/agentvlm)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(AgentVLMError, RuntimeError):
    """A URL could not be fetched (network error, timeout, HTTP error, too many redirects)."""


class FetchRefused(FetchError):
    """A URL was not fetched on purpose: a private address, a non-http URL, a wrong content type, too large."""


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


class SafeFetcher:
    """Fetch URLs safely.

    Args:
        allowed_types: Content types read; an entry ending in ``/`` is a prefix (``image/``).
        accept: The ``Accept`` header sent.
        allow_private: Fetch private and loopback addresses too (a trusted intranet, tests).
        allow_hosts: ``host`` or ``host:port`` entries fetched even when private, e.g.
            ``["127.0.0.1:8080"]`` for one local server; redirects elsewhere stay refused.
        timeout: Seconds for connect and each read.
        deadline: Seconds for the whole fetch, redirects included (a server dripping bytes).
        max_bytes: Bodies longer than this are cut (``truncate``) or refused.
        truncate: Keep the first ``max_bytes`` (text) instead of refusing the body (images).
        max_redirects: Redirect hops followed, each checked like the first request.
        hint: How to permit a refused private address, for the error message.

    Example:
        >>> SafeFetcher(allowed_types=("image/",)).get("http://10.0.0.1/a.jpg")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        FetchRefused: refused http://10.0.0.1/a.jpg: 10.0.0.1 resolves to a private address 10.0.0.1 ...
    """

    def __init__(
        self,
        *,
        allowed_types: Sequence[str],
        accept: str = "*/*",
        allow_private: bool = False,
        allow_hosts: Sequence[str] = (),
        timeout: float = 6.0,
        deadline: float | None = None,
        max_bytes: int = 2_000_000,
        truncate: bool = True,
        max_redirects: int = 3,
        hint: str = "allow_private or allow_hosts would permit it",
    ) -> None:
        self.allowed_types = tuple(t.lower() for t in allowed_types)
        self.accept = accept
        self.allow_private = allow_private
        self.allow_hosts = {h.lower() for h in allow_hosts}
        self.timeout, self.max_bytes, self.max_redirects = timeout, max_bytes, max_redirects
        self.deadline = deadline if deadline is not None else 4 * timeout
        self.truncate = truncate
        self.hint = hint

    def _resolve(self, url: str) -> tuple[str, str, int, str]:
        """Check ``url`` and pick the address to connect to: (scheme, host, port, address)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"refused {url}: only http and https URLs are fetched")
        host = parts.hostname.lower()
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchRefused(f"refused {url}: the port is not a number from 1 to 65535") from None
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
                    raise FetchRefused(f"refused {url}: {host} resolves to {reason} ({self.hint})")
        return parts.scheme, host, port, addresses[0]

    def _type_ok(self, ctype: str) -> bool:
        return any(ctype == t or (t.endswith("/") and ctype.startswith(t)) for t in self.allowed_types)

    def get(self, url: str) -> Page:
        """Fetch ``url``, following redirects by hand and re-checking every hop.

        Raises:
            FetchRefused: A private target, a non-http URL, a content type not allowed, a body over the cap.
            FetchError: Network errors, timeouts, HTTP errors, too many redirects.
        """
        import httpx

        timeout = httpx.Timeout(self.timeout)
        end = time.monotonic() + self.deadline
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for _ in range(self.max_redirects + 1):
                scheme, host, port, address = self._resolve(url)
                parts = urlsplit(url)
                netloc = f"[{address}]" if ":" in address else address
                pinned = parts._replace(netloc=f"{netloc}:{port}").geturl()
                headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": USER_AGENT, "Accept": self.accept}
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
                        if not self._type_ok(ctype):
                            wanted = ", ".join(t + ("*" if t.endswith("/") else "") for t in self.allowed_types)
                            raise FetchRefused(f"refused {url}: content type '{ctype or 'none'}' is not one of {wanted}")
                        declared = resp.headers.get("content-length", "")
                        if not self.truncate and declared.isdigit() and int(declared) > self.max_bytes:
                            raise FetchRefused(f"refused {url}: {int(declared):,} bytes, over the limit of {self.max_bytes:,}")
                        body, truncated = bytearray(), False
                        for piece in resp.iter_bytes():
                            body += piece
                            if len(body) > self.max_bytes:
                                if not self.truncate:
                                    raise FetchRefused(f"refused {url}: more than {self.max_bytes:,} bytes, over the limit")
                                truncated = True
                                del body[self.max_bytes :]
                                break
                            if time.monotonic() > end:
                                raise httpx.ReadTimeout("deadline")
                        return Page(url=url, content_type=ctype, body=bytes(body), truncated=truncated)
                except httpx.TimeoutException:
                    raise FetchError(f"{url} timed out after {self.timeout:g}s (whole fetch at most {self.deadline:g}s)") from None
                except httpx.HTTPError as exc:
                    raise FetchError(f"{url} could not be fetched ({type(exc).__name__}: {exc})") from None
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")
