"""The systems an evaluation compares, each answering one task: one or more graphs, and the baselines.

- a graph (kind ``graph``): ``Agent.ask`` with that graph, named after it (``prism``, ``moai``...).
- ``blind``: the reasoning LLM with the first graph's own reason and answer nodes, but empty
  evidence and no image: what the question and options alone are worth to the same model,
  with the same grounded letter choice.
- ``vlm``: the configured perception VLM answers directly (``VisionModel.describe``).
- ``novlm``: the first graph with its VLM switched off: the same LLM, tools and caches,
  ``config.vlm`` unset, so what the VLM adds to the graph is the difference of two columns.
  ``--baseline vlm`` brings it along (``with_implied``) whenever a VLM is configured.

Every outcome carries the question's answer ``form`` (the graph's own analysis, else
``agentvlm.question.analyze``), its ``basis`` (what decided it; ``vlm`` for the vlm baseline)
and its ``vlm_calls`` (``Answer.vlm_calls``). A graph's answer to a
question of several parts also carries each part's text (``Answer.parts``), in order, as ``parts``.
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
    from agentvlm.evidence.cache import PerceptionCache

__all__ = [
    "BASELINES", "Outcome", "System", "SystemKind", "Task", "answer_task", "check_baselines",
    "make_systems", "with_implied", "without_vlm",
]

SystemKind = Literal["graph", "blind", "vlm", "novlm"]
BASELINES: tuple[str, ...] = ("blind", "vlm", "novlm")


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
    """One system's answer to one task. ``parts``: the text of each part, in order, where a graph's
    answer has parts (``Answer.parts``); empty for one text (the baselines, graphs without parts)."""

    prediction: str
    seconds: float
    model_calls: int = 0
    tool_calls: int = 0
    error: str | None = None
    basis: str = ""
    form: str = ""
    vlm_calls: int = 0
    parts: tuple[str, ...] = ()


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
    if "novlm" in baselines and config.vlm is None:
        raise ConfigError(
            "the novlm baseline is the first graph with its VLM switched off, so it needs a VLM to switch off: "
            "add --vlm SPEC (or vlm: in the config file), or drop --baseline novlm (the graph alone is that column)"
        )


def with_implied(baselines: list[str], config: Config) -> list[str]:
    """``baselines`` with ``novlm`` right after ``vlm`` when a VLM is configured: the VLM alone
    is read beside the graph without it, so ``--baseline vlm`` brings both columns."""
    out = list(dict.fromkeys(baselines))
    if "vlm" in out and "novlm" not in out and config.vlm is not None:
        out.insert(out.index("vlm") + 1, "novlm")
    return out


def without_vlm(agent: Agent, *, cache: PerceptionCache | None = None) -> Agent:
    """``agent``'s graph on its own LLM, tools and caches with the VLM switched off (nothing loads twice).

    ``cache`` gives it a perception cache of its own, as each eval system has.
    """
    from agentvlm.agent import Agent
    from agentvlm.config import Config

    config = Config.build({**agent.config.model_dump(), "vlm": None}, source="novlm baseline")
    return Agent(services=agent.services.with_config(config, cache=cache))


def answer_task(agent: Agent, task: Task) -> Outcome:
    """Ask ``task`` of ``agent``; an ``AgentVLMError`` becomes the outcome's ``error``, not a crash.

    A ``novlm`` task given an agent with a VLM runs on ``without_vlm(agent)`` (the executors
    hand it the VLM-less agent they keep, so the graph compiles once).
    """
    from agentvlm.question import analyze

    item, choices = task.item, task.choices
    kind = task.system.kind
    if kind == "novlm" and agent.config.vlm is not None:
        agent = without_vlm(agent)
    form: str = analyze(item.question.strip(), choices).form  # rules only: no model runs
    start = time.perf_counter()
    basis, vlm_calls = "", 0  # only a graph's answer says what decided it; the vlm baseline's is the VLM
    parts: tuple[str, ...] = ()
    try:
        if kind in ("graph", "novlm"):
            answer = agent.ask(item.images, item.question, choices=choices or None)
            text, model_calls, tool_calls = answer.text, answer.model_calls, answer.tool_calls
            basis, form, vlm_calls = answer.basis, answer.form or form, answer.vlm_calls
            parts = tuple(p.text for p in sorted(answer.parts, key=lambda p: p.n))
        elif kind == "blind":
            text, model_calls, tool_calls = _blind(agent, item.question, choices)
        else:
            text, model_calls, tool_calls = _vlm(agent, item, choices)
            basis, vlm_calls = "vlm", 1
    except AgentVLMError as exc:
        seconds = round(time.perf_counter() - start, 4)
        return Outcome(prediction="", seconds=seconds, error=f"{type(exc).__name__}: {exc}", form=form, vlm_calls=int(kind == "vlm"))
    return Outcome(text, round(time.perf_counter() - start, 4), model_calls, tool_calls, basis=basis, form=form,
                   vlm_calls=vlm_calls, parts=parts)


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
