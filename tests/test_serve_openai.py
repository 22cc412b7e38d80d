"""The OpenAI wire format: a chat becomes the question, its images and the earlier turns (no server, no model)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="agentvlm serve needs pip install 'agentvlm[serve]'")

from agentvlm.errors import InputError
from agentvlm.serve.openai_api import ChatMessage, conversation

IMG1, IMG2 = "data:image/png;base64,AAAA", "data:image/jpeg;base64,BBBB"


def msg(role: str, text: str, *images: str) -> ChatMessage:
    if not images:
        return ChatMessage(role=role, content=text)  # type: ignore[arg-type]
    parts = [{"type": "text", "text": text}, *({"type": "image_url", "image_url": {"url": i}} for i in images)]
    return ChatMessage(role=role, content=parts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("messages", "question", "images", "history"),
    [
        ([msg("user", "How many people?", IMG1)], "How many people?", [IMG1], []),
        ([msg("system", "Be brief."), msg("user", "What does it say?", IMG1, IMG2)], "What does it say?", [IMG1, IMG2], []),
        ([msg("user", "How many people?", IMG1), msg("assistant", "3"), msg("user", "Where are they?")],
         "Where are they?", [IMG1], [("How many people?", "3")]),
        ([msg("user", "How many?", IMG1), msg("assistant", "3"), msg("user", "And here?", IMG2), msg("assistant", "2"), msg("user", "Which is bigger?")],
         "Which is bigger?", [IMG2], [("How many?", "3"), ("And here?", "2")]),
        ([msg("user", "Is it red?", IMG1), msg("assistant", "yes"), msg("user", "Now this one?", IMG2)], "Now this one?", [IMG2], [("Is it red?", "yes")]),
    ],
)
def test_conversation(messages: list[ChatMessage], question: str, images: list[str], history: list[tuple[str, str]]) -> None:
    chat = conversation(messages)
    assert (chat.question, chat.images, chat.history) == (question, images, history)


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([msg("user", "How many people?")], "no image in the conversation"),
        ([msg("user", "How many?", IMG1), msg("assistant", "3")], "last message must be the user's question"),
        ([msg("user", "", IMG1)], "has no text"),
        ([ChatMessage(role="user", content=[{"type": "input_audio", "input_audio": {}}])], "unsupported message part type 'input_audio'"),
        ([ChatMessage(role="user", content=[{"type": "text", "text": "Hi"}, {"type": "image_url"}])], "an image_url part needs"),
    ],
)
def test_bad_conversations_say_what_to_send(messages: list[ChatMessage], message: str) -> None:
    with pytest.raises(InputError, match=message):
        conversation(messages)


def test_serve_refuses_bad_options_and_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from agentvlm.cli import main

    assert main(["serve", "--max-concurrency", "0"]) == 2
    assert "--max-concurrency must be at least 1, got 0" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
        assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
        assert main(["mcp", "--transport", "http", "--port", str(port)]) == 2
        assert "choose another --port" in capsys.readouterr().err
