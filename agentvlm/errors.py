"""Exceptions raised by agentvlm.

Every error a user can cause says what was wrong and what to do about it. The CLI
prints the message on one line and exits with code 2.

    AgentVLMError
    ├── InputError            bad image or question
    │   └── ImageError        missing, unreadable, truncated, too large, unsupported
    ├── ConfigError           unknown key, bad value, malformed YAML, unknown graph
    ├── MissingDependencyError  an optional extra is not installed
    ├── ModelError            a model could not load or be reached
    │   └── ModelOutputError  a model answered, but not in the form asked for
    ├── StorageError          AGENTVLM_HOME or a cache cannot be written (read-only, full)
    └── ToolError             a perception tool failed on an image
"""

from __future__ import annotations

__all__ = [
    "AgentVLMError",
    "ConfigError",
    "ImageError",
    "InputError",
    "MissingDependencyError",
    "ModelError",
    "ModelOutputError",
    "StorageError",
    "ToolError",
]


class AgentVLMError(Exception):
    """Base class of every error agentvlm raises on purpose."""


class InputError(AgentVLMError, ValueError):
    """The image or question handed to the agent cannot be used."""


class ImageError(InputError):
    """An image is missing, unreadable, truncated, too large or in an unsupported format."""


class ConfigError(AgentVLMError, ValueError):
    """A configuration value, model spec or graph definition is invalid."""


class MissingDependencyError(AgentVLMError, ImportError):
    """An optional dependency is needed for what was asked."""

    def __init__(self, package: str, *, extra: str | None = None, purpose: str = "") -> None:
        fix = (
            f"pip install 'agentvlm[{extra}]'" if extra else f"pip install {package}"
        )
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"the package '{package}' is needed{what} but is not installed; run: {fix}")
        self.package = package
        self.extra = extra


class ModelError(AgentVLMError, RuntimeError):
    """A model could not be loaded or reached, or its output was unusable."""


class ModelOutputError(ModelError):
    """A model answered, but not in the form asked for (broken JSON, an impossible value).

    Graph nodes recover from this one (repair, rules, a note in the trace); every
    other ``ModelError`` is a setup problem and reaches the user.
    """


class ToolError(AgentVLMError, RuntimeError):
    """A perception tool could not run."""


class StorageError(AgentVLMError, OSError):
    """A file agentvlm keeps for the user (a session, a trace, a cache entry) cannot be written."""
