"""The ``agentvlm`` command line. Only argparse is imported up front so ``--help`` is instant."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentvlm",
        description="Answer questions about images: perception tools see, a language model reasons.",
        epilog="Example: agentvlm ask photo.jpg \"How many people are in this picture?\"",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question about one or more images",
                         description="Answer QUESTION about IMAGE (several images may be given).")
    ask.add_argument("items", nargs="+", metavar="IMAGE... QUESTION", help="image paths, then the question")
    ask.add_argument("--json", action="store_true", help="print the answer, evidence and step trace as JSON")
    ask.add_argument("--choices", nargs="+", metavar="OPTION", help="options of a multiple-choice question")
    _model_options(ask)

    doctor = sub.add_parser("doctor", help="list every backend and tool, whether it can run here, and why not")
    doctor.add_argument("--config", metavar="FILE", help="also check the models this YAML config names")
    return parser


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="YAML config file (keys: llm, vlm, graph, tools, max_pixels, ...)")
    p.add_argument("--graph", metavar="NAME_OR_FILE", help="built-in graph name or a graph YAML file (default: prism)")
    p.add_argument("--llm", metavar="SPEC", help="reasoning model: llamacpp:PATH.gguf (default llamacpp:smollm2), hf:..., openai:MODEL@URL")
    p.add_argument("--vlm", metavar="SPEC", help="perception VLM spec (hf:REPO_OR_DIR, openai:MODEL@URL)")
    p.add_argument("--max-pixels", type=int, metavar="N", help="refuse images larger than N pixels (default 50,000,000)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the perception cache on disk")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from agentvlm import __version__

        print(f"agentvlm {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from agentvlm.errors import AgentVLMError

    try:
        if args.command == "ask":
            from agentvlm.cli.ask import run_ask

            return run_ask(args)
        if args.command == "doctor":
            from agentvlm.cli.doctor import run_doctor

            return run_doctor(args)
    except AgentVLMError as exc:
        print(f"agentvlm: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("agentvlm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AGENTVLM_DEBUG"):
            raise
        print(
            f"agentvlm: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; rerun with AGENTVLM_DEBUG=1 for the traceback and report it with `agentvlm doctor`)",
            file=sys.stderr,
        )
        return 1
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE
