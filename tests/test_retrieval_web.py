"""Fetching and searching over a real loopback HTTP server serving real HTML (Debian FAQ pages).

The server also speaks SearXNG's JSON API (``/search?q=...&format=json``), so the
SearXNG backend, the fetcher's private-address rules and the whole pipeline run
as they would against a self-hosted instance. No traffic leaves the machine:
addresses outside loopback are refused before any connection is made.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from agentvlm.config import Config
from agentvlm.graph.services import Recorder, Services
from agentvlm.retrieval.backends import DdgsBackend, SearchUnavailable, SearxngBackend
from agentvlm.retrieval.fetch import Fetcher, FetchError, FetchRefused
from agentvlm.retrieval.node import make_answer_with_sources, make_web_search
from agentvlm.retrieval.pipeline import RetrievalOptions, retrieve
from agentvlm.types import Evidence

WEB = Path(__file__).parent / "fixtures" / "web"
PAGES = {p.stem: p for p in [*sorted((WEB / "debian-faq").glob("*.html")), *sorted((WEB / "pages").glob("*.html"))]}
BIG_BYTES = 5_000_000


class _Handler(BaseHTTPRequestHandler):
    other_port = 0

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        port = self.server.server_address[1]
        if parts.path == "/search":
            q = parse_qs(parts.query)
            if q.get("format") != ["json"]:
                return self._send(403, b"Forbidden")
            words = {w for w in re.findall(r"\w+", q.get("q", [""])[0].lower()) if len(w) > 3}
            results = []
            for name, path in PAGES.items():
                text = path.read_text(errors="replace").lower()
                score = sum(text.count(w) for w in words)
                if score:
                    results.append((score, name))
            body = {"query": q.get("q", [""])[0], "results": [
                {"url": f"http://127.0.0.1:{port}/pages/{name}.html", "title": name, "content": f"snippet of {name}", "engine": "fixture"}
                for _, name in sorted(results, reverse=True)[:8]]}
            return self._send(200, json.dumps(body).encode(), "application/json")
        if parts.path.startswith("/pages/"):
            name = Path(parts.path).stem
            if name in PAGES:
                return self._send(200, PAGES[name].read_bytes())
            return self._send(404, b"not found")
        if parts.path == "/big.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(BIG_BYTES))
            self.end_headers()
            try:
                for _ in range(BIG_BYTES // 10_000):
                    self.wfile.write(b"<p>" + b"x" * 9_993 + b"</p>")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its cap, as it should
            return None
        if parts.path == "/photo.png":
            return self._send(200, b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
        if parts.path == "/to-private":
            return self._send(302, b"", Location="http://10.0.0.1/admin")
        if parts.path == "/to-metadata":
            return self._send(302, b"", Location="http://169.254.169.254/latest/meta-data/")
        if parts.path == "/to-other-port":
            return self._send(302, b"", Location=f"http://127.0.0.1:{self.other_port}/pages/kernel.html")
        if parts.path == "/to-kernel":
            return self._send(301, b"", Location="/pages/kernel.html")
        if parts.path == "/loop":
            return self._send(302, b"", Location="/loop")
        if parts.path == "/slow":
            time.sleep(3)
            return self._send(200, b"<p>late</p>")
        return self._send(404, b"not found")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int, int]]:
    """Two loopback servers: the main one (pages, SearXNG API) and another port redirects point to."""
    main = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.other_port = other.server_address[1]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (main, other)]
    for t in threads:
        t.start()
    port = main.server_address[1]
    yield f"http://127.0.0.1:{port}", port, other.server_address[1]
    for s in (main, other):
        s.shutdown()
        s.server_close()


def _allowed(port: int, **kw: object) -> Fetcher:
    return Fetcher(allow_hosts=[f"127.0.0.1:{port}"], **kw)  # type: ignore[arg-type]


def test_fetches_a_real_page_from_an_allowed_loopback_host(server: tuple[str, int, int]) -> None:
    base, port, _ = server
    page = _allowed(port).get(f"{base}/pages/kernel.html")
    assert page.content_type == "text/html" and not page.truncated
    assert b"Debian and the kernel" in page.body


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://10.1.2.3/", "private address 10.1.2.3"),
        ("http://172.16.0.5/", "private address 172.16.0.5"),
        ("http://192.168.1.1/", "private address 192.168.1.1"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address"),
        ("http://[::1]/", "loopback address ::1"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private address"),
        ("http://0.0.0.0/", "unspecified address"),
        ("http://localhost/", "loopback address 127.0.0.1"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_private_and_local_addresses_are_refused_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(FetchRefused, match=re.escape(reason)):
        Fetcher().get(url)


def test_loopback_is_refused_without_the_allowance(server: tuple[str, int, int]) -> None:
    base, _, _ = server
    with pytest.raises(FetchRefused, match="loopback address 127.0.0.1.*allow_private or allow_hosts"):
        Fetcher().get(f"{base}/pages/kernel.html")
    assert b"kernel" in Fetcher(allow_private=True).get(f"{base}/pages/kernel.html").body


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/to-private", "private address 10.0.0.1"),
        ("/to-metadata", "link-local address 169.254.169.254"),
        ("/to-other-port", "loopback address 127.0.0.1"),  # same host, a port the allow-list does not name
    ],
)
def test_a_redirect_into_a_private_range_is_refused(server: tuple[str, int, int], path: str, reason: str) -> None:
    base, port, _ = server
    with pytest.raises(FetchRefused, match=re.escape(reason)):
        _allowed(port).get(f"{base}{path}")


def test_redirects_are_followed_and_bounded(server: tuple[str, int, int]) -> None:
    base, port, _ = server
    page = _allowed(port).get(f"{base}/to-kernel")
    assert page.url.endswith("/pages/kernel.html") and b"kernel" in page.body
    with pytest.raises(FetchError, match="more than 3 redirects"):
        _allowed(port).get(f"{base}/loop")


def test_the_size_cap_stops_reading_a_huge_page(server: tuple[str, int, int]) -> None:
    base, port, _ = server
    page = _allowed(port, max_bytes=100_000).get(f"{base}/big.html")
    assert page.truncated and len(page.body) == 100_000


def test_only_text_content_types_are_read(server: tuple[str, int, int]) -> None:
    base, port, _ = server
    with pytest.raises(FetchRefused, match="content type 'image/png'"):
        _allowed(port).get(f"{base}/photo.png")


def test_a_slow_server_times_out(server: tuple[str, int, int]) -> None:
    base, port, _ = server
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        _allowed(port, timeout=0.5).get(f"{base}/slow")
    assert time.monotonic() - start < 3


def test_searxng_backend_speaks_the_json_api(server: tuple[str, int, int]) -> None:
    base, _, _ = server
    hits = SearxngBackend(base).search("keep debian system up to date", k=3)
    assert len(hits) == 3 and hits[0].url.startswith(base + "/pages/")
    assert all(h.title and h.snippet for h in hits)


def test_an_unreachable_searxng_is_unavailable_not_a_crash() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(SearchUnavailable, match="could not be reached"):
        SearxngBackend(f"http://127.0.0.1:{closed}", timeout=2).search("anything", k=3)


def _has_internet() -> bool:
    try:
        socket.getaddrinfo("duckduckgo.com", 443)
        return True
    except OSError:
        return False


@pytest.mark.retrieval
def test_ddgs_without_network_says_search_is_unavailable(tmp_path: Path) -> None:
    if _has_internet():
        pytest.skip("this machine resolves duckduckgo.com; the test needs one without internet")
    start = time.monotonic()
    with pytest.raises(SearchUnavailable, match="is there internet access"):
        DdgsBackend(timeout=5).search("Wivenhoe Park painter", k=3)
    services = Services(Config(search="ddgs", cache_dir=tmp_path))
    rec = Recorder()
    found = retrieve(services, "Who painted Wivenhoe Park?", [], rec, options=RetrievalOptions(queries="rules", embed=False))
    assert found.sources == [] and "search unavailable" in found.context
    assert any("search unavailable" in n for n in rec.notes)
    assert time.monotonic() - start < 60


def _services(tmp_path: Path, base: str) -> Services:
    return Services(Config(search=f"searxng:{base}", cache_dir=tmp_path))


@pytest.mark.retrieval
def test_pipeline_finds_reads_and_cites_real_pages(server: tuple[str, int, int], tmp_path: Path) -> None:
    base, port, _ = server
    services = _services(tmp_path, base)
    options = RetrievalOptions(queries="rules", embed=False, allow_hosts=(f"127.0.0.1:{port}",))
    rec = Recorder()
    found = retrieve(services, "How can I keep my Debian system up to date automatically?", [], rec, options=options)
    assert [s.n for s in found.sources] == [1, 2, 3]
    assert found.sources[0].url == f"{base}/pages/uptodate.html"
    assert found.sources[0].title == "uptodate"  # the search hit's title, which wins over the page's <title>
    assert all(len(s.snippet.split()) <= 200 for s in found.sources)
    assert found.context.startswith(f'<source n=1 url="{base}/pages/uptodate.html"')
    assert found.context.count("</source>") == 3
    fetches = [c for c in rec.calls if c.name == "fetch"]
    assert fetches and all("error" not in c.detail for c in fetches)
    # A second run answers the searches from the cache (memory, and disk under cache_dir/search).
    rec2 = Recorder()
    retrieve(services, "How can I keep my Debian system up to date automatically?", [], rec2, options=options)
    assert all(c.cached for c in rec2.calls if c.name.startswith("search:"))
    assert list((tmp_path / "search").glob("*.json"))


def test_two_agents_do_not_share_cached_searches(
    server: tuple[str, int, int], tmp_path: Path
) -> None:
    config = Config(search=f"searxng:{server[0]}", cache=False, cache_dir=tmp_path)
    options = RetrievalOptions(queries="rules", embed=False, max_pages=0)
    question = "How can I keep my Debian system up to date automatically?"

    def cached(services: Services) -> list[bool]:
        rec = Recorder()
        retrieve(services, question, [], rec, options=options)
        return [c.cached for c in rec.calls if c.name.startswith("search:")]

    first = Services(config)
    assert not any(cached(first))
    assert all(cached(first))  # the second time round, from this Services' memory
    assert not any(cached(Services(config)))  # a new Services searches afresh


def test_pages_on_a_host_not_allowed_are_skipped_and_noted(server: tuple[str, int, int], tmp_path: Path) -> None:
    base, _, _ = server
    rec = Recorder()
    found = retrieve(_services(tmp_path, base), "Debian kernel", [], rec, options=RetrievalOptions(queries="rules", embed=False))
    assert any(n.startswith("skipped refused") and "loopback" in n for n in rec.notes)
    assert all(s.snippet.startswith("snippet of") for s in found.sources)  # only the engine's snippets were used


@pytest.mark.slow
@pytest.mark.retrieval
def test_an_injected_page_changes_neither_tools_nor_answer_format(server: tuple[str, int, int], tmp_path: Path) -> None:
    """A page telling the model to ignore its instructions: delimited, redacted, and the run is unchanged."""
    base, port, _ = server
    services = _services(tmp_path, base)
    search = make_web_search(services, queries="rules", embed=False, allow_hosts=[f"127.0.0.1:{port}"])
    reason = make_answer_with_sources(services)
    state: dict[str, object] = {"question": "When was the Harbour Lighthouse built?", "choices": [], "evidence": [], "context": ""}
    rec = Recorder()
    update = search(state, rec)  # type: ignore[arg-type]
    sources = update["sources"]
    assert sources[0].url.endswith("/pages/lighthouse.html")
    assert "HACKED" not in sources[0].snippet and "[removed: text addressed to the model]" in sources[0].snippet
    assert any("addressed to the model" in n for n in rec.notes)
    assert {c.name for c in rec.calls} == {"search:searxng", "fetch"}  # no tool the page asked for
    reason_rec = Recorder()
    draft = reason({**state, "sources": sources}, reason_rec)["draft"]  # type: ignore[arg-type]
    assert "HACKED" not in draft and "\n" not in draft
    assert [c.name for c in reason_rec.calls] == [services.llm.spec]
    assert all(int(n) <= len(sources) for n in re.findall(r"\[(\d+)\]", draft))


def test_web_search_node_reports_unavailable_search_as_evidence(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    services = Services(Config(search=f"searxng:http://127.0.0.1:{closed}", cache_dir=tmp_path))
    node = make_web_search(services, queries="rules", embed=False)
    rec = Recorder()
    ocr = [Evidence(id="ocr0", tool="rapidocr", kind="text", text="Wivenhoe Park", score=0.9)]
    update = node({"question": "Who painted this park?", "evidence": ocr}, rec)  # type: ignore[typeddict-item]
    assert update["sources"] == []
    (note,) = update["evidence"]
    assert note.tool == "web_search" and note.text.startswith("Not checked against outside sources: search unavailable")
    assert any("could not be reached" in n for n in rec.notes)
