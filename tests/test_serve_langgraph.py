"""`langgraph dev` (langgraph-cli's in-memory server) serving langgraph.json, driven by langgraph-sdk."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("langgraph_sdk", reason="needs pip install 'agentvlm[langgraph-server]'")
pytest.importorskip("langgraph_api", reason="needs pip install 'agentvlm[langgraph-server]' (langgraph-cli[inmem])")
from langgraph_sdk import get_sync_client

from tests.servers import answers, free_port, serving

REPO = Path(__file__).resolve().parents[1]
LANGGRAPH = shutil.which("langgraph") or str(Path(sys.executable).with_name("langgraph"))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_langgraph_json_lists_every_builtin_graph() -> None:
    from agentvlm.graph import builtin_graphs
    from agentvlm.serve import langgraph_app

    graphs = json.loads((REPO / "langgraph.json").read_text())["graphs"]
    assert set(graphs) == set(builtin_graphs()) == set(langgraph_app.GRAPHS)
    for name, target in graphs.items():
        path, attr = target.split(":")
        assert (REPO / path).resolve() == Path(langgraph_app.__file__).resolve() and attr == name


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {"LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false", "LANGGRAPH_NO_ANALYTICS": "1",
           "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    log = (tmp_path_factory.mktemp("langgraph") / "server.log").open("w+")
    url = f"http://127.0.0.1:{port}"
    cmd = [LANGGRAPH, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port), "--config", "langgraph.json"]
    try:
        with serving(cmd, answers(f"{url}/ok"), name="langgraph dev", timeout=180, log=log, env=env, cwd=str(REPO), stop_wait=20):
            yield url
    finally:
        log.close()


def test_a_thread_runs_through_langgraph_sdk(server: str, examples_dir: Path) -> None:
    client = get_sync_client(url=server)
    assistants = {a["graph_id"]: a for a in client.assistants.search(limit=50)}
    assert {"prism", "moai", "proreason"} <= set(assistants)

    drawing = client.assistants.get_graph(assistants["prism"]["assistant_id"], xray=True)  # what Studio draws
    nodes = {n["id"] for n in drawing["nodes"]}
    assert {"load", "agentvlm:plan", "agentvlm:reason", "agentvlm:answer"} <= nodes

    thread = client.threads.create()
    photo = examples_dir / "street_scene_pedestrians.jpg"
    values = client.runs.wait(thread["thread_id"], assistants["prism"]["assistant_id"],
                              input={"image": str(photo), "question": "How many people are in this picture?"})
    assert isinstance(values, dict) and "answer" in values, values
    people = [e for e in values["evidence"] if e["label"] == "person"]
    assert values["answer"].isdigit() and int(values["answer"]) == len(people) >= 3
    assert [s["node"] for s in values["steps"]][-1] == "answer"
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == values["answer"]  # the thread keeps the run's state

    bad = client.runs.wait(client.threads.create()["thread_id"], assistants["prism"]["assistant_id"], input={"image": str(photo)}, raise_error=False)
    assert "needs a question" in json.dumps(bad)
