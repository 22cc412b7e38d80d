"""What a ProReason loop can do in one round: run a tool kind, or a package's registered action.

Every registered tool kind is an action (``detect``, ``ocr``, ``segment``, a plugin's
``qr``...); other packages register theirs in ``agentvlm.registry`` (``zoom``,
``ask_vlm``, ``web_search``, ``program``) or through the ``agentvlm.actions`` entry
point, so ``graph/`` never imports them. The dispatcher's prompt and its reply
schema are built from this list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agentvlm import registry
from agentvlm.errors import ConfigError
from agentvlm.graph.services import Recorder, Services
from agentvlm.graph.state import GraphState
from agentvlm.question.vocabulary import label_of, labels_in
from agentvlm.tools import ToolKindSpec, tool_kinds
from agentvlm.types import Evidence

__all__ = ["ANSWER", "Action", "Decision", "FunctionAction", "ToolAction", "actions", "prompts_for"]

ANSWER = "answer"
RETRY_CONFIDENCE = 0.1  # targeted re-detection: only the named classes, so a low threshold is affordable


class Decision(BaseModel):
    """The dispatcher's choice: an action's name and what to look for."""

    action: str
    target: str = Field(default="", max_length=40)


@runtime_checkable
class Action(Protocol):
    """One kind of look. ``run`` returns a state update: ``evidence``, ``actions`` (what was done), maybe ``sources``."""

    @property
    def name(self) -> str: ...

    @property
    def does(self) -> str: ...

    def available(self, services: Services) -> bool: ...

    def run(self, services: Services, state: GraphState, rec: Recorder, decision: Decision, tag: str) -> dict[str, Any]: ...


def prompts_for(spec: ToolKindSpec, evidence: list[Evidence], targets: list[str], *, max_objects: int = 4) -> dict[int, list[Evidence]]:
    """The earlier evidence a prompted kind takes, per image: the question's objects (else every
    object), most confident first, at most ``max_objects`` each."""
    if spec.prompted_by is None:
        return {}
    prefix = tool_kinds()[spec.prompted_by].prefix
    earlier = [e for e in evidence if e.box is not None and e.id.split(".")[-1].startswith(prefix)]
    named = [e for e in earlier if label_of(e) in targets] or earlier
    out: dict[int, list[Evidence]] = {}
    for ev in sorted(named, key=lambda e: -(e.score or 0)):
        if len(out.setdefault(ev.image, [])) < max_objects:
            out[ev.image].append(ev)
    return out


@dataclass(frozen=True)
class ToolAction:
    """Run a tool kind once; ``detect`` with a target is a targeted re-detection of those classes."""

    spec: ToolKindSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def does(self) -> str:
        return self.spec.does

    def available(self, services: Services) -> bool:
        return True

    def run(self, services: Services, state: GraphState, rec: Recorder, decision: Decision, tag: str) -> dict[str, Any]:
        images = state["images"]
        if self.name == "detect" and decision.target:
            wanted = set(labels_in(decision.target))
            looked = services.run_tool("detect", images, rec, params={"confidence": RETRY_CONFIDENCE}, tag=tag)
            return {"evidence": [e for e in looked if label_of(e) in wanted], "actions": ["detect:retry"]}
        if self.spec.prompted_by is not None:
            prompts = prompts_for(self.spec, state.get("evidence", []), state["plan"].targets)
            if not prompts:
                rec.note(f"nothing to {self.name}: no {self.spec.prompted_by} evidence to start from")
                return {"evidence": [], "actions": [self.name]}
            return {"evidence": services.run_tool(self.name, images, rec, prompts=prompts, tag=tag), "actions": [self.name]}
        return {"evidence": services.run_tool(self.name, images, rec, tag=tag), "actions": [self.name]}


RunFn = Callable[[Services, GraphState, Recorder, Decision, str], dict[str, Any]]


def _always(services: Services) -> bool:
    return True


@dataclass(frozen=True)
class FunctionAction:
    """An action made of a function: what a package registers (``ZOOM_ACTION = FunctionAction(...)``)."""

    name: str
    does: str
    run_fn: RunFn
    available_fn: Callable[[Services], bool] = _always

    def available(self, services: Services) -> bool:
        return self.available_fn(services)

    def run(self, services: Services, state: GraphState, rec: Recorder, decision: Decision, tag: str) -> dict[str, Any]:
        return self.run_fn(services, state, rec, decision, tag)


def actions(services: Services) -> dict[str, Action]:
    """The actions available with these services, tool kinds first, ``answer`` not included."""
    out: dict[str, Action] = {name: ToolAction(spec) for name, spec in tool_kinds().items()}
    for name in registry.known("actions"):
        action = registry.load("actions", name)
        if not isinstance(action, Action):
            raise ConfigError(f"action '{name}' is registered as {registry.known('actions')[name]}, which has no name, does, available and run")
        if name not in out and action.available(services):
            out[name] = action
    return out
