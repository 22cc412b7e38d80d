"""Prompt templates, kept as YAML package data and rendered with Jinja's StrictUndefined.

A missing variable fails loudly instead of reaching a model as an empty string.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from agentvlm.errors import ConfigError
from agentvlm.resources import PACKAGE_DIR

__all__ = ["render"]

PROMPTS_DIR = PACKAGE_DIR / "prompts"


@cache
def _load(name: str) -> dict[str, Any]:
    import jinja2
    import yaml

    path = PROMPTS_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.yaml")))
        raise ConfigError(f"unknown prompt '{name}'; known prompts: {known}")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    raw = yaml.safe_load(path.read_text())
    return {part: env.from_string(text) for part, text in raw.items()}


def render(name: str, **variables: Any) -> dict[str, str]:
    """Render every part (``system``, ``user``...) of prompt ``name`` with ``variables``."""
    return {part: template.render(**variables).strip() for part, template in _load(name).items()}
