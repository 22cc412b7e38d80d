"""The ``agentvlm`` command line.

Each subcommand is a module here with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; a new one is one file plus one line in ``COMMANDS``.
Command modules import only the standard library at import time, so
``agentvlm --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

__all__ = ["COMMANDS", "main"]

EXIT_USAGE = 2

COMMANDS: dict[str, str] = {
    "ask": "agentvlm.cli.ask",
    "doctor": "agentvlm.cli.doctor",
    "chat": "agentvlm.cli.chat",
    "sessions": "agentvlm.cli.sessions",
    "report": "agentvlm.cli.report",
    "graph": "agentvlm.cli.graph",
    "eval": "agentvlm.cli.eval",
    "serve": "agentvlm.cli.serve",
    "mcp": "agentvlm.cli.mcp",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentvlm",
        description="Answer questions about images: perception tools see, a language model reasons.",
        epilog='Example: agentvlm ask photo.jpg "How many people are in this picture?"',
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def model_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that builds an agent."""
    p.add_argument("--config", metavar="FILE", help="YAML config file (keys: llm, vlm, graph, tools, max_pixels, ...)")
    p.add_argument("--graph", metavar="NAME_OR_FILE", help="built-in graph name or a graph YAML file (default: prism)")
    p.add_argument("--llm", metavar="SPEC", help="reasoning model: llamacpp:PATH.gguf (default llamacpp:smollm2), hf:..., openai:MODEL@URL")
    p.add_argument("--vlm", metavar="SPEC", help="perception VLM spec (hf:REPO_OR_DIR, openai:MODEL@URL)")
    p.add_argument("--max-pixels", type=int, metavar="N", help="refuse images larger than N pixels (default 50,000,000)")
    p.add_argument("--max-image-bytes", type=int, metavar="N", help="refuse image files and downloads over N bytes (default 50,000,000)")
    p.add_argument(
        "--allow-host", action="append", metavar="HOST[:PORT]",
        help="let image URLs reach this private or loopback host (repeatable), e.g. 127.0.0.1:8000",
    )  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="do not read or write the perception cache on disk")
    p.add_argument("--search", metavar="SPEC", help="search backend for retrieval graphs (udkag): ddgs (default), searxng:URL, local:PATH")


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
        code: int = args._run(args)
        return code
    except AgentVLMError as exc:
        print(f"agentvlm: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("agentvlm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `agentvlm graph show x | head`: the reader left, nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (keeps the interpreter's final flush quiet)
        return 0
    except Exception as exc:
        if os.environ.get("AGENTVLM_DEBUG"):
            raise
        print(
            f"agentvlm: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; rerun with AGENTVLM_DEBUG=1 for the traceback and report it with `agentvlm doctor`)",
            file=sys.stderr,
        )
        return 1
