"""Serve agentvlm to MCP clients (Claude Desktop, IDE agents): tools ask_image, describe_image and
list_graphs, over stdio (default) or streamable HTTP. Needs pip install 'agentvlm[mcp]'."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentvlm.serve.runner import Runner

__all__ = ["HELP", "add_arguments", "run"]

HELP = "serve agentvlm's tools to MCP clients over stdio or streamable HTTP"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from agentvlm.cli import model_options

    p.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="stdio (default; the client starts the server) or streamable HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address for --transport http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port for --transport http (default 8765; the endpoint is /mcp)")
    p.add_argument("--allow-paths", action=argparse.BooleanOptionalAction, default=None,
                   help="let ask_image read image files on this machine (default: on for stdio, off for http)")
    model_options(p)


def run(args: argparse.Namespace) -> int:
    from agentvlm.cli.ask import build_config
    from agentvlm.errors import MissingDependencyError

    try:
        from agentvlm.serve.mcp_server import build_server
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "mcp", extra="mcp", purpose="agentvlm mcp") from None
    if args.transport == "http":
        from agentvlm.cli.serve import check_port

        check_port(args.host, args.port)
    from agentvlm.serve.runner import Runner
    from agentvlm.serve.settings import ServeSettings

    allow_paths = args.allow_paths if args.allow_paths is not None else args.transport == "stdio"
    runner = Runner(ServeSettings(config=build_config(args)))
    server = build_server(allow_paths=allow_paths, runner=runner)
    previous = signal.signal(signal.SIGTERM, functools.partial(_stop, runner))
    try:
        if args.transport == "stdio":
            server.run("stdio")
        else:
            print(f"agentvlm mcp: streamable HTTP on http://{args.host}:{args.port}/mcp", file=sys.stderr, flush=True)
            server.run("streamable-http", host=args.host, port=args.port)  # uvicorn handles SIGTERM itself, then returns
    finally:
        signal.signal(signal.SIGTERM, previous)
        runner.close()  # its temporary folder of uploads goes with it
    return 0


def _stop(runner: Runner, signum: int, frame: object) -> None:
    """SIGTERM (how a client stops a stdio server): close the runner, then die of the signal as before.

    Raising instead would wait for the thread blocked reading stdin.
    """
    runner.close()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
