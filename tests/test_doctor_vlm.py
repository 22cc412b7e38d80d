"""`agentvlm doctor --vlm SPEC` against a real OpenAI-compatible server on loopback: does it take
images, and does it return logprobs for a request that carries one (what the graph sends)."""

from __future__ import annotations

from typing import Any

import pytest

from agentvlm.cli import main
from tests.scripted_vlm import Reply, ScriptedVLM, Seen

SAMPLED = "no (confidence is sampled instead: slower)"


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str]]:
    """Run `agentvlm doctor ARGS` in this process: the exit code and the model rows by role."""
    code = main(["doctor", *args])
    rows = [line for line in capsys.readouterr().out.splitlines() if " model:" in line]
    return code, {line.split()[1].removeprefix("model:"): line for line in rows}


class TextOnlyLogprobs(ScriptedVLM):
    """A server that returns logprobs for text requests and drops them for requests with images."""

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        multimodal = any(isinstance(m.get("content"), list) for m in body.get("messages", []))
        return super().completion({**body, "logprobs": False} if multimodal else body, reply)


def test_a_vision_server_with_logprobs_is_ready_and_the_probe_carried_an_image(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedVLM("Yes", logprobs=True) as vlm:
        code, rows = doctor(capsys, "--vlm", vlm.spec)
    assert code == 0
    assert rows["vlm"].startswith("ok  model:vlm")
    assert "vision: yes; logprobs with images: yes" in rows["vlm"]
    assert len(vlm.seen) == 1  # one request answers both questions
    probe = vlm.seen[0]
    assert [image.size for image in probe.images] == [(64, 64)]
    assert probe.logprobs and probe.body["max_tokens"] == 1


def test_a_vision_server_without_logprobs_says_confidence_is_sampled(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedVLM("Yes", logprobs=False) as vlm:
        code, rows = doctor(capsys, "--vlm", vlm.spec)
    assert code == 0
    assert rows["vlm"].startswith("ok  model:vlm")
    assert f"vision: yes; logprobs with images: {SAMPLED}" in rows["vlm"]
    assert vlm.seen[0].images and vlm.seen[0].logprobs


def test_logprobs_are_asked_with_an_image_for_the_vlm_and_with_text_for_the_llm(capsys: pytest.CaptureFixture[str]) -> None:
    with TextOnlyLogprobs("Yes") as server:
        code, rows = doctor(capsys, "--llm", server.spec, "--vlm", server.spec)
    assert code == 0
    assert rows["llm"].endswith("logprobs: yes")
    assert f"logprobs with images: {SAMPLED}" in rows["vlm"]
    assert sorted(len(seen.images) for seen in server.seen) == [0, 1]


def test_a_server_that_refuses_images_makes_the_vlm_row_not_ok_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    def text_only(seen: Seen) -> Reply:
        return Reply(status=400, message="image input is not supported") if seen.images else Reply("OK")

    with ScriptedVLM(text_only) as vlm:
        code, rows = doctor(capsys, "--vlm", vlm.spec)
    assert code == 1
    row = rows["vlm"]
    assert row.startswith("no  model:vlm") and "vision: no" in row
    assert "does not accept images (HTTP 400: image input is not supported)" in row
    assert "use a vision model there" in row and "--mmproj" in row
    assert vlm.seen[0].images  # refused because it carried an image, not for anything else


def test_a_text_model_given_as_the_llm_stays_ready(capsys: pytest.CaptureFixture[str]) -> None:
    def text_only(seen: Seen) -> Reply:
        return Reply(status=400, message="image input is not supported") if seen.images else Reply("OK")

    with ScriptedVLM(text_only) as server:
        code, rows = doctor(capsys, "--llm", server.spec)
    assert code == 0 and rows["llm"].startswith("ok  model:llm") and rows["llm"].endswith("logprobs: yes")
    assert [seen.images for seen in server.seen] == [[]]


def test_a_llamacpp_spec_as_the_vlm_says_how_to_serve_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = doctor(capsys, "--vlm", "llamacpp:smollm2")
    assert code == 1
    assert rows["vlm"].startswith("no  model:vlm") and "vision: no" in rows["vlm"] and "--mmproj MMPROJ.gguf" in rows["vlm"]


def test_the_readme_commands_for_a_vision_model_use_real_flags() -> None:
    import re
    import shlex
    from pathlib import Path

    from agentvlm.cli import _parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## With a vision model", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"agentvlm (?:doctor|ask|eval)[^`\n#]*", section) + re.findall(r"agentvlm doctor[^`\n#]*", readme)
    assert len(commands) >= 8
    for command in commands:
        _parser().parse_args(shlex.split(command)[1:])  # an unknown flag or a bad choice exits 2
