"""Serve agentvlm over HTTP: an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models),
POST /v1/ask returning the Answer JSON, GET /healthz, and a web page at /. Needs
pip install 'agentvlm[serve]'."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentvlm.serve.settings import ServeSettings

__all__ = ["HELP", "add_arguments", "check_port", "run", "settings_from_args"]

HELP = "serve an OpenAI-compatible API, /v1/ask and a web page over HTTP"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from agentvlm.cli import model_options

    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--api-key", metavar="KEY", help="require 'Authorization: Bearer KEY' on /v1 (default: $AGENTVLM_API_KEY, else open; an empty key is refused)")
    p.add_argument("--trusted-host", action="append", default=[], metavar="NAME",
                   help="a Host name this server answers to besides localhost, 127.0.0.1 and [::1] (repeatable; '*' for any); "
                        "needed to reach a --host 0.0.0.0 server by another name")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="a web origin (https://app.example) whose pages may call this server (repeatable; default none)")
    p.add_argument("--base-url", metavar="URL", help="absolute base of annotated-image URLs, e.g. behind a proxy (default: relative URLs)")
    p.add_argument("--max-concurrency", type=int, default=1, metavar="N", help="questions answered at once (default 1)")
    p.add_argument("--max-queue", type=int, default=16, metavar="N", help="questions waiting; more get HTTP 429 (default 16)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds per question, queueing included, before HTTP 504 (default 300)")
    p.add_argument("--max-body-mb", type=float, default=25.0, metavar="MB", help="largest request body (default 25)")
    p.add_argument("--max-image-mb", type=float, default=15.0, metavar="MB", help="largest image after decoding (default 15)")
    p.add_argument("--ray", action="store_true", help="run the app as a Ray Serve deployment (pip install 'agentvlm[ray-serve]')")
    p.add_argument("--replicas", type=int, default=1, metavar="N", help="Ray Serve replicas, each with its own models (default 1)")
    p.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (default: $RAY_ADDRESS, else a local one)")
    model_options(p)


def check_port(host: str, port: int) -> None:
    """Fail with one clear message, before any model or cluster starts, if ``host:port`` is taken."""
    import socket

    from agentvlm.errors import InputError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host") from None


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    from agentvlm.cli.ask import build_config
    from agentvlm.errors import InputError
    from agentvlm.serve.settings import ServeSettings

    for flag in ("max_concurrency", "replicas", "port"):
        if getattr(args, flag) < 1:
            raise InputError(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    if args.max_queue < 0 or args.timeout <= 0 or args.max_body_mb <= 0 or args.max_image_mb <= 0:
        raise InputError("--max-queue must be 0 or more, and --timeout, --max-body-mb and --max-image-mb positive")
    return ServeSettings(
        config=build_config(args),
        api_key=_api_key(args.api_key),
        trusted_hosts=[*args.trusted_host, *_bound_name(args.host)],
        cors_origins=args.cors_origin,
        base_url=args.base_url,
        max_concurrency=args.max_concurrency,
        max_queue=args.max_queue,
        timeout_s=args.timeout,
        max_body_bytes=int(args.max_body_mb * 2**20),
        max_image_bytes=int(args.max_image_mb * 2**20),
    )


def _api_key(given: str | None) -> str | None:
    """The key from ``--api-key`` or ``$AGENTVLM_API_KEY``, trimmed; an empty one (an unset variable) is an error."""
    from agentvlm.errors import InputError

    where, key = ("--api-key", given) if given is not None else ("AGENTVLM_API_KEY", os.environ.get("AGENTVLM_API_KEY"))
    if key is not None and not key.strip():
        raise InputError(f"{where} is empty (an unset variable?), which would serve everyone; give a key, or leave {where} out to serve without one")
    return key.strip() if key is not None else None


def _bound_name(host: str) -> list[str]:
    """A specific address listened on is a name clients use; a wildcard is not."""
    return [] if host in ("0.0.0.0", "::", "") else [host.strip("[]")]


def run(args: argparse.Namespace) -> int:
    from agentvlm.errors import MissingDependencyError

    settings = settings_from_args(args)
    check_port(args.host, args.port)
    if args.ray:
        from agentvlm.serve.ray_app import serve_ray

        return serve_ray(settings, host=args.host, port=args.port, replicas=args.replicas, address=args.ray_address)
    try:
        import uvicorn

        from agentvlm.serve.http import create_app
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "fastapi", extra="serve", purpose="agentvlm serve") from None
    app = create_app(settings)
    runner = app.state.runner
    where = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    print(f"agentvlm serve: {where}/ (web page), {where}/v1 (OpenAI API; models: {', '.join(runner.graphs)}; "
          f"default {runner.default_graph}){'; bearer key required' if settings.api_key else ''}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
