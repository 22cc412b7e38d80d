"""Retrieval ranking quality and latency on the Debian FAQ HTML (tests/fixtures/web/debian-faq).

    python benchmarks/bench_retrieval.py            # table per question, then the summary
    python benchmarks/bench_retrieval.py --json out.json

Each labelled pair is a question (worded differently from the page) and the
passage that answers it, named by its page and a phrase it contains. The whole
corpus (72 chunks of ~150 words, extracted by trafilatura) is ranked by the
pipeline's ``rank``: BM25 alone, then BM25 + all-MiniLM-L6-v2 embeddings, both
with MMR. Prints recall@3, MRR@10 and per-question latency.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agentvlm.retrieval.local import LocalBackend
from agentvlm.retrieval.rerank import load_embedder, rank

# (question, page, a phrase of the answering passage)
PAIRS: list[tuple[str, str, str]] = [
    ("Who started the Debian project and in what year?", "basic-defs", "created by Ian Murdock in 1993"),
    ("How do you say the word Debian out loud?", "basic-defs", "pronounced Deb'-ee-en"),
    ("Where does the name Debian come from?", "basic-defs", "contraction of the names of Debra"),
    ("Who wrote the Linux kernel originally?", "basic-defs", "written by Linus Torvalds"),
    ("Does Debian run on kernels other than Linux, like the Hurd or BSD?", "basic-defs", "Debian GNU/Hurd and Debian on BSD kernels"),
    ("Which document defines the quality standards for Debian packages?", "basic-defs", "the Debian Policy"),
    ("When was support for Motorola 68k Amiga and Atari machines removed?", "compatibility", "m68k architecture was dropped"),
    ("Does Linux follow the POSIX standard and is it certified?", "compatibility", "adhere to POSIX.1"),
    ("Where should I put source code I compile myself so the package manager leaves it alone?", "compatibility", "/usr/local/src/"),
    ("Were there ever Debian ports to the NetBSD kernel?", "compatibility", "port the distribution to the NetBSD kernel"),
    ("Which organisation acts as the fiscal sponsor for Debian?", "contributing", "SPI acts as a fiscal sponsor"),
    ("How can I help by mirroring the archive?", "contributing", "mirrors are needed"),
    ("Who wrote the first edition of this FAQ?", "faqinfo", "J.H.M. Dassen (Ray) and Chuck Stickelman"),
    ("What are security updates meant for, and do they add new features?", "getting-debian", "Security updates serve one purpose"),
    ("Can I install Debian from a USB stick or over the network?", "getting-debian", "booting from USB memory stick"),
    ("What is the unstable distribution and can I upgrade to it any time?", "getting-debian", "version currently under development"),
    ("How do I build a Debian package from a kernel source tree?", "kernel", "make deb-pkg"),
    ("How can I remove kernel image packages I no longer need?", "kernel", "dpkg --purge linux-image-NNN"),
    ("What are release goals?", "nextrelease", "Release Goals"),
    ("Can the installer be started from inside Windows?", "nextrelease", "start the installer directly from Microsoft Windows"),
    ("Which hardening compiler flags protect against stack smashing?", "nextrelease", "security hardening build flags"),
    ("Am I allowed to make and sell Debian CDs?", "redistributing", "Can I make and sell Debian CDs?"),
    ("Can I build my own distribution derived from Debian?", "redistributing", "Debian-derived distributions"),
    ("How do I find out which Debian release and codename I am running?", "software", "lsb_release -a"),
    ("How can I list the versions of every installed package?", "software", "dpkg -l"),
    ("What is the naming convention for library development packages?", "software", "libfoo-dev"),
    ("How do I read manual pages in my own language, such as Italian?", "software", "manpages-LANG"),
    ("Where are the docs of an installed package kept on disk?", "support", "/usr/share/doc/PACKAGE"),
    ("How do I email the maintainer of a particular package?", "support", "xyz@packages.debian.org"),
    ("How do I get help using the bug tracking system by e-mail?", "support", "request@bugs.debian.org"),
    ("What are the rules of etiquette on the Debian mailing lists?", "support", "Do not flame"),
    ("Can Debian update itself automatically on a schedule?", "uptodate", "cron-apt"),
    ("Should I use aptitude to upgrade between releases?", "uptodate", "aptitude is not the recommended tool"),
    ("How do I add a CD or DVD as a package source for apt?", "uptodate", "apt-cdrom"),
    ("Is there a log of every package dpkg installed or removed?", "uptodate", "status installed hello"),
    ("How can I pick a faster mirror closer to me?", "uptodate", "faster Debian mirror near you"),
]


def _relevant(chunk_url: str, chunk_text: str, page: str, phrase: str) -> bool:
    return Path(chunk_url).stem == page and phrase.lower() in chunk_text.lower()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(shutil.copytree(REPO / "tests" / "fixtures" / "web" / "debian-faq", Path(tmp) / "faq"))
        start = time.perf_counter()
        backend = LocalBackend(corpus)
        index_s = time.perf_counter() - start
        chunks = backend.chunks
        for q, page, phrase in PAIRS:
            if not any(_relevant(c.url, c.text, page, phrase) for c in chunks):
                raise SystemExit(f"label error: no chunk of {page} contains {phrase!r} ({q})")
        start = time.perf_counter()
        embedder, why = load_embedder()
        load_s = time.perf_counter() - start
        if embedder is None:
            print(f"note: {why}")
        methods = {"bm25": None, "bm25+embed": embedder} if embedder else {"bm25": None}
        rows: list[dict[str, object]] = []
        for q, page, phrase in PAIRS:
            row: dict[str, object] = {"question": q}
            for name, emb in methods.items():
                t = time.perf_counter()
                ranked = rank(q, chunks, k=10, embedder=emb)
                row[f"{name}_ms"] = (time.perf_counter() - t) * 1000
                hit = next((i for i, (c, _) in enumerate(ranked, 1) if _relevant(c.url, c.text, page, phrase)), None)
                row[f"{name}_rank"] = hit
            rows.append(row)

    print(f"corpus: {len(chunks)} chunks from {len({c.url for c in chunks})} Debian FAQ pages; {len(PAIRS)} labelled questions")
    print(f"index build {index_s * 1000:.0f} ms; embedding model load {load_s:.1f} s\n")
    header = f"{'#':>2}  {'question':<62}" + "".join(f" {m + ' rank':>16} {m + ' ms':>14}" for m in methods)
    print(header)
    for i, row in enumerate(rows, 1):
        line = f"{i:>2}  {str(row['question'])[:62]:<62}"
        for m in methods:
            r = row[f"{m}_rank"]
            line += f" {('-' if r is None else str(r)):>16} {float(row[f'{m}_ms']):>14.1f}"  # type: ignore[arg-type]
        print(line)
    summary: dict[str, dict[str, float]] = {}
    print(f"\n{'method':<12} {'recall@3':>9} {'MRR@10':>8} {'median ms':>10} {'p90 ms':>8}")
    for m in methods:
        ranks = [row[f"{m}_rank"] for row in rows]
        times = sorted(float(row[f"{m}_ms"]) for row in rows)  # type: ignore[arg-type]
        recall = sum(1 for r in ranks if r is not None and r <= 3) / len(rows)  # type: ignore[operator]
        mrr = sum(1 / r for r in ranks if r) / len(rows)  # type: ignore[operator]
        summary[m] = {"recall@3": recall, "mrr@10": mrr, "median_ms": statistics.median(times), "p90_ms": times[int(0.9 * (len(times) - 1))]}
        print(f"{m:<12} {recall:>9.3f} {mrr:>8.3f} {summary[m]['median_ms']:>10.1f} {summary[m]['p90_ms']:>8.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows, "index_ms": index_s * 1000, "embed_load_s": load_s}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
