"""The chat's terminal side: completion, and the live view of an answer being worked out.

The answer runs in a worker thread (``ChatSession.start``) while this thread shows
which node and tool run and for how long; Ctrl-C here cancels the answer and gives
the prompt back at once, the worker stopping after its running node.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

__all__ = ["ChatCompleter", "answer_live"]


class ChatCompleter(Completer):
    """Completes slash commands, image paths after ``/image`` and graph names after ``/graph``."""

    def __init__(self, commands: Iterable[str]) -> None:
        self.commands = sorted(commands)
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.startswith("/image "):
            rest = text[len("/image ") :].lstrip()
            yield from self.paths.get_completions(Document(rest, len(rest)), complete_event)
        elif text.startswith("/graph "):
            word = text[len("/graph ") :].lstrip()
            for name in _graph_names():
                if name.startswith(word):
                    yield Completion(name, start_position=-len(word))
        elif text.startswith("/") and " " not in text:
            for command in self.commands:
                if command.startswith(text):
                    yield Completion(command, start_position=-len(text))


def _graph_names() -> list[str]:
    from agentvlm.resources import PACKAGE_DIR

    return sorted(p.stem for p in (PACKAGE_DIR / "graphs").glob("*.yaml"))


def _describe(node: str, config: Any) -> str:
    """``perceive:detect`` -> ``perceive · darknet``; ``reason`` -> ``reason · llamacpp:smollm2``."""
    base, _, kind = node.partition(":")
    if kind:
        tool = getattr(config.tools, kind, None)
        return f"{base} · {tool}" if tool else node
    if base == "reason":
        return f"{base} · {config.llm}"
    return node


def _view(running: dict[str, float], tokens: list[str], started: float, config: Any) -> Any:
    from rich.console import Group
    from rich.spinner import Spinner
    from rich.text import Text

    now = time.monotonic()
    rows: list[Any] = [
        Spinner("dots", text=Text(f"{_describe(node, config)}  {now - since:5.1f}s")) for node, since in running.items()
    ]
    if not running:
        rows.append(Spinner("dots", text=Text("working…")))
    if tokens:
        rows.append(Text("".join(tokens), style="bold"))
    rows.append(Text(f"{now - started:5.1f}s in all · Ctrl-C cancels", style="dim"))
    return Group(*rows)


def answer_live(session: Any, console: Any, question: str) -> Any:
    """Answer ``question`` with a live view; the ``Answer``, or ``None`` when cancelled."""
    from rich.live import Live

    if session.worker is not None and session.worker.is_alive():
        console.print("[dim]waiting for the cancelled answer's running step to end…[/]")
    events: queue.Queue[Any] = queue.Queue()
    cancel = session.start(question, events.put, progress=True)
    running: dict[str, float] = {}
    tokens: list[str] = []
    started = time.monotonic()
    answer = None
    try:
        with Live(console=console, refresh_per_second=10, transient=True) as live:
            while True:
                try:
                    item = events.get(timeout=0.1)
                except queue.Empty:
                    live.update(_view(running, tokens, started, session.config))
                    continue
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if item.kind == "start" and item.node:
                    running[item.node] = time.monotonic()
                elif item.kind == "token" and item.text:
                    tokens.append(item.text)
                elif item.kind == "step" and item.step is not None:
                    running.pop(item.step.node, None)
                    live.console.print(_step_line(item.step))
                elif item.kind == "answer":
                    answer = item.answer
                live.update(_view(running, tokens, started, session.config))
    except KeyboardInterrupt:
        cancel.set()
        console.print("[yellow]cancelled[/]: this question is not kept in the conversation")
        return None
    if answer is None:
        return None
    files = session.finish(answer)
    console.print(f"\n[bold]Answer:[/] {answer.text}", highlight=False)
    for part in answer.parts:
        console.print(f"  {part.n}. {part.question} [bold]{part.text}[/] [dim](decided by {part.basis or '?'})[/]", highlight=False)
    cited = ", ".join(f"{e.id} {e.label or ''}{(' ' + repr(e.text)) if e.text else ''}".strip() for e in answer.evidence[:8])
    if cited:
        console.print(f"[dim]evidence: {cited}{' …' if len(answer.evidence) > 8 else ''}[/]", highlight=False)
    for warning in session.pop_warnings():
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    shown = f" · annotated: {files.images[0]}" if files is not None and files.images else ""
    decided = f"decided by {answer.decided_by} · " if answer.decided_by else ""
    console.print(f"[dim]{decided}{answer.seconds:.2f}s · /trace for the steps · /show for the image{shown}[/]", highlight=False)
    return answer


def _step_line(step: Any) -> str:
    from rich.markup import escape

    calls = ", ".join(f"{c.name}{' (cached)' if c.cached else ''} {c.seconds:.2f}s" for c in step.calls)
    line = f"[green]✓[/] {escape(step.node):<18} {step.seconds:6.2f}s  [dim]{escape(calls)}[/]"
    if step.note:
        line += f"\n  [yellow]note:[/] {escape(step.note)}"
    return line
