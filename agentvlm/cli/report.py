"""Write one self-contained HTML page of a chat session: questions, answers, annotated images, steps."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["HELP", "add_arguments", "run"]

HELP = "write a session's questions, answers and annotated images as one HTML page"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the session (see: agentvlm sessions list)")
    p.add_argument("--out", metavar="FILE.html", help="where to write the page (default: NAME.html)")


def run(args: argparse.Namespace) -> int:
    from agentvlm.paths import write_private
    from agentvlm.trace.report import session_report

    html = session_report(args.name)
    out = Path(args.out or f"{args.name}.html")
    write_private(out, html)  # the page holds the session's questions and images, like the 0600 traces
    print(f"wrote {out} ({len(html) / 1024:.0f} KiB)")
    return 0
