"""agentvlm: answer visual questions with tools that see and a language model that reasons.

    >>> from agentvlm import Agent
    >>> Agent().ask("photo.jpg", "What does the sign say?").text  # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from agentvlm._lazy import lazy_getattr
from agentvlm.config import Config, ToolsConfig
from agentvlm.errors import (
    AgentVLMError,
    ConfigError,
    ImageError,
    InputError,
    MissingDependencyError,
    ModelError,
    ModelOutputError,
    StorageError,
    ToolError,
)
from agentvlm.images import ImageLimits, load_image, open_image
from agentvlm.types import Answer, Box, Call, Evidence, ImageRef, Source, Step

if TYPE_CHECKING:
    from agentvlm.agent import Agent, Event

__version__ = "0.1.0"

# ``Agent`` pulls in LangGraph (~0.4 s); load it on first use so `agentvlm --help` starts fast.
_LAZY = {"Agent": "agentvlm.agent", "Event": "agentvlm.agent"}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

__all__ = [
    "Agent",
    "AgentVLMError",
    "Answer",
    "Box",
    "Call",
    "Config",
    "ConfigError",
    "Event",
    "Evidence",
    "ImageError",
    "ImageLimits",
    "ImageRef",
    "InputError",
    "MissingDependencyError",
    "ModelError",
    "ModelOutputError",
    "Source",
    "Step",
    "StorageError",
    "ToolError",
    "ToolsConfig",
    "__version__",
    "load_image",
    "open_image",
]
