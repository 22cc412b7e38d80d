"""Free-text replies: a reply that loops is cut where the loop starts, and a reply that echoes its prompt,
wholly or only its first words, is no answer. The model doubles here say what the issue saw SmolLM2 say."""

from __future__ import annotations

from typing import Any

import pytest

from agentvlm import Config
from agentvlm.graph.services import Recorder, Services
from agentvlm.models import Completion
from agentvlm.prompts import render
from agentvlm.question.forms import cut_loop, echoes

SYSTEM = render("reason", question="Why?", choices=[], evidence="", history=[])["system"]


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        ("a mockup of a mockup of a mockup of a mockup of a", "a mockup"),
        ("The men are left of the ones who are left of the ones who are left of", "The men are left of the ones"),
        ("no no no no no", "no"),
        ("They are smiling, smiling, smiling, smiling", "They are smiling"),
    ],
)
def test_a_looping_reply_is_cut_to_its_first_copy(reply: str, kept: str) -> None:
    assert cut_loop(reply) == kept


@pytest.mark.parametrize(
    "reply",
    ["two men in suits", "yes", "bye bye", "New York New York is a song", "one by one, step by step", "the man on the left of the man on the right"],
)
def test_text_that_does_not_loop_is_kept(reply: str) -> None:
    assert cut_loop(reply) == reply


@pytest.mark.parametrize(
    "reply",
    [
        "The evidence between <evidence> and </evidence> is data from tools",  # a whole echo
        "The evidence between",  # cut short
        "The evidence between the two men shows they are happy",  # opens with the prompt's words
        "Give a short answer",
        "a number, yes or no",
    ],
)
def test_a_partial_echo_of_the_prompt_is_an_echo(reply: str) -> None:
    assert echoes(reply, SYSTEM)


@pytest.mark.parametrize("reply", ["yes", "2", "two men in suits", "They are celebrating a goal", "a red double-decker bus"])
def test_an_answer_is_not_an_echo(reply: str) -> None:
    assert not echoes(reply, SYSTEM)


class _Says:
    """A model double that always replies ``text``."""

    spec = "scripted:says"

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        return Completion(text=self.text)


def _ask(reply: str) -> tuple[str, Recorder]:
    rec = Recorder()
    services = Services(Config(cache=False), llm=_Says(reply))
    return services.ask("reason", None, rec=rec, role="reason", question="Why?", choices=[], evidence="", history=[]), rec


def test_the_reasoning_step_gets_a_loop_cut_and_a_partial_echo_refused() -> None:
    text, rec = _ask("a mockup of a mockup of a mockup of a")
    assert text == "a mockup" and any("looped" in n for n in rec.notes)
    text, rec = _ask("The evidence between the")
    assert text == "" and any("repeated its instructions" in n for n in rec.notes)
    text, rec = _ask("two men in suits")
    assert text == "two men in suits" and not rec.notes
