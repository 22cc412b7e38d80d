"""Optional extras in tests: a test marked with an extra's name skips, naming the extra, when it is not installed.

CI installs every extra (``.ci/run``), so there nothing skips.
"""

from __future__ import annotations

import pytest

__all__ = ["EXTRAS", "missing_extra", "require_extra"]

# The modules each optional extra brings; a test marked with the extra's name skips, naming it, when one is missing.
EXTRAS: dict[str, tuple[str, ...]] = {
    "retrieval": ("trafilatura", "ddgs"),
    "server": ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"),
    "ultralytics": ("ultralytics",),
    "sam": ("segment_anything", "torch"),
}


def missing_extra(extra: str) -> str | None:
    """Why tests of ``extra`` cannot run here (a module it installs is missing), or ``None``."""
    import importlib.util

    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"needs the [{extra}] extra ({module} is not installed): pip install 'agentvlm[{extra}]'"
    return None


def require_extra(extra: str) -> None:
    """Skip the calling test or fixture unless ``extra`` is installed."""
    why = missing_extra(extra)
    if why:
        pytest.skip(why)
