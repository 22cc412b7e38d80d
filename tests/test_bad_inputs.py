"""Our own bad-input suite: every case ends in time with exit code 2 and one line naming the problem, or a sane result.

CLI cases run as subprocesses, all at once in a small pool, and most fail before any
model loads; Python API and chat cases share one agent. Inputs are real files, FIFOs,
devices and loopback servers, never mocks.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent, Config
from agentvlm.errors import AgentVLMError, ConfigError, ImageError, InputError
from agentvlm.images import ImageLimits, open_image
from tests.servers import FileServer, RecordingServer, closed_port

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[1]
LIMIT_S = 60.0


def _png(path: Path, width: int, height: int, data: bytes = b"\x00") -> Path:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, zidane_jpg: Path, bus_jpg: Path) -> Iterator[dict[str, Any]]:
    """Every bad input on disk and on loopback servers, shared by all cases."""
    from PIL import Image

    d = tmp_path_factory.mktemp("bad")
    (d / "notes.jpg").write_text("meeting notes, not a photo\n")
    (d / "truncated.jpg").write_bytes(zidane_jpg.read_bytes()[:20_000])
    (d / "empty.jpg").write_bytes(b"")
    Image.open(zidane_jpg).convert("RGB").resize((64, 40)).save(d / "photo.ppm")
    _png(d / "bomb.png", 100_000, 100_000)
    _png(d / "lying.png", 4000, 3000, b"\x00" * 10)  # a header that claims far more pixels than it carries
    os.mkfifo(d / "fifo.jpg")
    (d / "loop.jpg").symlink_to(d / "loop.jpg")
    (d / "config.yaml").write_text("llm: llamacpp:smollm2\nllmm: typo\n")
    (d / "broken.yaml").write_text("llm: [unclosed\n")
    (d / "list.yaml").write_text("- llm\n- vlm\n")
    (d / "pixels.yaml").write_text("max_pixels: lots\n")
    (d / "negative.yaml").write_text("max_pixels: -5\n")
    (d / "graph_syntax.yaml").write_text("name: g\nnodes: {plan: {type: plan}\n")
    (d / "graph_type.yaml").write_text("name: g\nnodes:\n  plan: {type: plann}\nentry: plan\nfinish: plan\n")
    (d / "graph_entry.yaml").write_text(
        "name: g\nnodes:\n  perceive: {type: perceive}\n  answer: {type: answer}\nentry: perceive\n"
        "edges:\n  - {from: perceive, to: answer}\nfinish: answer\n"
    )
    (d / "graph_list.yaml").write_text("- plan\n")
    data = d / "data"
    data.mkdir()
    (data / "z.jpg").write_bytes(zidane_jpg.read_bytes())
    good = '{"id": "q1", "image": "z.jpg", "question": "How many people?", "answer": "2"}'
    for name, text in {
        "bad_json.jsonl": good + "\n{not json\n",
        "no_image.jsonl": '{"id": "q1", "image": "missing.jpg", "question": "How many?", "answer": "2"}\n',
        "not_object.jsonl": "[1, 2]\n",
        "duplicate.jsonl": good + "\n" + good + "\n",
        "bad_letter.jsonl": '{"id": "q1", "image": "z.jpg", "question": "Which?", "choices": ["a", "b"], "answer": "Z", "answer_type": "multiple_choice_letter"}\n',
        "empty.jsonl": "\n\n",
    }.items():
        (data / name).write_text(text)
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)  # accepts connections (in the backlog) and never answers
    with FileServer(drip=1.0) as files, RecordingServer() as garbage:
        files.routes["/photo.jpg"] = (200, bus_jpg.read_bytes(), "image/jpeg")
        files.routes["/page.html"] = (200, b"<html>hi</html>", "text/html")
        files.routes["/big.jpg"] = (200, b"\xff" * 300_000, "image/jpeg")
        files.routes["/gone.jpg"] = (404, b"no", "text/plain")
        files.redirects["/to-private"] = "http://192.168.1.1/photo.jpg"
        garbage.reply = (200, b"<html>definitely not JSON</html>", "text/html")
        yield {"d": d, "data": data, "z": zidane_jpg, "bus": bus_jpg, "files": files, "garbage": garbage,
               "hang": hang.getsockname()[1], "closed": closed_port()}  # fmt: skip
    hang.close()


Argv = Callable[[dict[str, Any]], list[str]]


def _allow(e: dict[str, Any]) -> list[str]:
    return ["--allow-host", f"127.0.0.1:{e['files'].port}"]


def _url(e: dict[str, Any], path: str) -> str:
    return f"{e['files'].base_url}{path}"


# (case, argv, message in the one stderr line). All exit 2.
CLI: list[tuple[str, Argv, str]] = [
    # images
    ("image missing", lambda e: ["ask", "/no/such/photo.jpg", "What?"], "image not found: /no/such/photo.jpg"),
    ("image is a folder", lambda e: ["ask", str(e["d"]), "What?"], "is a folder, not an image"),
    ("image empty", lambda e: ["ask", str(e["d"] / "empty.jpg"), "What?"], "image file is empty"),
    ("image not an image", lambda e: ["ask", str(e["d"] / "notes.jpg"), "What?"], "is not an image agentvlm can read"),
    ("image truncated", lambda e: ["ask", str(e["d"] / "truncated.jpg"), "What?"], "truncated or corrupt"),
    ("image bomb", lambda e: ["ask", str(e["d"] / "bomb.png"), "What?"], "decompression bomb"),
    ("image lying header", lambda e: ["ask", str(e["d"] / "lying.png"), "What?"], "truncated or corrupt"),
    ("image FIFO", lambda e: ["ask", str(e["d"] / "fifo.jpg"), "What?"], "is a FIFO (named pipe), not a regular file"),
    ("image /dev/zero", lambda e: ["ask", "/dev/zero", "What?"], "/dev/zero is a character device"),
    ("image /dev/null", lambda e: ["ask", "/dev/null", "What?"], "/dev/null is a character device"),
    ("image symlink loop", lambda e: ["ask", str(e["d"] / "loop.jpg"), "What?"], "symbolic link loop"),
    ("image unsupported format", lambda e: ["ask", str(e["d"] / "photo.ppm"), "What?"], "is a PPM image, which is not supported"),
    ("image over the byte cap", lambda e: ["ask", "--max-image-bytes", "1000", str(e["z"]), "What?"], "over the limit of 1,000"),
    ("image over the pixel cap", lambda e: ["ask", "--max-pixels", "1000", str(e["z"]), "What?"], "over the limit of 1,000 (it may be"),
    ("image second one bad", lambda e: ["ask", str(e["z"]), str(e["d"] / "truncated.jpg"), "How many?"], "truncated.jpg is truncated"),
    ("image path too long", lambda e: ["ask", "x" * 5000 + ".jpg", "What?"], "the image path is too long"),
    # URLs and URIs
    ("url file scheme", lambda e: ["ask", "file:///etc/passwd", "What?"], "file: URLs are not read"),
    ("url ftp scheme", lambda e: ["ask", "ftp://example.org/a.jpg", "What?"], "ftp: URLs are not read"),
    ("url loopback refused", lambda e: ["ask", _url(e, "/photo.jpg"), "What?"], "resolves to a loopback address 127.0.0.1"),
    ("url private address", lambda e: ["ask", "http://10.1.2.3/photo.jpg", "What?"], "resolves to a private address 10.1.2.3"),
    ("url link-local metadata", lambda e: ["ask", "http://169.254.169.254/latest", "What?"], "link-local address"),
    ("url redirect to private", lambda e: ["ask", *_allow(e), _url(e, "/to-private"), "What?"], "private address 192.168.1.1"),
    ("url wrong content type", lambda e: ["ask", *_allow(e), _url(e, "/page.html"), "What?"], "content type 'text/html'"),
    ("url oversized", lambda e: ["ask", *_allow(e), "--max-image-bytes", "100000", _url(e, "/big.jpg"), "What?"], "over the limit of 100,000"),
    ("url 404", lambda e: ["ask", *_allow(e), _url(e, "/gone.jpg"), "What?"], "answered HTTP 404"),
    ("url unreachable", lambda e: ["ask", "--allow-host", f"127.0.0.1:{e['closed']}", f"http://127.0.0.1:{e['closed']}/a.jpg", "What?"], "could not be fetched"),
    ("url unresolvable host", lambda e: ["ask", "http://no-such-host.invalid/a.jpg", "What?"], "could not resolve no-such-host.invalid"),
    ("url bad port", lambda e: ["ask", "http://127.0.0.1:99999/a.jpg", "What?"], "port is not a number"),
    ("data uri not an image", lambda e: ["ask", "data:text/plain;base64,aGk=", "What?"], "holds 'text/plain', not an image"),
    ("data uri bad base64", lambda e: ["ask", "data:image/png;base64,@@@@", "What?"], "base64 is invalid"),
    ("data uri garbage bytes", lambda e: ["ask", "data:image/png;base64," + base64.b64encode(b"not a png").decode(), "What?"], "is not an image"),
    # questions
    ("question empty", lambda e: ["ask", str(e["z"]), ""], "the question is empty"),
    ("question blank", lambda e: ["ask", str(e["z"]), " \t  "], "the question is empty"),
    ("question missing", lambda e: ["ask", str(e["z"])], "give one or more images and then the question"),
    ("question 100 kB", lambda e: ["ask", str(e["z"]), "how many people " * 6400], "over the limit of 4,000"),
    ("question control characters only", lambda e: ["ask", str(e["z"]), "\x1b\x07\x08"], "the question is empty"),
    # graphs
    ("graph unknown", lambda e: ["ask", "--graph", "nope", str(e["z"]), "How many?"], "unknown graph 'nope'"),
    ("graph is a folder", lambda e: ["ask", "--graph", str(e["d"]), str(e["z"]), "How many?"], "is not a file"),
    ("graph YAML syntax", lambda e: ["graph", "validate", str(e["d"] / "graph_syntax.yaml")], "YAML syntax error"),
    ("graph unknown node type", lambda e: ["graph", "validate", str(e["d"] / "graph_type.yaml")], "unknown node type 'plann'"),
    ("graph perceive entry", lambda e: ["ask", "--graph", str(e["d"] / "graph_entry.yaml"), str(e["z"]), "How many?"], "runs only as a router's Send task"),
    ("graph not a mapping", lambda e: ["graph", "validate", str(e["d"] / "graph_list.yaml")], "must be a YAML mapping"),
    ("graph show unknown", lambda e: ["graph", "show", "nope"], "unknown graph 'nope'"),
    # configs
    ("config unknown key", lambda e: ["ask", "--config", str(e["d"] / "config.yaml"), str(e["z"]), "How many?"], "unknown config key 'llmm'"),
    ("config broken YAML", lambda e: ["ask", "--config", str(e["d"] / "broken.yaml"), str(e["z"]), "How many?"], "is not valid YAML"),
    ("config missing", lambda e: ["ask", "--config", "/no/config.yaml", str(e["z"]), "How many?"], "config file not found"),
    ("config not a mapping", lambda e: ["ask", "--config", str(e["d"] / "list.yaml"), str(e["z"]), "How many?"], "must be a YAML mapping"),
    ("config wrong type", lambda e: ["ask", "--config", str(e["d"] / "pixels.yaml"), str(e["z"]), "How many?"], "invalid value for 'max_pixels'"),
    ("config negative", lambda e: ["ask", "--config", str(e["d"] / "negative.yaml"), str(e["z"]), "How many?"], "invalid value for 'max_pixels'"),
    # model specs and servers
    ("model spec without backend", lambda e: ["ask", "--llm", "gpt4", str(e["z"]), "How many?"], "has no backend"),
    ("model unknown backend", lambda e: ["ask", "--llm", "foo:bar", str(e["z"]), "How many?"], "unknown model backend 'foo'"),
    ("model GGUF missing", lambda e: ["ask", "--llm", "llamacpp:/no/model.gguf", str(e["z"]), "How many?"], "GGUF model not found"),
    ("server refuses", lambda e: ["ask", "--graph", "program", "--llm", f"openai:m@http://127.0.0.1:{e['closed']}/v1", str(e["z"]), "Describe it."], "127.0.0.1"),
    ("server hangs", lambda e: ["ask", "--graph", "program", "--llm", f"openai:m@http://127.0.0.1:{e['hang']}/v1", str(e["z"]), "Describe it."], "did not answer within 3s"),
    ("server returns garbage", lambda e: ["ask", "--graph", "program", "--llm", f"openai:m@{e['garbage'].base_url}", str(e["z"]), "Describe it."], "JSON"),
    ("search spec unknown", lambda e: ["ask", "--search", "foo:bar", str(e["z"]), "How many?"], "invalid search spec 'foo:bar'"),
    # eval datasets
    ("eval dataset missing", lambda e: ["eval", "/no/data.jsonl"], "dataset not found"),
    ("eval bad JSON line", lambda e: ["eval", str(e["data"] / "bad_json.jsonl")], "line 2 is not valid JSON"),
    ("eval image missing", lambda e: ["eval", str(e["data"] / "no_image.jsonl")], "image not found"),
    ("eval line not an object", lambda e: ["eval", str(e["data"] / "not_object.jsonl")], "must be a JSON object"),
    ("eval duplicate id", lambda e: ["eval", str(e["data"] / "duplicate.jsonl")], "duplicate id 'q1'"),
    ("eval bad answer letter", lambda e: ["eval", str(e["data"] / "bad_letter.jsonl")], "must be an option letter"),
    ("eval empty dataset", lambda e: ["eval", str(e["data"] / "empty.jsonl")], "holds no items"),
    # sessions and reports
    ("session show missing", lambda e: ["sessions", "show", "nope"], "no session named 'nope'"),
    ("session delete missing", lambda e: ["sessions", "delete", "nope"], "no session named 'nope'"),
    ("report of a missing session", lambda e: ["report", "nope"], "no session named 'nope'"),
    ("chat bad session name", lambda e: ["chat", "--session", "../etc", str(e["z"])], "bad session name '../etc'"),
    ("chat session name ending in a newline", lambda e: ["chat", "--session", "okname\n", str(e["z"])], "bad session name 'okname\\n'"),
    # servers
    ("serve empty API key", lambda e: ["serve", "--port", str(e["closed"]), "--api-key", ""], "--api-key is empty (an unset variable?)"),
    ("serve blank API key", lambda e: ["serve", "--port", str(e["closed"]), "--api-key", "  "], "--api-key is empty"),
    ("chat image missing", lambda e: ["chat", "/no/such.jpg"], "image not found"),
]


@pytest.fixture(scope="module")
def cli_results(env: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], float]]:
    home = tmp_path_factory.mktemp("home")
    run_env = {**os.environ, "AGENTVLM_HOME": str(home), "AGENTVLM_MODEL_TIMEOUT": "3", "PYTHONPATH": str(REPO)}

    def run(case: tuple[str, Argv, str]) -> tuple[str, tuple[subprocess.CompletedProcess[str], float]]:
        start = time.monotonic()
        out = subprocess.run(check=False, args=[PYTHON, "-m", "agentvlm", *case[1](env)], capture_output=True, text=True,
                             timeout=LIMIT_S * 3, env=run_env, stdin=subprocess.DEVNULL)  # fmt: skip
        return case[0], (out, time.monotonic() - start)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, CLI))


@pytest.mark.slow  # 65 CLI processes: about a minute on 2 cores
@pytest.mark.parametrize(("case", "message"), [(c[0], c[2]) for c in CLI], ids=[c[0] for c in CLI])
def test_cli_bad_input_is_one_line_exit_2_in_time(case: str, message: str, cli_results: dict[str, Any]) -> None:
    out, seconds = cli_results[case]
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("agentvlm: error: ") and message in lines[0], lines[0]
    assert seconds < LIMIT_S


# -- the Python API ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent(Config(cache=False))


API: list[tuple[str, Callable[[Agent, dict[str, Any]], Any], type[Exception], str]] = [
    ("api image missing", lambda a, e: a.ask("/no/such.jpg", "What?"), ImageError, "image not found"),
    ("api no images", lambda a, e: a.ask([], "What?"), InputError, "no image given"),
    ("api question not text", lambda a, e: a.ask(e["z"], None), InputError, "the question must be text"),  # type: ignore[arg-type]
    ("api question 100 kB", lambda a, e: a.ask(e["z"], "x" * 100_000), InputError, "over the limit of 4,000"),
    ("api question control only", lambda a, e: a.ask(e["z"], "\x00\x1b"), InputError, "the question is empty"),
    ("api FIFO", lambda a, e: a.ask(e["d"] / "fifo.jpg", "What?"), ImageError, "is a FIFO"),
    ("api data uri huge", lambda a, e: open_image("data:image/png;base64," + "A" * 200_000, limits=ImageLimits(max_bytes=100_000)), ImageError, "over the limit of 100,000"),
    ("api slow url", lambda a, e: _slow(e), ImageError, "timed out"),
    ("api thread without checkpointer", lambda a, e: a.ask(e["z"], "How many?", thread_id="t"), ConfigError, "needs both Agent(checkpointer=...)"),
    ("api unknown graph", lambda a, e: Agent(graph="nope"), ConfigError, "unknown graph 'nope'"),
    ("api bad config value", lambda a, e: Config.build({"max_image_bytes": 0}), ConfigError, "max_image_bytes"),
    ("api bad allow_hosts", lambda a, e: Config.build({"allow_hosts": "127.0.0.1"}), ConfigError, "allow_hosts"),
]


def _slow(e: dict[str, Any]) -> Any:
    files = e["files"]
    files.routes["/slow.jpg"] = (200, e["bus"].read_bytes()[:400], "image/jpeg")
    files.slow.add("/slow.jpg")
    return open_image(f"{files.base_url}/slow.jpg", limits=ImageLimits(allow_hosts=(f"127.0.0.1:{files.port}",), timeout=5, deadline=1.5))


@pytest.mark.parametrize(("case", "call", "error", "message"), API, ids=[c[0] for c in API])
def test_api_bad_input_raises_one_clear_error_in_time(case: str, call: Any, error: type[Exception], message: str, agent: Agent, env: dict[str, Any]) -> None:
    start = time.monotonic()
    with pytest.raises(error) as err:
        call(agent, env)
    assert isinstance(err.value, AgentVLMError)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert time.monotonic() - start < 10


def test_a_failing_search_backend_is_a_note_not_a_crash(tmp_path: Path) -> None:
    from agentvlm.graph import Recorder, Services
    from agentvlm.retrieval.pipeline import RetrievalOptions, retrieve

    port = closed_port()
    services = Services(Config(search=f"searxng:http://127.0.0.1:{port}", cache_dir=tmp_path))
    start = time.monotonic()
    found = retrieve(services, "Who painted this park?", [], Recorder(), options=RetrievalOptions(queries="rules", embed=False))
    assert found.sources == [] and found.unavailable and "search unavailable" in found.unavailable[0]
    assert time.monotonic() - start < 15


# -- the chat ----------------------------------------------------------------------------------

CHAT = [
    ("chat /image of a device", "/image /dev/zero\n/quit\n", "is a character device"),
    ("chat /image of a FIFO", "/image {fifo}\n/quit\n", "is a FIFO"),
    ("chat /image without a path", "/image\n/quit\n", "give the image's path"),
    ("chat /image of a refused URL", "/image http://127.0.0.1:9/x.jpg\n/quit\n", "loopback address"),
    ("chat unknown command", "/frobnicate\n/quit\n", "/frobnicate"),
    ("chat question before any image", "How many people?\n/quit\n", "no image yet"),
]


@pytest.mark.slow  # a chat process per case
@pytest.mark.parametrize(("case", "stdin", "message"), CHAT, ids=[c[0] for c in CHAT])
def test_chat_reports_bad_input_and_goes_on(case: str, stdin: str, message: str, env: dict[str, Any], tmp_path: Path) -> None:
    run_env = {**os.environ, "AGENTVLM_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    out = subprocess.run(check=False, args=[PYTHON, "-m", "agentvlm", "chat"], input=stdin.format(fifo=env["d"] / "fifo.jpg"),
                         capture_output=True, text=True, timeout=LIMIT_S, env=run_env)  # fmt: skip
    both = " ".join((out.stdout + out.stderr).split())
    assert out.returncode == 0, out.stderr
    assert message in both and "Traceback" not in both
    assert time.monotonic() - start < LIMIT_S


# -- the server -------------------------------------------------------------------------------
# `agentvlm serve` with no key (the default), a small pixel cap, and its temporary folder in
# a folder of the test's: every case below is refused before a model runs, with one message.

_NUL_FORM = (b'--XX\r\nContent-Disposition: form-data; name="image"; filename="a\x00.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
             b'junkjunk\r\n--XX\r\nContent-Disposition: form-data; name="question"\r\n\r\nWhat?\r\n--XX--\r\n')
_FORM = {"X-Requested-With": "test"}


@pytest.fixture(scope="module")
def server(env: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pytest.importorskip("fastapi", reason="agentvlm serve needs pip install 'agentvlm[serve]'")
    from tests.servers import agentvlm_process, free_port

    tmp = tmp_path_factory.mktemp("serve-tmp")
    port = free_port()
    args = ["serve", "--port", str(port), "--max-pixels", "250000", "--max-body-mb", "20", "--allow-host", f"127.0.0.1:{env['files'].port}"]
    with agentvlm_process(args, f"http://127.0.0.1:{port}/healthz", env={"TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}):
        yield {"base": f"http://127.0.0.1:{port}", "port": port, "tmp": tmp}


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _uri(path: Path) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def _raw(body: bytes, kind: str, **headers: str) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": kind, **headers}}


# (case, method, path, request arguments for httpx, status, message). One per bad request; none reaches a model.
SERVE: list[tuple[str, str, str, Callable[[dict[str, Any]], dict[str, Any]], int, str]] = [
    ("cross-site text/plain JSON", "POST", "/v1/ask", lambda e: _raw(b'{"image": "data:image/png;base64,aGk=", "question": "Hi"}', "text/plain"),
     415, "POST /v1/ask takes multipart/form-data (image, question) or application/json, not 'text/plain'"),
    ("cross-site form from another origin", "POST", "/v1/ask",
     lambda e: {"files": {"image": ("a.jpg", b"junk")}, "data": {"question": "Hi"}, "headers": {"Origin": "http://evil.example"}},
     403, "a cross-site request from 'http://evil.example' is refused"),
    ("form post without Origin or custom header", "POST", "/v1/ask", lambda e: {"files": {"image": ("a.jpg", b"junk")}, "data": {"question": "Hi"}},
     403, "a form post needs an 'X-Requested-With' header"),
    ("cross-site JSON with a foreign Origin", "POST", "/v1/chat/completions", lambda e: {"json": {}, "headers": {"Origin": "https://evil.example"}},
     403, "cross-site request from 'https://evil.example'"),
    ("chat completions as text/plain", "POST", "/v1/chat/completions", lambda e: _raw(b"{}", "text/plain"), 415, "takes 'Content-Type: application/json'"),
    ("DNS rebinding Host", "GET", "/healthz", lambda e: {"headers": {"Host": f"rebind.example:{e['port']}"}},
     421, "does not answer to the host 'rebind.example:"),
    ("DNS rebinding Host on a POST", "POST", "/v1/ask", lambda e: {"json": {}, "headers": {"Host": "rebind.example"}}, 421, "--trusted-host rebind.example"),
    ("graph not a string", "POST", "/v1/ask", lambda e: {"json": {"image": _uri(e["z"]), "question": "How many?", "graph": [1]}},
     400, '"graph" must be a graph name'),
    ("choices not strings", "POST", "/v1/ask", lambda e: {"json": {"image": _uri(e["z"]), "question": "Which?", "choices": [{"a": 1}, None]}},
     400, '"choices" must be a list of non-empty strings'),
    ("question not a string", "POST", "/v1/ask", lambda e: {"json": {"image": _uri(e["z"]), "question": {"q": 1}}}, 400, '"question" must be a string'),
    ("100,000 nested brackets to /v1/ask", "POST", "/v1/ask", lambda e: _raw(b"[" * 100_000, "application/json"), 400, "nested too deeply"),
    ("100,000 nested brackets to chat", "POST", "/v1/chat/completions", lambda e: _raw(b"[" * 100_000, "application/json"),
     400, "the request body is not valid JSON"),
    ("chat message of an unknown role", "POST", "/v1/chat/completions", lambda e: {"json": {"messages": [{"role": "robot", "content": "Hi"}]}},
     400, "invalid request: messages.0.role"),
    ("NUL in a multipart filename", "POST", "/v1/ask", lambda e: _raw(_NUL_FORM, "multipart/form-data; boundary=XX", **_FORM),
     400, "the upload 'a\\x00.jpg' is not an image agentvlm can read"),
    ("lone surrogate in the question", "POST", "/v1/ask",
     lambda e: _raw(b'{"image": "%s", "question": "What \\ud800?"}' % _uri(e["z"]).encode(), "application/json"),
     400, "the question is not valid text: '\\ud800' at character 5"),
    ("lone surrogate in a chat question", "POST", "/v1/chat/completions",
     lambda e: _raw(b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "Why \\udfff?"}, '
                    b'{"type": "image_url", "image_url": {"url": "%s"}}]}]}' % _uri(e["z"]).encode(), "application/json"),
     400, "the question is not valid text"),
    ("image over the pixel cap names no server path", "POST", "/v1/ask",
     lambda e: {"files": {"image": ("big.jpg", e["bus"].read_bytes())}, "data": {"question": "What?"}, "headers": _FORM},
     400, "the upload 'big.jpg' is 810x1080 = 874,800 pixels, over the limit of 250,000"),
    ("image URL on an --allow-host host is fetched", "POST", "/v1/ask",
     lambda e: {"json": {"image": _url(e, "/page.html"), "question": "What?"}}, 400, "content type 'text/html'"),
    ("image URL on another loopback port is refused", "POST", "/v1/ask",
     lambda e: {"json": {"image": f"http://127.0.0.1:{e['closed']}/a.jpg", "question": "What?"}},
     400, "resolves to a loopback address 127.0.0.1 (to fetch from it anyway, allow that host: --allow-host HOST:PORT"),
]


@pytest.mark.slow  # one server process
@pytest.mark.parametrize(("case", "method", "path", "request_args", "status", "message"), SERVE, ids=[c[0] for c in SERVE])
def test_serve_bad_request_is_one_clear_4xx(case: str, method: str, path: str, request_args: Callable[[dict[str, Any]], dict[str, Any]],
                                            status: int, message: str, server: dict[str, Any], env: dict[str, Any]) -> None:
    import httpx

    r = httpx.request(method, f"{server['base']}{path}", timeout=LIMIT_S, **request_args({**env, **server}))
    assert r.status_code == status, r.text[:500]
    text = r.json()["error"]["message"]
    assert message in text and "\n" not in text, text
    assert "agentvlm-serve-" not in r.text and str(server["tmp"]) not in r.text  # no server paths
    assert httpx.get(f"{server['base']}/healthz").json()["status"] == "ok"  # alive
    assert _files(server["tmp"]) == []  # nothing left behind


@pytest.mark.slow
def test_serve_rejected_uploads_leave_no_file(server: dict[str, Any]) -> None:
    import httpx

    junk = os.urandom(3 * 2**20)
    codes = [httpx.post(f"{server['base']}/v1/ask", files={"image": (f"junk{i}.jpg", junk + bytes([i]))}, data={"question": "What?"},
                        headers=_FORM, timeout=LIMIT_S).status_code for i in range(5)]  # fmt: skip
    assert codes == [400] * 5
    assert _files(server["tmp"]) == []


@pytest.mark.slow
def test_serve_health_docs_and_cors_say_nothing_to_strangers(server: dict[str, Any]) -> None:
    import httpx

    assert "pid" not in httpx.get(f"{server['base']}/healthz").json()
    docs = httpx.get(f"{server['base']}/docs")
    assert docs.status_code == 404 and "cdn" not in docs.text
    preflight = httpx.options(f"{server['base']}/v1/ask", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_the_suite_has_at_least_60_cases() -> None:
    assert len(CLI) + len(API) + len(CHAT) + len(SERVE) + 1 >= 60
    assert json.dumps([c[0] for c in CLI])  # names are plain text, for the closing note
