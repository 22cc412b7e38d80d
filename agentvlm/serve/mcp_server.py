"""``agentvlm mcp``: the agent as MCP tools, on the official MCP SDK (stdio or streamable HTTP).

Tools: ``ask_image`` (answer a question; text plus the annotated image), ``describe_image``
(the verbalized evidence the reasoning model reads, plus the annotated image) and
``list_graphs``. Images are data URIs, or paths on this machine when ``allow_paths``
(the default over stdio, where the client is the user's own program).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ImageContent, TextContent

from agentvlm.config import Config
from agentvlm.errors import AgentVLMError, InputError
from agentvlm.serve.runner import Runner, annotated_png
from agentvlm.serve.settings import ServeSettings
from agentvlm.types import Answer, ImageRef

__all__ = ["build_server"]

Content = list[TextContent | ImageContent]
_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])

_INSTRUCTIONS = (
    "agentvlm answers questions about images with perception tools (object detector, OCR, segmentation) "
    "and a small reasoning model. Pass an image as a local file path or a data:image/...;base64 URI."
)


def build_server(config: Config | None = None, *, allow_paths: bool = True, settings: ServeSettings | None = None,
                 runner: Runner | None = None) -> MCPServer:
    """An MCP server whose tools call ``Agent`` (one agent per graph, shared models).

    Pass your own ``runner`` to close it (and remove its temporary folder) when the server stops.

    Example:
        >>> build_server(allow_paths=True).run("stdio")  # doctest: +SKIP
    """
    settings = settings or (runner.settings if runner is not None else ServeSettings(config=config or Config()))
    runner = runner or Runner(settings)
    server: MCPServer = MCPServer("agentvlm", instructions=_INSTRUCTIONS)

    async def refs(image: str, folder: Path) -> list[ImageRef]:
        from agentvlm.images import load_image
        from agentvlm.serve.inputs import image_ref

        def load() -> ImageRef:
            source = image.strip()
            if source.lower().startswith(("data:", "http://", "https://")):
                limits = settings.config.image_limits().model_copy(update={"max_bytes": settings.max_image_bytes})
                return image_ref(source, folder, limits=limits)
            if not allow_paths:
                raise InputError("this server does not read files (started with --no-allow-paths or over HTTP); send the image as a data:image/...;base64 URI")
            return load_image(Path(source).expanduser(), max_pixels=settings.config.max_pixels)

        return [await asyncio.to_thread(load)]

    async def run(image: str, question: str, graph: str | None) -> tuple[Answer, ImageContent]:
        name = runner.graph_name(graph)
        with runner.admit(), runner.request_folder() as folder:
            try:
                images = await refs(image, folder)
                answer = await runner.ask(name, images, question)
                picture = await asyncio.to_thread(annotated_png, answer, 0, max_side=1024, jpeg=True)
            except AgentVLMError as exc:
                raise ToolError(runner.scrub(str(exc))) from None
        return answer, Image(data=picture, format="jpeg").to_image_content()

    @server.tool(structured_output=False)
    @_tool_errors
    async def ask_image(image: str, question: str, graph: str | None = None) -> Content:
        """Answer a question about an image. Returns the answer, the evidence it rests on, and the
        image annotated with what the tools found.

        Args:
            image: A file path on the server's machine, or a data:image/...;base64 URI.
            question: The question, e.g. "How many people are in this picture?".
            graph: A graph from list_graphs (default: the server's default graph).
        """
        answer, picture = await run(image, question, graph)
        return [TextContent(type="text", text=_summary(answer)), picture]

    @server.tool(structured_output=False)
    @_tool_errors
    async def describe_image(image: str, graph: str | None = "moai") -> Content:
        """Everything the perception tools see in an image (objects with positions, text read, masks),
        as the compact text the reasoning model reads, plus the annotated image.

        Args:
            image: A file path on the server's machine, or a data:image/...;base64 URI.
            graph: A graph from list_graphs (default moai: every tool runs).
        """
        from agentvlm.evidence.verbalize import verbalize

        answer, picture = await run(image, "Describe the image.", graph)
        text = verbalize(answer.evidence, question=answer.question, budget_tokens=settings.config.evidence_budget * 2,
                         image_count=len(answer.images)).text
        return [TextContent(type="text", text=text or "The tools found nothing in this image."), picture]

    @server.tool()
    async def list_graphs() -> str:
        """The graphs ask_image can run, one per line with what it does; the default is marked."""
        descriptions = await asyncio.to_thread(runner.descriptions)
        return "\n".join(f"{name}{' (default)' if name == runner.default_graph else ''}: {text}" for name, text in descriptions.items())

    return server


def _tool_errors(fn: _F) -> _F:
    """A user's mistake (a missing file, an unknown graph) reaches the client as its message."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except AgentVLMError as exc:
            raise ToolError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _summary(answer: Answer) -> str:
    lines = [f"Answer: {answer.text}", f"Graph: {answer.graph}, {answer.seconds:.1f} s, {answer.model_calls} model calls"]
    if answer.evidence:
        lines.append("Evidence:")
    for ev in answer.evidence[:30]:
        box = f" at [{', '.join(f'{v:.2f}' for v in ev.box.xyxyn)}]" if ev.box else ""
        what = ev.label or ev.kind
        text = f" {ev.text!r}" if ev.text else ""
        score = f" {ev.score:.2f}" if ev.score is not None else ""
        lines.append(f"- {ev.id} {ev.tool} {what}{text}{box}{score}")
    if len(answer.evidence) > 30:
        lines.append(f"- ... and {len(answer.evidence) - 30} more")
    return "\n".join(lines)

