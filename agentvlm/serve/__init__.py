"""agentvlm where people already work: an OpenAI-compatible HTTP API with a web page
(``agentvlm serve``), an MCP server (``agentvlm mcp``) and LangGraph's own server
(``langgraph.json``).

Nothing here answers questions: every route calls ``Agent`` and serializes its ``Answer``.
FastAPI, uvicorn and the MCP SDK are imported only by the modules that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentvlm.serve.settings import ServeSettings

if TYPE_CHECKING:
    from agentvlm.serve.http import create_app

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from agentvlm.serve.http import create_app

        return create_app
    raise AttributeError(f"module 'agentvlm.serve' has no attribute '{name}'")
