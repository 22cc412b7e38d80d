"""The systems an evaluation compares, each answering one task: one or more graphs, and the baselines.

- a graph (kind ``graph``): ``Agent.ask`` with that graph, named after it (``prism``, ``moai``...).
- ``blind``: the reasoning LLM with the first graph's own reason and answer nodes, but empty
  evidence and no image: what the question and options alone are worth to the same model,
  with the same grounded letter choice.
- ``vlm``: the configured perception VLM answers directly (``VisionModel.describe``).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from agentvlm.errors import AgentVLMError, ConfigError
from agentvlm.eval.dataset import EvalItem, rotate

if TYPE_CHECKING:
    from agentvlm.agent import Agent
    from agentvlm.config import Config

__all__ = ["BASELINES", "Outcome", "System", "SystemKind", "Task", "answer_task", "check_baselines", "make_systems"]

SystemKind = Literal["graph", "blind", "vlm"]
BASELINES: tuple[str, ...] = ("blind", "vlm")


@dataclass(frozen=True)
class System:
    """One column of the comparison: its ``name`` in predictions and reports, and the graph its agent runs.

    A baseline borrows the first graph's agent (its models, and for ``blind`` its reason node).
    """

    name: str
    kind: SystemKind = "graph"
    graph: str = "prism"


def make_systems(graphs: list[str], baselines: list[str]) -> list[System]:
    """The graphs (built-in names or YAML files, validated before any model loads), then the baselines.

    Raises:
        ConfigError: An unknown or invalid graph, two graphs of one name, or a graph named like a baseline.
    """
    from agentvlm.graph.spec import load_graph_spec

    if not graphs:
        raise ConfigError("give at least one --graph (a built-in graph name or a graph YAML file)")
    systems: list[System] = []
    for graph in dict.fromkeys(graphs):
        name = load_graph_spec(graph)[0].name
        if name in BASELINES:
            raise ConfigError(f"the graph {graph} is named '{name}' like a baseline; give it another name: in its YAML")
        clash = next((s.graph for s in systems if s.name == name), None)
        if clash is not None:
            raise ConfigError(f"the graphs {clash} and {graph} are both named '{name}'; give each its own name: in its YAML")
        systems.append(System(name, "graph", graph))
    kinds = [cast(SystemKind, b) for b in dict.fromkeys(baselines)]  # checked by check_baselines
    return systems + [System(kind, kind, graphs[0]) for kind in kinds]


@dataclass(frozen=True)
class Task:
    """One question to ask: an item, under one system, with its options rotated ``rotation`` times."""

    item: EvalItem
    system: System = System("prism")
    rotation: int = 0

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.item.key, self.system.name, self.rotation)

    @property
    def choices(self) -> list[str]:
        return rotate(self.item, self.rotation)[0] if self.item.choices else []


@dataclass(frozen=True)
class Outcome:
    prediction: str
    seconds: float
    model_calls: int = 0
    tool_calls: int = 0
    error: str | None = None
    basis: str = ""


def check_baselines(baselines: list[str], config: Config) -> None:
    """Fail before any model loads when a baseline cannot run."""
    for name in baselines:
        if name not in BASELINES:
            raise ConfigError(f"unknown baseline '{name}'; choose from: {', '.join(BASELINES)}")
    if "vlm" in baselines:
        if config.vlm is None:
            raise ConfigError("the vlm baseline needs --vlm SPEC (or vlm: in the config file), e.g. --vlm hf:REPO_OR_DIR")
        if importlib.util.find_spec("agentvlm.models.vlm") is None:
            raise ConfigError("the vlm baseline needs --vlm SPEC and a VLM backend, but agentvlm.models.vlm is not in this install")


def answer_task(agent: Agent, task: Task) -> Outcome:
    """Ask ``task`` of ``agent``; an ``AgentVLMError`` becomes the outcome's ``error``, not a crash."""
    item, choices = task.item, task.choices
    start = time.perf_counter()
    basis = ""  # only a graph's answer says what decided it
    try:
        if task.system.kind == "graph":
            answer = agent.ask(item.images, item.question, choices=choices or None)
            text, model_calls, tool_calls = answer.text, answer.model_calls, answer.tool_calls
            basis = answer.basis
        elif task.system.kind == "blind":
            text, model_calls, tool_calls = _blind(agent, item.question, choices)
        else:
            text, model_calls, tool_calls = _vlm(agent, item, choices)
    except AgentVLMError as exc:
        return Outcome(prediction="", seconds=round(time.perf_counter() - start, 4), error=f"{type(exc).__name__}: {exc}")
    return Outcome(text, round(time.perf_counter() - start, 4), model_calls, tool_calls, basis=basis)


def _blind(agent: Agent, question: str, choices: list[str]) -> tuple[str, int, int]:
    from agentvlm.graph.nodes import make_answer, make_reason, rules_plan
    from agentvlm.graph.services import Recorder

    params: dict[str, Any] = next((n.params for n in agent.spec.nodes.values() if n.type == "reason"), {})
    question = question.strip()
    state: dict[str, Any] = {
        "question": question, "choices": choices, "images": [], "plan": rules_plan(question, choices),
        "evidence": [], "context": "", "steps": [],
    }
    rec = Recorder()
    state.update(make_reason(agent.services, **params)(state, rec))  # type: ignore[arg-type]
    state.update(make_answer(agent.services)(state, rec))  # type: ignore[arg-type]
    return str(state["answer"]), sum(c.kind == "model" for c in rec.calls), 0


def _vlm(agent: Agent, item: EvalItem, choices: list[str]) -> tuple[str, int, int]:
    from agentvlm.images import open_image
    from agentvlm.prompts import render

    vlm = agent.services.vlm
    if vlm is None:
        raise ConfigError("the vlm baseline needs --vlm SPEC")
    refs = [open_image(p, limits=agent.config.image_limits()) for p in item.images]
    prompt = render("eval_direct", question=item.question.strip(), choices=choices)["user"]
    completion = vlm.describe(refs, prompt, max_tokens=64)
    return str(completion.text).strip(), 1, 0
