"""`agentvlm serve` on loopback, driven by the official `openai` client and plain HTTP.

One server for the module (the real CLI, the embedded SmolLM2 stack), with a key (given with
surrounding spaces, which are trimmed as the incoming key's are), small body and image
limits, one slot and one queue place, so the 429 path is reachable.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

openai = pytest.importorskip("openai", reason="the serve tests need the openai client: pip install 'agentvlm[dev]'")
pytest.importorskip("fastapi", reason="agentvlm serve needs pip install 'agentvlm[serve]'")
import httpx

from tests.servers import agentvlm_process, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "test-key-123"
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    args = ["serve", "--port", str(port), "--api-key", f"  {KEY} ", "--max-concurrency", "1", "--max-queue", "1",
            "--max-body-mb", "1", "--max-image-mb", "0.3"]
    with agentvlm_process(args, f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0, timeout=240)


def data_uri(path: Path) -> str:
    mime = "image/png" if path.suffix == ".png" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def user(text: str, *images: Path) -> dict[str, object]:
    parts: list[dict[str, object]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": data_uri(p)}} for p in images]
    return {"role": "user", "content": parts}


def health(server: str) -> dict[str, object]:
    return httpx.get(f"{server}/healthz", headers={"Authorization": f"Bearer {KEY}"}).json()


def test_health_without_the_key_says_only_ok_and_there_are_no_cdn_docs(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert "pid" not in health(server) and health(server)["auth"] is True
    assert httpx.get(f"{server}/docs").status_code == 404
    assert httpx.get(f"{server}/openapi.json").json()["info"]["title"] == "agentvlm"


def test_models_lists_the_builtin_graphs(client: openai.OpenAI, server: str) -> None:
    ids = [m.id for m in client.models.list()]
    assert {"prism", "moai", "proreason"} <= set(ids)
    assert health(server)["default_graph"] in ids


def test_counts_people_with_evidence_and_an_annotated_image(client: openai.OpenAI, server: str, examples_dir: Path) -> None:
    photo = examples_dir / "street_scene_pedestrians.jpg"
    reply = client.chat.completions.create(model="prism", messages=[user("How many people are in this picture?", photo)])
    text = reply.choices[0].message.content or ""
    extra = reply.model_extra["agentvlm"]
    people = [e for e in extra["answer"]["evidence"] if e["label"] == "person"]
    assert re.fullmatch(r"\d+", text.strip()), text
    assert int(text) == len(people) >= 3  # the count is the detector's, computed in code
    assert [s["node"] for s in extra["answer"]["steps"]][-1] == "answer"
    assert reply.usage is not None  # zero tokens: the count was decided in code, no model was asked

    from PIL import Image

    assert re.fullmatch(r"/v1/answers/\w+/images/0\.png", extra["annotated_images"][0])  # relative: never from the Host header
    png = httpx.get(server + extra["annotated_images"][0], headers={"Authorization": f"Bearer {KEY}"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    drawn = Image.open(io.BytesIO(png.content)).convert("RGB")
    assert drawn.size == Image.open(photo).size
    assert (255, 0, 255) in {drawn.getpixel((x, y)) for x in range(0, drawn.width, 2) for y in range(0, drawn.height, 2)}  # magenta boxes
    assert httpx.get(server + extra["annotated_images"][0]).status_code == 401


def test_streaming_sends_the_steps_then_the_answer(client: openai.OpenAI, examples_dir: Path) -> None:
    chunks = list(client.chat.completions.create(
        model="prism", stream=True, messages=[user("How many people are in this picture?", examples_dir / "street_scene_pedestrians.jpg")]))
    steps = [c.choices[0].delta.model_extra.get("reasoning_content") for c in chunks]
    steps = [s for s in steps if s]
    contents = [i for i, c in enumerate(chunks) if c.choices[0].delta.content]
    assert any(s.startswith("✓ reason") for s in steps) and len(steps) >= 4
    last_step = max(i for i, c in enumerate(chunks) if c.choices[0].delta.model_extra.get("reasoning_content"))
    assert len(contents) == 1 and contents[0] > last_step  # progress first, then the answer
    assert chunks[-1].choices[0].finish_reason == "stop"
    final = chunks[-1].model_extra["agentvlm"]["answer"]
    assert final["text"] == chunks[contents[0]].choices[0].delta.content
    assert [s["node"] for s in final["steps"]] == [c.model_extra["agentvlm"]["step"]["node"] for c in chunks if "step" in (c.model_extra or {}).get("agentvlm", {})]


def test_a_follow_up_asks_about_the_earlier_image_with_the_history(client: openai.OpenAI, examples_dir: Path) -> None:
    first = user("How many people are in this picture?", examples_dir / "street_scene_pedestrians.jpg")
    reply = client.chat.completions.create(model="prism", messages=[first])
    messages = [first, {"role": "assistant", "content": reply.choices[0].message.content}, {"role": "user", "content": "Where are they?"}]
    follow = client.chat.completions.create(model="prism", messages=messages)
    answer = follow.model_extra["agentvlm"]["answer"]
    assert answer["question"] == "Where are they?"
    assert answer["images"][0]["path"].startswith(answer["images"][0]["sha256"][:32])  # the first turn's photo, named without a server path
    notes = " ".join(s["note"] or "" for s in answer["steps"])
    assert "targets carried over from the previous turn: person" in notes  # the history reached the graph
    assert follow.choices[0].message.content


def test_a_wrong_key_is_refused_before_any_model_runs(server: str, examples_dir: Path) -> None:
    answered = health(server)["answered"]
    bad = openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="a wrong API key"):
        bad.chat.completions.create(model="prism", messages=[user("How many people?", examples_dir / "street_scene_pedestrians.jpg")])
    r = httpx.post(f"{server}/v1/chat/completions", json={"model": "prism", "messages": [user("How many people?", examples_dir / "street_scene_pedestrians.jpg")]})
    assert r.status_code == 401 and "no API key" in r.json()["error"]["message"] and r.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{server}/v1/models").status_code == 401
    assert health(server)["answered"] == answered


def test_oversized_bodies_and_images_get_413(client: openai.OpenAI, server: str) -> None:
    huge = "data:image/jpeg;base64," + "A" * (2 * 2**20)
    with pytest.raises(openai.APIStatusError, match="request body is over") as caught:
        client.chat.completions.create(model="prism", messages=[{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": huge}}]}])
    assert caught.value.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on a chunked body too
        for _ in range(40):
            yield b"x" * 65536

    r = httpx.post(f"{server}/v1/ask", content=chunks(), headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert r.status_code == 413 and "over this server's limit" in r.json()["error"]["message"]

    import numpy as np
    from PIL import Image

    noise = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)).save(noise, format="PNG")
    assert 0.3 * 2**20 < noise.tell() < 0.7 * 2**20
    uri = "data:image/png;base64," + base64.b64encode(noise.getvalue()).decode()
    with pytest.raises(openai.APIStatusError, match="over this server's limit of 0.3 MiB") as caught:
        client.chat.completions.create(model="prism", messages=[{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": uri}}]}])
    assert caught.value.status_code == 413


def test_bad_requests_get_one_clear_message(client: openai.OpenAI, examples_dir: Path) -> None:
    photo = examples_dir / "sign_no_double_parking.jpg"
    cases = [
        ("prism", [{"role": "user", "content": "What does the sign say?"}], openai.BadRequestError, "no image in the conversation"),
        ("nope", [user("What does the sign say?", photo)], openai.NotFoundError, "unknown model .* GET /v1/models"),
        ("prism", [user("  ", photo)], openai.BadRequestError, "has no text"),
        ("prism", [{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}}]}],
         openai.BadRequestError, "image URL not fetched"),
        ("prism", [{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]}],
         openai.BadRequestError, "not an image agentvlm can read"),
    ]
    for model, messages, error, message in cases:
        with pytest.raises(error, match=message):
            client.chat.completions.create(model=model, messages=messages)


def test_ask_takes_uploads_and_json(server: str, examples_dir: Path) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    photo = examples_dir / "sign_no_double_parking.jpg"
    with photo.open("rb") as fh:
        r = httpx.post(f"{server}/v1/ask", headers=auth, timeout=240, files={"image": (photo.name, fh, "image/jpeg")},
                       data={"question": "What does the sign say?"})
    assert r.status_code == 200, r.text
    body = r.json()
    read = " ".join(e["text"] or "" for e in body["evidence"] if e["kind"] == "text").upper()
    assert "PARKING" in read and body["text"] and body["steps"]
    assert body["annotated_images"][0].startswith("/v1/answers/") and "/" not in body["images"][0]["path"]
    assert httpx.get(server + body["annotated_images"][0], headers=auth).headers["content-type"] == "image/png"
    assert httpx.get(f"{server}/v1/answers/{body['answer_id']}", headers=auth).json()["text"] == body["text"]

    r = httpx.post(f"{server}/v1/ask", headers=auth, timeout=240,
                   json={"image": data_uri(photo), "question": "Is there a sign?", "choices": ["yes", "no"]})
    assert r.status_code == 200 and r.json()["text"] in ("A", "B")
    r = httpx.post(f"{server}/v1/ask", headers=auth, json={"question": "Is there a sign?"})
    assert r.status_code == 400 and "no image given" in r.json()["error"]["message"]


def test_the_web_pages_own_requests_pass_and_a_foreign_page_is_refused(server: str) -> None:
    """The page posts JSON from its own origin with the key; a form from its origin needs no custom header."""
    page = {"Origin": server, "Authorization": f"Bearer {KEY}"}
    assert "'Content-Type': 'application/json'" in (Path(__file__).parents[1] / "agentvlm/serve/web/app.js").read_text().replace('"', "'")
    r = httpx.post(f"{server}/v1/chat/completions", headers=page, json={"messages": [{"role": "user", "content": "What?"}]})
    assert r.status_code == 400 and "no image in the conversation" in r.json()["error"]["message"]  # past the guard
    r = httpx.post(f"{server}/v1/ask", headers={"Origin": server}, files={"image": ("a.jpg", b"junk")}, data={"question": "What?"})
    assert r.status_code == 401  # same origin, so only the key is missing
    r = httpx.post(f"{server}/v1/ask", headers={**page, "Origin": "http://evil.example"}, json={})
    assert r.status_code == 403 and "cross-site request" in r.json()["error"]["message"]


def test_trusted_host_and_base_url(examples_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--trusted-host", "vlm.test", "--base-url", "https://vlm.example/agent/"]
    with agentvlm_process(args, f"{base}/healthz"):
        assert httpx.get(f"{base}/healthz", headers={"Host": f"vlm.test:{port}"}).status_code == 200
        assert httpx.get(f"{base}/healthz", headers={"Host": "other.test"}).status_code == 421
        r = httpx.post(f"{base}/v1/ask", timeout=240, json={"image": data_uri(examples_dir / "street_scene_pedestrians.jpg"),
                                                            "question": "How many people are in this picture?", "graph": "prism"})
        assert r.status_code == 200, r.text
        assert r.json()["annotated_images"] == [f"https://vlm.example/agent/v1/answers/{r.json()['answer_id']}/images/0.png"]


def test_a_full_queue_answers_429_and_the_others_finish(client: openai.OpenAI, server: str, examples_dir: Path) -> None:
    photo = examples_dir / "street_scene_pedestrians.jpg"
    running = client.chat.completions.create(model="moai", stream=True, messages=[user("Why are these people walking here?", photo)])
    first = iter(running)
    next(first)  # the role chunk: admitted
    next(first)  # a finished step: running, holding the only slot
    waiting = client.chat.completions.create(model="prism", stream=True, messages=[user("Why are these people walking here?", photo)])
    second = iter(waiting)
    next(second)  # admitted to the only queue place
    assert health(server)["queued"] == 1
    with pytest.raises(openai.RateLimitError, match="server is busy") as caught:
        client.chat.completions.create(model="prism", messages=[user("How many people are in this picture?", photo)])
    assert caught.value.response.headers["retry-after"]
    results: list[str] = []
    threads = [threading.Thread(target=lambda it=it: results.append([c for c in it][-1].choices[0].finish_reason)) for it in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert results == ["stop", "stop"]
    assert health(server)["running"] == 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_snippet_answers(server: str) -> None:
    section = README.read_text().split("## Serve", 1)[1]
    snippet = re.search(r"```bash\n(curl .*?)```", section, re.DOTALL)
    assert snippet, "the README's Serve section has a curl snippet"
    script = snippet.group(1).replace("http://127.0.0.1:8000", server).replace("$AGENTVLM_API_KEY", KEY)
    out = subprocess.run(["bash", "-c", script], cwd=README.parent, capture_output=True, text=True, timeout=240, check=False)
    assert out.returncode == 0, out.stderr
    assert re.search(r'"content":\s*"\d+"', out.stdout), out.stdout[:500]


def test_past_the_timeout_a_question_gets_504_and_its_slot_comes_back(examples_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    messages = [user("Why are these people walking here?", examples_dir / "street_scene_pedestrians.jpg")]  # the LLM must answer
    with agentvlm_process(["serve", "--port", str(port), "--timeout", "0.5"], f"{base}/healthz"):
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=60)
        with pytest.raises(openai.APIStatusError, match="no answer within this server's timeout of 0.5 s") as caught:
            client.chat.completions.create(model="prism", messages=messages)
        assert caught.value.status_code == 504
        with pytest.raises(openai.APIError, match="timeout of 0.5 s"):  # streamed: the error arrives as an event
            list(client.chat.completions.create(model="prism", messages=messages, stream=True))
        import time

        deadline = time.monotonic() + 180
        while health(base)["running"] and time.monotonic() < deadline:  # each run stops after its current node
            time.sleep(0.5)
        assert health(base)["running"] == 0


def test_a_request_folder_goes_after_the_request_or_when_its_answer_is_forgotten() -> None:
    from agentvlm.serve.runner import Runner
    from agentvlm.serve.settings import ServeSettings
    from agentvlm.types import Answer, ImageRef

    runner = Runner(ServeSettings(keep_answers=1))
    try:
        with runner.request_folder() as failed:
            failed.mkdir(parents=True)
            (failed / "a.jpg").write_bytes(b"x")
        assert not failed.exists()  # no answer shows it: gone with the request
        kept = []
        for n in range(2):
            with runner.request_folder() as folder:
                folder.mkdir(parents=True)
                (folder / "a.jpg").write_bytes(b"x")
                runner.remember(Answer(question="q", text="a", images=[ImageRef(path=str(folder / "a.jpg"), sha256="0" * 64, width=1, height=1, format="JPEG")]))
            kept.append(folder)
        assert [f.exists() for f in kept] == [False, True]  # the first answer was forgotten, and its image with it
        assert runner.scrub(f"{kept[1]}/a.jpg is truncated") == "a.jpg is truncated"
    finally:
        runner.close()
    assert not runner.uploads.exists()
