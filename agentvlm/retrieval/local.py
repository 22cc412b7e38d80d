"""Local knowledge as a search engine: a folder of documents or a JSONL, indexed with BM25.

The index (passages plus their term counts) is saved beside the corpus, so a
second run starts instantly, and rebuilt when any file's size or mtime changes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from agentvlm.errors import ConfigError
from agentvlm.retrieval.base import SearchHit
from agentvlm.retrieval.bm25 import BM25, tokenize
from agentvlm.retrieval.chunks import Chunk, chunk_text, extract_html

__all__ = ["INDEX_NAME", "LocalBackend", "index_path"]

INDEX_NAME = ".agentvlm-index.json"
INDEX_VERSION = 1
SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def index_path(corpus: Path) -> Path:
    """Where the index of ``corpus`` is kept: inside a folder, beside a JSONL file."""
    return corpus / INDEX_NAME if corpus.is_dir() else corpus.with_name(corpus.name + INDEX_NAME)


def _files(corpus: Path) -> list[Path]:
    if corpus.is_file():
        return [corpus]
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in {".jsonl", *SUFFIXES}
                  and not any(part.startswith(".") for part in p.relative_to(corpus).parts))


def _signature(corpus: Path, files: list[Path]) -> str:
    rows = [[str(p.relative_to(corpus) if corpus.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    return json.dumps([INDEX_VERSION, rows])


def _read_file(path: Path) -> list[Chunk]:
    raw = path.read_text(encoding="utf-8", errors="replace")
    kind = SUFFIXES[path.suffix.lower()]
    if kind == "html":
        text, title = extract_html(raw)
    else:
        lines = [ln.strip() for ln in raw.splitlines() if ln.strip()]
        first = lines[0] if lines else ""
        title = first.lstrip("#").strip() if kind == "markdown" and first.startswith("#") else path.stem.replace("_", " ")
        text = raw
    return chunk_text(text, url=str(path), title=title or path.stem)


def _read_jsonl(path: Path) -> list[Chunk]:
    chunks: list[Chunk] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{lineno} is not valid JSON ({exc.msg}); each line must be {{\"id\", \"url\", \"title\", \"text\"}}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
            raise ConfigError(f"{path}:{lineno} has no \"text\" string; each line must be {{\"id\"?, \"url\"?, \"title\"?, \"text\"}}")
        url = str(doc.get("url") or f"{path}#{doc.get('id', lineno)}")
        chunks += chunk_text(doc["text"], url=url, title=str(doc.get("title") or doc.get("id") or ""))
    return chunks


def _build(corpus: Path, files: list[Path]) -> list[Chunk]:
    return [c for f in files for c in (_read_jsonl(f) if f.suffix.lower() == ".jsonl" else _read_file(f))]


def _check(corpus: Path) -> list[Path]:
    if not corpus.exists():
        raise ConfigError(f"local search corpus not found: {corpus}; give a folder of .html/.md/.txt files or a .jsonl file")
    if corpus.is_file() and corpus.suffix.lower() not in {".jsonl", *SUFFIXES}:
        raise ConfigError(f"local search corpus {corpus} is not a folder, .jsonl, .html, .md or .txt file")
    files = _files(corpus)
    if not files:
        raise ConfigError(f"local search corpus {corpus} has no .html, .htm, .md, .markdown, .txt or .jsonl files")
    return files


def _load_index(corpus: Path, files: list[Path], signature: str) -> tuple[list[Chunk], BM25]:
    """The corpus's chunks and BM25 index: from its index file when that matches ``signature``, else built and stored."""
    stored = index_path(corpus)
    data: dict[str, Any] | None = None
    if stored.exists():
        try:
            data = json.loads(stored.read_text())
        except (OSError, ValueError):
            data = None
    if data and data.get("signature") == signature:
        chunks = [Chunk(**c) for c in data["chunks"]]
        bm25 = BM25.from_dict(data["bm25"])
    else:
        chunks = _build(corpus, files)
        bm25 = BM25([tokenize(f"{c.title} {c.text}") for c in chunks])
        payload = {"signature": signature, "chunks": [c.__dict__ for c in chunks], "bm25": bm25.to_dict()}
        try:
            stored.write_text(json.dumps(payload))
        except OSError:
            pass  # a read-only corpus is indexed in memory on every load
    return chunks, bm25


class LocalBackend:
    """BM25 search over a local corpus; hits are passages and carry their text (nothing to fetch)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = f"local:{self.path.resolve()}"
        self._lock = threading.Lock()
        self._signature = ""
        self.chunks: list[Chunk] = []
        self._refresh()

    def _refresh(self) -> None:
        """Re-index when a file of the corpus changed since the last look (cheap when none did)."""
        files = _check(self.path)
        signature = _signature(self.path, files)
        with self._lock:
            if signature != self._signature:
                self.chunks, self.bm25 = _load_index(self.path, files, signature)
                self._signature = signature

    def search(self, query: str, *, k: int) -> list[SearchHit]:
        self._refresh()  # picks up edits to the corpus
        return [
            SearchHit(url=c.url, title=c.title, snippet=c.text[:240], text=c.text)
            for c in (self.chunks[i] for i, _ in self.bm25.top(tokenize(query), k))
        ]
