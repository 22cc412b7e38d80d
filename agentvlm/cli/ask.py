"""Answer QUESTION about IMAGE (several images may be given): a live view of the steps on a
terminal, plain text or JSON when piped."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agentvlm.errors import InputError

__all__ = ["HELP", "add_arguments", "build_config", "run"]

HELP = "answer a question about one or more images"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from agentvlm.cli import model_options

    p.add_argument("items", nargs="+", metavar="IMAGE... QUESTION", help="image paths, http(s) URLs or data: URIs, then the question")
    p.add_argument("--json", action="store_true", help="print the answer, evidence and step trace as JSON")
    p.add_argument("--choices", nargs="+", metavar="OPTION", help="options of a multiple-choice question")
    p.add_argument("--trace", metavar="DIR", help="also write the answer as JSON and its annotated images (PNG) into DIR")
    model_options(p)


def build_config(args: argparse.Namespace) -> Any:
    """Defaults, then the config file, then command-line flags; the models they name are checked
    (``agentvlm.models.check_model``), so every command fails at start on a broken model setting."""
    from agentvlm.config import Config
    from agentvlm.models import check_model

    config = Config.from_file(args.config) if args.config else Config()
    overrides: dict[str, Any] = {}
    for flag, key in (("graph", "graph"), ("llm", "llm"), ("vlm", "vlm"), ("max_pixels", "max_pixels"),
                      ("max_image_bytes", "max_image_bytes"), ("search", "search")):  # fmt: skip
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = value
    if getattr(args, "allow_host", None):
        overrides["allow_hosts"] = [*config.allow_hosts, *args.allow_host]
    if getattr(args, "no_cache", False):
        overrides["cache"] = False
    if overrides:
        config = Config.build({**config.model_dump(), **overrides}, source="command line")
    for spec in (config.llm, config.vlm):
        if spec:
            check_model(spec)
    return config


def run(args: argparse.Namespace) -> int:
    if len(args.items) < 2:
        raise InputError(
            "give one or more images and then the question, e.g. agentvlm ask photo.jpg \"What does the sign say?\""
        )
    *images, question = args.items
    from agentvlm.agent import Agent
    from agentvlm.images import open_image

    config = build_config(args)
    refs = [open_image(p, limits=config.image_limits()) for p in images]  # fail before any model loads
    agent = Agent(config)
    live = sys.stdout.isatty() and not args.json
    if live:
        answer = _ask_live(agent, refs, question, args.choices)
    else:
        answer = agent.ask(refs, question, choices=args.choices)
    if getattr(args, "trace", None):
        _write_trace(answer, args.trace)
    if args.json:
        print(answer.model_dump_json(indent=2))
    elif not live:
        print(answer.text)
    return 0


def _write_trace(answer: Any, folder: str) -> None:
    import datetime as dt
    from pathlib import Path

    from agentvlm.trace import write_trace

    stem = f"{Path(answer.images[0].path).stem}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    files = write_trace(answer, folder, stem)
    print(f"trace: {files.json_path} {' '.join(str(p) for p in files.images)}", file=sys.stderr)


def _ask_live(agent: Any, refs: list[Any], question: str, choices: list[str] | None) -> Any:
    from rich.console import Console

    console = Console()
    answer = None
    with console.status("[bold]perceiving…") as status:
        for event in agent.stream(refs, question, choices=choices):
            if event.step is not None:
                step = event.step
                calls = ", ".join(
                    f"{c.name}{' (cached)' if c.cached else ''} {c.seconds:.2f}s" for c in step.calls
                )
                console.print(f"[green]✓[/] {step.node:<18} {step.seconds:6.2f}s  [dim]{calls}[/]")
                if step.note:
                    console.print(f"  [yellow]note:[/] {step.note}")
                status.update(f"[bold]{step.node} done, working…")
            if event.answer is not None:
                answer = event.answer
    assert answer is not None
    console.print(f"\n[bold]Answer:[/] {answer.text}")
    cited = ", ".join(f"{e.id} {e.label or ''}{(' ' + repr(e.text)) if e.text else ''}".strip() for e in answer.evidence[:8])
    if cited:
        console.print(f"[dim]evidence: {cited}{' …' if len(answer.evidence) > 8 else ''}[/]")
    console.print(f"[dim]{answer.seconds:.2f}s, {answer.model_calls} model calls, {answer.tool_calls} tool calls[/]")
    return answer
