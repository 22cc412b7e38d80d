"""Agent configuration: which models, tools and graph, and the limits they run under.

The same keys work in a YAML file (``--config``), in Python (``Config(...)``)
and, for the common ones, on the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agentvlm import registry
from agentvlm.errors import ConfigError
from agentvlm.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ImageLimits
from agentvlm.models.specs import DEFAULT_LLM, parse_spec
from agentvlm.tools.kinds import tool_kinds

__all__ = ["Config", "ToolsConfig", "default_cache_dir"]


def default_cache_dir() -> Path:
    from agentvlm.paths import cache_home

    return cache_home()


class ToolsConfig(BaseModel):
    """Which registered tool fills each tool kind (``detect: ultralytics``), and their options.

    The keys besides ``options`` and ``params`` are the registered tool kinds
    (``agentvlm.tools.kinds``), a plugin's included; a kind not given gets its default tool.
    """

    model_config = ConfigDict(extra="allow")

    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Constructor options per tool name, e.g. {ultralytics: {model: yolo11s.pt}}"
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Default call parameters per tool name, e.g. {darknet: {confidence: 0.25}}"
    )

    @model_validator(mode="after")
    def _registered(self) -> ToolsConfig:
        kinds, known = tool_kinds(), registry.known("tools")
        for kind, name in (self.model_extra or {}).items():
            if kind not in kinds:
                raise ValueError(f"unknown tool kind '{kind}'; tool kinds: {', '.join(kinds)} (and options, params)")
            if not isinstance(name, str) or name not in known:
                raise ValueError(f"unknown tool {name!r}; known tools: {', '.join(sorted(known))} (for {kind})")
        return self

    def __getattr__(self, item: str) -> Any:
        """``tools.detect``: the tool filling a registered kind, configured or default."""
        if not item.startswith("_") and item in tool_kinds():
            return self.chosen(item)
        return super().__getattr__(item)  # type: ignore[misc]

    def chosen(self, kind: str) -> str:
        """The tool name that fills ``kind``: the configured one, else the kind's default."""
        return str((self.model_extra or {}).get(kind) or tool_kinds()[kind].default)


class Config(BaseModel):
    """Everything an ``Agent`` needs to know besides the question.

    Example:
        >>> Config(llm="llamacpp:smollm2", evidence_budget=300).graph
        'auto'
    """

    model_config = ConfigDict(extra="forbid")

    llm: str = DEFAULT_LLM
    vlm: str | None = None
    vlm_timeout: float = Field(default=60.0, gt=0, description="Seconds the graph waits for the VLM before answering from the tools alone")
    graph: str = "auto"
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    max_pixels: int = Field(default=DEFAULT_MAX_PIXELS, gt=0)
    max_image_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="Refuse image files, downloads and data URIs larger than this")
    allow_hosts: list[str] = Field(
        default_factory=list, description="host or host:port that image URLs may reach although private or loopback"
    )
    evidence_budget: int = Field(default=400, ge=50, description="Token budget of the verbalized evidence")
    cache: bool = True
    cache_dir: Path = Field(default_factory=default_cache_dir)
    search: str | None = Field(default=None, description="Search backend: ddgs, searxng:URL or local:PATH (None: ddgs)")

    @field_validator("llm", "vlm")
    @classmethod
    def _spec(cls, spec: str | None) -> str | None:
        return _checked(parse_spec, spec)

    @field_validator("search")
    @classmethod
    def _search_spec(cls, spec: str | None) -> str | None:
        from agentvlm.retrieval.backends import parse_search_spec

        return _checked(parse_search_spec, spec)

    def image_limits(self) -> ImageLimits:
        """The limits ``agentvlm.images.open_image`` applies to this agent's images."""
        return ImageLimits(
            max_pixels=self.max_pixels,
            max_bytes=self.max_image_bytes,
            allow_hosts=tuple(self.allow_hosts),
            store_dir=self.cache_dir / "images",
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Config:
        """Load a YAML config file; errors name the file, the key and the valid keys."""
        import yaml

        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {_yaml_problem(exc)}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{p} must be a YAML mapping of keys such as llm, graph, tools; got {type(data).__name__}")
        return cls.build(data, source=str(p))

    @classmethod
    def build(cls, data: dict[str, Any], *, source: str = "config") -> Config:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, source)) from None


def _checked(parse: Any, spec: str | None) -> str | None:
    """``spec`` when ``parse`` accepts it; its ConfigError becomes the validation error pydantic reports."""
    if spec is not None:
        try:
            parse(spec)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
    return spec


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def _explain(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] = Config
        for part in err["loc"][:-1]:
            field = model.model_fields.get(str(part))
            ann = field.annotation if field else None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
        return f"unknown config key '{loc}' in {source}; valid keys: {', '.join(model.model_fields)}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"invalid value for '{loc}' in {source}: {msg}"
