"""Stopping a run from outside it: the agent holds an event, the models look at it.

``Agent.stream`` runs the graph with its stop event in a context variable, which
LangGraph carries into the threads it runs parallel nodes in. The agent checks the
event between nodes; a model backend checks it before its call and, where the backend
can, during it (llama.cpp: between tokens), and raises ``RunStopped``.

``RunStopped`` derives from ``BaseException``, like ``asyncio.CancelledError``, so a
node's ``except Exception`` (a failing tool becomes a note) does not swallow it; the
agent catches it and ends the run without an answer.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

__all__ = ["STOP", "RunStopped", "raise_if_stopped", "stop_event"]

STOP: ContextVar[threading.Event | None] = ContextVar("agentvlm_stop", default=None)


class RunStopped(BaseException):  # a signal like GeneratorExit, not an error
    """The run's consumer went away; raised inside the run, caught by the agent."""


def stop_event() -> threading.Event | None:
    """The stop event of the run this code is part of, if it runs inside ``Agent.stream``."""
    return STOP.get()


def raise_if_stopped(where: str) -> None:
    """Raise ``RunStopped`` if this run has been asked to stop."""
    event = STOP.get()
    if event is not None and event.is_set():
        raise RunStopped(f"the run was stopped before {where}")
