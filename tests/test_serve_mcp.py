"""`agentvlm mcp` driven by the MCP SDK's own client, over stdio and streamable HTTP.

The stdio server is started from the README's client configuration, exactly as Claude
Desktop or an IDE agent would start it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="agentvlm mcp needs pip install 'agentvlm[mcp]'")
import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.servers import agentvlm_process, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_config() -> dict[str, object]:
    section = README.read_text().split("## Serve", 1)[1]
    block = re.search(r"```json\n(\{.*?\"mcpServers\".*?)```", section, re.DOTALL)
    assert block, "the README's Serve section has an MCP client configuration"
    config: dict[str, object] = json.loads(block.group(1))["mcpServers"]["agentvlm"]
    return config


def texts(result: object) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")  # type: ignore[attr-defined]


def picture_size(result: object) -> tuple[int, int]:
    from PIL import Image

    (picture,) = [c for c in result.content if c.type == "image"]  # type: ignore[attr-defined]
    assert picture.mime_type == "image/jpeg"
    return Image.open(io.BytesIO(base64.b64decode(picture.data))).size


def test_stdio_from_the_readme_config(examples_dir: Path) -> None:
    config = readme_config()
    bin_dir = os.path.dirname(sys.executable)  # where `agentvlm` is installed, as on the user's PATH
    params = StdioServerParameters(command=str(config["command"]), args=list(config["args"]), cwd=str(examples_dir.parent.parent),  # type: ignore[arg-type]
                                   env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    photo = examples_dir / "street_scene_pedestrians.jpg"

    async def session() -> None:
        async with Client(params, read_timeout_seconds=240) as client:
            assert {t.name for t in (await client.list_tools()).tools} == {"ask_image", "describe_image", "list_graphs"}
            graphs = texts(await client.call_tool("list_graphs", {}))
            assert "(default)" in graphs and "moai:" in graphs
            result = await client.call_tool("ask_image", {"image": str(photo), "question": "How many people are in this picture?"})
            assert not result.is_error, texts(result)
            answer = re.search(r"^Answer: (\d+)$", texts(result), re.MULTILINE)
            assert answer and int(answer.group(1)) == texts(result).count(" darknet person at ")
            from PIL import Image

            w, h = Image.open(photo).size
            assert picture_size(result) == (w, h) if max(w, h) <= 1024 else max(picture_size(result)) == 1024
            missing = await client.call_tool("ask_image", {"image": "no/such.jpg", "question": "How many?"})
            assert missing.is_error and "image not found: no/such.jpg" in texts(missing)

    anyio.run(session)


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    port = free_port()
    with agentvlm_process(["mcp", "--transport", "http", "--port", str(port)], f"http://127.0.0.1:{port}/mcp"):
        yield f"http://127.0.0.1:{port}/mcp"


def test_streamable_http_describes_a_data_uri_and_reads_no_files(http_server: str, examples_dir: Path) -> None:
    photo = examples_dir / "sign_no_double_parking.jpg"
    uri = "data:image/jpeg;base64," + base64.b64encode(photo.read_bytes()).decode()

    async def session() -> None:
        async with Client(http_server, read_timeout_seconds=240) as client:
            result = await client.call_tool("describe_image", {"image": uri})
            assert not result.is_error, texts(result)
            said = texts(result).upper()
            assert "TEXT:\n" in said and "DOUBLE / PARKING / PROHIBITED" in said  # the verbalized evidence: what OCR read
            assert picture_size(result)[0] > 0
            refused = await client.call_tool("ask_image", {"image": str(photo), "question": "What does the sign say?"})
            assert refused.is_error and "does not read files" in texts(refused)
            unknown = await client.call_tool("ask_image", {"image": uri, "question": "What?", "graph": "nope"})
            assert unknown.is_error and "unknown model (graph) 'nope'" in texts(unknown)

    anyio.run(session)


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_sigterm_removes_the_temporary_folder(transport: str, tmp_path: Path) -> None:
    """A client stops a stdio server with SIGTERM; the runner closes and its folder of uploads goes."""
    args = ["--transport", "http", "--port", str(free_port())] if transport == "http" else []
    proc = subprocess.Popen([sys.executable, "-m", "agentvlm", "mcp", *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("agentvlm-serve-*")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert list(tmp_path.glob("agentvlm-serve-*")), "the server made its temporary folder"
        time.sleep(1.5)  # serving now
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert list(tmp_path.glob("agentvlm-serve-*")) == []
