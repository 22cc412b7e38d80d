"""Graph definitions as YAML: parsed into a ``GraphSpec``, validated before any model loads.

    name: prism
    nodes:
      plan: {type: plan, params: {planner: llm}}
      ...
    entry: plan
    edges:
      - {from: plan, router: fan_out_tools, to: [perceive, segment]}
      - {from: perceive, to: segment}
    finish: answer

Node types and routers are names from the registries in ``agentvlm.graph.nodes``;
YAML never imports or runs code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentvlm.errors import ConfigError
from agentvlm.resources import PACKAGE_DIR

__all__ = [
    "BUILTIN_GRAPHS_DIR",
    "MODEL_ROLES",
    "Budgets",
    "EdgeSpec",
    "GraphSpec",
    "NodeSpec",
    "builtin_graphs",
    "line_of",
    "load_graph_spec",
]

BUILTIN_GRAPHS_DIR = PACKAGE_DIR / "graphs"


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class EdgeSpec(BaseModel):
    """A plain edge (``to`` is one node) or a conditional one: ``router`` returns a node
    name from the list ``to``, or a key of the mapping ``to`` (``{finish: verbalize}``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    to: str | list[str] | dict[str, str]
    router: str | None = None


MODEL_ROLES = ("llm", "vlm")


class Budgets(BaseModel):
    """Hard caps enforced at run time; a loop must have at least one."""

    model_config = ConfigDict(extra="forbid")

    rounds: int | None = Field(default=None, ge=1)
    seconds: float | None = Field(default=None, gt=0)
    model_calls: int | None = Field(default=None, ge=1)

    def any(self) -> bool:
        return any(v is not None for v in (self.rounds, self.seconds, self.model_calls))


class GraphSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    models: dict[str, str] = Field(default_factory=dict, description="Model role -> spec defaults: llm, vlm")
    budgets: Budgets = Field(default_factory=Budgets)
    nodes: dict[str, NodeSpec]
    entry: str
    edges: list[EdgeSpec] = Field(default_factory=list)
    finish: str


def builtin_graphs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BUILTIN_GRAPHS_DIR.glob("*.yaml"))}


def load_graph_spec(name_or_path: str | os.PathLike[str]) -> tuple[GraphSpec, str]:
    """Parse a built-in graph name or a YAML file; returns the spec and where it came from.

    Errors name the file, the line and the offending key, and list valid choices.
    """
    import yaml

    builtins = builtin_graphs()
    key = str(name_or_path)
    if key in builtins:
        path = builtins[key]
    else:
        path = Path(key)
        if not path.exists():
            raise ConfigError(
                f"unknown graph '{key}': not a built-in graph and no such file; built-in graphs: {', '.join(builtins)}"
            )
    source = str(path)
    if not path.is_file():
        raise ConfigError(f"graph {key} is not a file (a folder or a device); pass a graph YAML file or a built-in name: {', '.join(builtins)}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the graph file {source} ({type(exc).__name__}); pass a UTF-8 YAML file") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"YAML syntax error at {where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a YAML mapping with keys name, nodes, entry, edges, finish")
    try:
        spec = GraphSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        line = _line_of(root, loc)
        dotted = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"unknown key '{loc[-1]}' at {source}:{line} ({dotted})") from None
        if err["type"] == "missing":
            raise ConfigError(f"missing key '{dotted}' in {source}:{line}") from None
        raise ConfigError(f"invalid '{dotted}' at {source}:{line}: {err['msg']}") from None
    return spec, source


def line_of(name_or_path: str, loc: list[str | int]) -> int:
    """The 1-based line of a key path in a graph file (for errors found after parsing)."""
    import yaml

    path = builtin_graphs().get(name_or_path, Path(name_or_path))
    return _line_of(yaml.compose(path.read_text()), loc)


def _line_of(node: Any, loc: list[Any]) -> int:
    """Walk the composed YAML tree along ``loc`` as far as it goes; the line of the last node found."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == part or (part == "source" and k.value == "from"):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
