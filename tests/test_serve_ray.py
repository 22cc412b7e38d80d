"""`agentvlm serve --ray`: the HTTP app as a Ray Serve deployment with two replicas on a local Ray cluster.

Heavy (a Ray cluster and two sets of models): one test, marked slow, with a generous timeout.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

pytest.importorskip("ray.serve", reason="agentvlm serve --ray needs pip install 'agentvlm[ray-serve]'")
openai = pytest.importorskip("openai", reason="the serve tests need the openai client: pip install 'agentvlm[dev]'")
import httpx

from tests.servers import agentvlm_process, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_two_replicas_answer_and_share_their_annotated_images(examples_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    photo = examples_dir / "street_scene_pedestrians.jpg"
    uri = "data:image/jpeg;base64," + base64.b64encode(photo.read_bytes()).decode()
    messages = [{"role": "user", "content": [{"type": "text", "text": "How many people are in this picture?"},
                                             {"type": "image_url", "image_url": {"url": uri}}]}]
    with agentvlm_process(["serve", "--ray", "--replicas", "2", "--port", str(port)], f"{base}/healthz", timeout=400, status=200,
                          env={"RAY_USAGE_STATS_ENABLED": "0"}):
        instances = {httpx.get(f"{base}/healthz", timeout=30).json()["instance"] for _ in range(30)}
        assert len(instances) == 2  # two replicas, each its own process with its own models

        client = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=600)
        replies: list[object] = []
        threads = [threading.Thread(target=lambda: replies.append(client.chat.completions.create(model="agentvlm", messages=messages)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert len(replies) == 2
        for reply in replies:
            text = reply.choices[0].message.content  # type: ignore[attr-defined]
            extra = reply.model_extra["agentvlm"]  # type: ignore[attr-defined]
            assert text.isdigit() and int(text) == len([e for e in extra["answer"]["evidence"] if e["label"] == "person"])
            for _ in range(6):  # whichever replica takes the request, the image is there
                r = httpx.get(base + extra["annotated_images"][0], timeout=60)
                assert r.status_code == 200 and r.headers["content-type"] == "image/png"
