"""Ask a question about an image from Python: the answer and what decided it, then the same run streamed.

Shows ``Agent.ask`` (the ``Answer``: text, form, basis, model and tool calls, evidence),
``Agent.stream`` (each step as it finishes, then the answer) and ``Agent.astream`` under
asyncio. It uses the embedded CPU models (YOLOv4-tiny, PP-OCR, SmolLM2), which ship with
the install and run offline.

Run it from the repository root:

    python examples/ask.py
    python examples/ask.py examples/images/street_scene_pedestrians.jpg "How many people are in this picture?"
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from agentvlm import Agent, Answer

HERE = Path(__file__).resolve().parent
IMAGE = HERE / "images" / "sign_no_double_parking.jpg"
QUESTION = "What does the sign say?"


def show_answer(answer: Answer) -> None:
    print(f"answer: {answer.text}")
    # form: what kind of answer the question asks for; basis: what decided it
    # (program = code computed it, evidence = chosen among what the evidence allows, model, guess)
    print(
        f"form: {answer.form}  basis: {answer.basis}  model calls: {answer.model_calls}  tool calls: {answer.tool_calls}  seconds: {answer.seconds:.2f}"
    )
    for ev in answer.evidence[:5]:  # what the answer rests on
        score = "" if ev.score is None else f" score={ev.score:.2f}"
        print(f"  evidence {ev.id}: {ev.tool} {ev.label or ev.text!r}{score}")


async def show_astream(agent: Agent, image: str, question: str) -> None:
    async for event in agent.astream(image, question):
        if event.step is not None:
            print(f"step {event.step.node} ({event.step.seconds:.2f}s)")
        elif event.answer is not None:
            print(f"answer: {event.answer.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "image", nargs="?", default=str(IMAGE), help="an image path, URL or data URI"
    )
    parser.add_argument("question", nargs="?", default=QUESTION)
    args = parser.parse_args()

    agent = Agent()  # the default graph (auto); models load on the first question
    print("== ask")
    show_answer(agent.ask(args.image, args.question))

    print("== stream")  # perception is cached by image content, so this run costs only reasoning
    for event in agent.stream(args.image, args.question):
        if event.kind == "step" and event.step is not None:
            calls = ", ".join(c.name + (" (cached)" if c.cached else "") for c in event.step.calls)
            print(
                f"step {event.step.node} ({event.step.seconds:.2f}s){': ' + calls if calls else ''}"
            )
        elif event.kind == "answer" and event.answer is not None:
            print(f"answer: {event.answer.text}")

    print("== astream")
    asyncio.run(show_astream(agent, args.image, args.question))


if __name__ == "__main__":
    main()
