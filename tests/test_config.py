"""Configuration: files, defaults and command-line overrides, with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentvlm import Config, ConfigError
from agentvlm.models import parse_spec


def test_defaults_are_the_embedded_stack() -> None:
    c = Config()
    assert (c.llm, c.graph, c.tools.detect, c.tools.ocr, c.tools.segment) == (
        "llamacpp:smollm2", "auto", "darknet", "rapidocr", "grabcut",
    )  # fmt: skip


def test_file_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("llm: llamacpp:smollm2\nevidence_budget: 300\ntools:\n  params: {darknet: {confidence: 0.25}}\n")
    c = Config.from_file(f)
    assert c.evidence_budget == 300 and c.tools.params["darknet"]["confidence"] == 0.25


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("llmm: x\n", "unknown config key 'llmm' in"),
        ("tools: {detector: darknet}\n", "unknown tool kind 'detector'; tool kinds: detect, ocr, segment"),
        ("tools: {detect: yolo9000}\n", "unknown tool 'yolo9000'; known tools: darknet"),
        ("llm: gpt-4\n", "has no backend"),
        ("llm: foo:bar\n", "unknown model backend 'foo'"),
        ("evidence_budget: 3\n", "invalid value for 'evidence_budget'"),
        ("- a list\n", "must be a YAML mapping"),
        ("llm: [oops\n", "is not valid YAML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, yaml_text: str, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Config.from_file(f)


@pytest.mark.parametrize(
    ("spec", "backend", "target", "url"),
    [
        ("llamacpp:/models/q.gguf", "llamacpp", "/models/q.gguf", None),
        ("llamacpp:smollm2", "llamacpp", "smollm2", None),
        ("hf:HuggingFaceTB/SmolVLM-256M-Instruct", "hf", "HuggingFaceTB/SmolVLM-256M-Instruct", None),
        ("openai:qwen2.5@http://127.0.0.1:8080/v1", "openai", "qwen2.5", "http://127.0.0.1:8080/v1"),
    ],
)
def test_model_specs(spec: str, backend: str, target: str, url: str | None) -> None:
    parsed = parse_spec(spec)
    assert (parsed.backend, parsed.target, parsed.base_url) == (backend, target, url)
    assert str(parsed) == spec


def test_openai_spec_needs_a_server() -> None:
    with pytest.raises(ConfigError, match="openai:MODEL@BASE_URL"):
        parse_spec("openai:gpt-4o")


def test_hf_path_that_is_not_a_model() -> None:
    from agentvlm.models import load_chat_model

    with pytest.raises(ConfigError, match="is not a Hugging Face model"):
        load_chat_model("hf:/no/such/dir")
