"""Module attributes imported on first use, so a package's ``import`` stays light."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, table: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``name`` from ``table[name]`` on first access.

    The value is stored in ``namespace`` (the module's ``globals()``), so later
    lookups never come back here.

    Example:
        >>> __getattr__ = lazy_getattr("pkg", {"dumps": "json"}, globals())
        >>> __getattr__("dumps").__name__
        'dumps'
    """

    def __getattr__(name: str) -> Any:
        if name in table:
            from importlib import import_module

            value = getattr(import_module(table[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module '{package}' has no attribute '{name}'")

    return __getattr__
