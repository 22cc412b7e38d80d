"""Talk with the agent about images: ask, follow up, add images, come back later (--session).

On a terminal: a prompt with completion and history, a live view of the running
step, Ctrl-C to cancel an answer. Piped: one question per line in, one answer per
line out (slash commands still work), e.g. printf 'How many people?\\n/quit\\n' | agentvlm chat photo.jpg
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from agentvlm.errors import AgentVLMError, InputError

__all__ = ["COMMAND_HELP", "HELP", "add_arguments", "run"]

HELP = "chat about images: follow-up questions, sessions that survive a crash, visual traces"

COMMAND_HELP: dict[str, str] = {
    "/image": "/image PATH   add an image to the conversation",
    "/images": "/images       list the conversation's images",
    "/graph": "/graph NAME   switch to another graph (built-in name or YAML file)",
    "/trace": "/trace        the last answer's steps and evidence",
    "/show": "/show         the last answer's annotated image (opened when a display exists)",
    "/save": "/save [NAME]  keep this conversation as session NAME",
    "/reset": "/reset        forget the conversation (images stay; earlier turns stay on disk)",
    "/help": "/help         this list",
    "/quit": "/quit         leave (Ctrl-D and Ctrl-C at the prompt too)",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    from agentvlm.cli import model_options

    p.add_argument("images", nargs="*", metavar="IMAGE", help="images to talk about (more with /image PATH)")
    p.add_argument("--session", metavar="NAME", help="keep the conversation as session NAME, or resume it (see: agentvlm sessions list)")
    model_options(p)


class _Out:
    """Where things go: answers and asked-for listings to stdout; chatter to stderr when piped."""

    def __init__(self, interactive: bool) -> None:
        from rich.console import Console

        self.interactive = interactive
        self.console = Console(highlight=False)
        self.status = self.console if interactive else Console(stderr=True, highlight=False)

    def out(self, text: str) -> None:
        if self.interactive:
            self.console.print(text, markup=False)
        else:
            print(text, flush=True)

    def say(self, markup: str) -> None:
        self.status.print(markup)


def run(args: argparse.Namespace) -> int:
    from agentvlm.cli.ask import build_config
    from agentvlm.cli.chat_session import ChatSession

    config = build_config(args)
    session = ChatSession(config, name=args.session, images=args.images, graph_given=args.graph is not None)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    io = _Out(interactive)
    try:
        _banner(session, io)
        if interactive:
            _interactive(session, io)
        else:
            _piped(session, io)
    finally:
        session.close()
    return 0


def _banner(session: Any, io: _Out) -> None:
    for warning in session.pop_warnings():
        io.say(f"[yellow]warning:[/] {warning}")
    turns = [t for t in session.turns() if t.finished]
    state = f"resumed, {len(turns)} turn{'s' * (len(turns) != 1)}" if session.resumed else "new"
    io.say(f"[bold]agentvlm chat[/] · graph {session.config.graph} · {session.label} ({state}) · /help for commands")
    for t in turns[-3:]:
        io.say(f"  [dim]{t.n}. {t.question} → {t.answer}[/]")
    if session.images:
        io.say("images: " + ", ".join(f"{i + 1}. {os.path.basename(r.path)}" for i, r in enumerate(session.images)))
    else:
        io.say("no image yet: add one with /image PATH")


# -- the two loops -----------------------------------------------------------------------


def _questions(session: Any, io: _Out, lines: Iterable[str]) -> Iterator[str]:
    """The questions among ``lines``, stripped: blank lines skipped, slash commands run, up to /quit."""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("/"):
            if _command(session, io, line) == "quit":
                return
            continue
        yield line


def _piped(session: Any, io: _Out) -> None:
    import queue

    for line in _questions(session, io, sys.stdin):
        events: queue.Queue[Any] = queue.Queue()
        try:
            session.start(line, events.put, progress=False)
        except AgentVLMError as exc:
            io.say(f"[red]error:[/] {exc}")
            continue
        answer = None
        while (item := events.get()) is not None:
            if isinstance(item, BaseException):
                io.say(f"[red]error:[/] {item}")
            elif item.answer is not None:
                answer = item.answer
        if answer is not None:
            session.finish(answer)
            io.out(" ".join(answer.text.split()) or "(no answer)")
            if answer.decided_by:
                io.say(f"[dim]decided by {answer.decided_by}[/]")
            for warning in session.pop_warnings():
                io.say(f"[yellow]warning:[/] {warning}")


def _interactive(session: Any, io: _Out) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from agentvlm.cli.chat_live import ChatCompleter, answer_live
    from agentvlm.errors import StorageError
    from agentvlm.paths import write_private
    from agentvlm.sessions import data_home

    history_file = data_home() / "chat_history"
    history: Any = InMemoryHistory()
    try:
        if not history_file.exists():
            write_private(history_file, b"")
        history = FileHistory(str(history_file))
    except (StorageError, OSError) as exc:
        io.say(f"[yellow]warning:[/] input history not kept: {exc}")
    prompt: PromptSession[str] = PromptSession(
        history=history,
        completer=ChatCompleter(list(COMMAND_HELP)),
        complete_while_typing=False,
    )

    def typed() -> Iterator[str]:
        while True:
            try:
                yield prompt.prompt("agentvlm> ")
            except (KeyboardInterrupt, EOFError):
                return

    for line in _questions(session, io, typed()):
        try:
            answer_live(session, io.console, line)
        except AgentVLMError as exc:
            io.say(f"[red]error:[/] {exc}")
    if session.worker is not None and session.worker.is_alive():
        io.say("[dim]waiting for the cancelled answer's running step to end…[/]")
    if session.name:
        io.say(f"[dim]saved; resume with: agentvlm chat --session {session.name}[/]")


# -- slash commands ----------------------------------------------------------------------


def _command(session: Any, io: _Out, line: str) -> str | None:
    name, _, rest = line.partition(" ")
    handlers: dict[str, Callable[[Any, _Out, str], str | None]] = {
        "/image": _image,
        "/images": _images,
        "/graph": _graph,
        "/trace": _trace,
        "/show": _show,
        "/save": _save,
        "/reset": _reset,
        "/help": lambda s, o, r: o.out("\n".join(COMMAND_HELP.values())),
        "/quit": lambda s, o, r: "quit",
        "/exit": lambda s, o, r: "quit",
    }
    handler = handlers.get(name)
    if handler is None:
        io.say(f"[red]error:[/] unknown command {name!r}; commands: {', '.join(COMMAND_HELP)}")
        return None
    try:
        return handler(session, io, rest.strip())
    except AgentVLMError as exc:
        io.say(f"[red]error:[/] {exc}")
        return None


def _image(session: Any, io: _Out, rest: str) -> None:
    ref, added = session.add_image(rest)
    k = [r.sha256 for r in session.images].index(ref.sha256) + 1
    name = os.path.basename(ref.path)
    io.say(f"image {k}: {name} ({ref.width}x{ref.height})" if added else f"{name} is already image {k}")


def _images(session: Any, io: _Out, rest: str) -> None:
    if not session.images:
        io.out("no images yet: /image PATH")
    for i, r in enumerate(session.images, start=1):
        io.out(f"{i}. {r.path} ({r.width}x{r.height}, {r.short_hash})")


def _graph(session: Any, io: _Out, rest: str) -> None:
    if not rest:
        io.out(f"graph: {session.config.graph}")
        return
    session.set_graph(rest)
    io.say(f"graph: {session.config.graph} (next answers use it)")


def _trace(session: Any, io: _Out, rest: str) -> None:
    answer = session.last
    if answer is None:
        io.out("no answer yet in this conversation")
        return
    decided = f", decided by {answer.decided_by}" if answer.decided_by else ""
    io.out(f"Q: {answer.question}\nA: {answer.text}   ({answer.seconds:.2f}s, graph {answer.graph}{decided})")
    for part in answer.parts:
        io.out(f"  part {part.n}: {part.question} -> {part.text} ({part.form}, decided by {part.basis or '?'})")
    for step in answer.steps:
        calls = ", ".join(f"{c.name}{' (cached)' if c.cached else ''} {c.seconds:.2f}s" for c in step.calls)
        io.out(f"  {step.node:<18} {step.seconds:7.2f}s  {calls}" + (f"  [{step.note}]" if step.note else ""))
    for e in answer.evidence:
        box = "[" + ", ".join(f"{v:.2f}" for v in e.box.xyxyn) + "]" if e.box else ""
        score = f" {e.score:.2f}" if e.score is not None else ""
        io.out(f"  {e.id:<8} {e.tool:<10} {e.text or e.label or e.kind} {box}{score}")
    if session.last_files is not None:
        io.out(f"  trace: {session.last_files.json_path}")


def _show(session: Any, io: _Out, rest: str) -> None:
    files = session.last_files
    if files is None or not files.images:
        io.out("no annotated image yet: ask a question first")
        return
    for path in files.images:
        io.out(str(path))
    opener = _viewer()
    if opener is None:
        io.say("[dim](no display here: open the file above in an image viewer)[/]")
        return
    for path in files.images:
        subprocess.Popen([*opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _viewer() -> list[str] | None:
    """The system's image opener, only where a display exists."""
    if sys.platform == "darwin":
        return ["open"]
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        found = shutil.which("xdg-open")
        return [found] if found else None
    return None


def _save(session: Any, io: _Out, rest: str) -> None:
    if not rest:
        if session.name is None:
            raise InputError("give the session a name: /save NAME")
        io.say(f"every finished turn is already saved in session {session.name} ({session.folder})")
        return
    dest = session.save_as(rest)
    io.say(f"saved as session {rest} ({dest}); resume with: agentvlm chat --session {rest}")


def _reset(session: Any, io: _Out, rest: str) -> None:
    session.reset()
    io.say("conversation reset: the next question starts afresh (images kept)")
