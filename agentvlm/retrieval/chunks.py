"""Page text to passages: extraction with trafilatura, then chunks of about 150 words.

A reasoning model reads a handful of passages, not pages: 150 words is about 200
tokens, so three sources fit a small model's prompt beside the image evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentvlm.errors import MissingDependencyError

__all__ = ["CHUNK_WORDS", "Chunk", "chunk_text", "extract_html", "html_title"]

CHUNK_WORDS = 150
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, carrying where it came from."""

    url: str
    title: str
    text: str


def extract_html(html: str, *, url: str | None = None) -> tuple[str, str]:
    """The main text and the title of an HTML page (navigation, menus and footers dropped)."""
    try:
        import trafilatura
    except ImportError as exc:
        raise MissingDependencyError("trafilatura", extra="retrieval", purpose="extracting web page text") from exc
    text = trafilatura.extract(html, url=url, favor_recall=True, include_comments=False, include_tables=True) or ""
    return text, html_title(html)


def html_title(html: str) -> str:
    import html as html_lib

    m = _TITLE.search(html[:20000])
    return " ".join(html_lib.unescape(m.group(1)).split())[:200] if m else ""


def _pieces(text: str, size: int) -> list[str]:
    """Paragraphs, with over-long ones split at sentence ends (or, failing that, every ``size`` words)."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n|\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        if len(para.split()) <= size:
            out.append(para)
            continue
        for sentence in _SENTENCE.split(para):
            words = sentence.split()
            out += [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return out


def chunk_text(text: str, *, url: str, title: str = "", words: int = CHUNK_WORDS) -> list[Chunk]:
    """Pack paragraphs into chunks of about ``words`` words (never splitting a sentence unless it is longer).

    Example:
        >>> [len(c.text.split()) for c in chunk_text("word " * 400, url="u")]
        [150, 150, 100]
    """
    chunks: list[Chunk] = []
    current: list[str] = []
    count = 0
    for piece in _pieces(text, words):
        n = len(piece.split())
        if current and count + n > words:
            chunks.append(Chunk(url=url, title=title, text=" ".join(current)))
            current, count = [], 0
        current.append(piece)
        count += n
    if current:
        chunks.append(Chunk(url=url, title=title, text=" ".join(current)))
    return chunks
