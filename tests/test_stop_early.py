"""A consumer that stops early stops the run: no orphan keeps the llama.cpp model after it.

The graph plans with the LLM first, so every run is inside a SmolLM2 call (holding the
model's lock) right after its first event; the consumers leave at that moment.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agentvlm import Agent, Config
from agentvlm.models import Completion, Message
from agentvlm.models.llamacpp import LlamaCppModel
from agentvlm.models.specs import parse_spec
from agentvlm.stopping import RunStopped

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

GRAPH = """\
name: plan_then_reason
description: The LLM plans, then answers from no evidence (two model calls, no tools).
nodes:
  plan: {type: plan, params: {planner: llm}}
  reason: {type: reason}
  answer: {type: answer}
entry: plan
edges:
  - {from: plan, to: reason}
  - {from: reason, to: answer}
finish: answer
"""
QUESTION = "Why do people in big cities like to travel by bus?"


class CountingLlama(LlamaCppModel):
    """The embedded SmolLM2, counting calls begun, stopped and finished."""

    def __init__(self) -> None:
        super().__init__(parse_spec("llamacpp:smollm2"))
        self.begun = self.stopped = self.finished = 0

    def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        self.begun += 1
        try:
            completion = super().complete(messages, **kwargs)
        except RunStopped:
            self.stopped += 1
            raise
        self.finished += 1
        return completion


@pytest.fixture(scope="module")
def llm() -> CountingLlama:
    return CountingLlama()


@pytest.fixture(scope="module")
def agent(llm: CountingLlama, tmp_path_factory: pytest.TempPathFactory) -> Agent:
    path = tmp_path_factory.mktemp("graph") / "plan_then_reason.yaml"
    path.write_text(GRAPH)
    return Agent(Config(cache=False), llm=llm, graph=path)


def _run_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("agentvlm-")]


async def _until_in_a_call(llm: CountingLlama, begun: int) -> None:
    """Wait until the run has entered its model call (it then waits for, or holds, the lock)."""
    deadline = time.monotonic() + 30
    while llm.begun <= begun:
        assert time.monotonic() < deadline, "the run never called the model"
        await asyncio.sleep(0.002)


async def _until_idle(llm: CountingLlama, seconds: float) -> float:
    """Seconds until no run thread is left and the model's lock is free; fails after ``seconds``."""
    start = time.monotonic()
    while _run_threads() or llm._lock.locked():
        assert time.monotonic() - start < seconds, (
            f"still running: {_run_threads()}, lock held: {llm._lock.locked()}"
        )
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def test_a_hundred_early_breaks_leave_no_run_behind(
    agent: Agent, llm: CountingLlama, bus_jpg: Path
) -> None:
    async def scenario() -> tuple[float, float, float, int, int]:
        start = time.perf_counter()
        baseline = (await agent.aask(bus_jpg, QUESTION)).text
        normal = time.perf_counter() - start
        finished = llm.finished
        start = time.perf_counter()
        for _ in range(100):
            begun = llm.begun
            async for event in agent.astream(bus_jpg, QUESTION, progress=True):
                assert (event.kind, event.node) == ("start", "plan")
                await _until_in_a_call(llm, begun)
                break  # the plain break of the issue: no aclosing, the loop drops the iterator
        breaks = time.perf_counter() - start
        settled = await _until_idle(llm, seconds=5)
        orphans_finished = llm.finished - finished
        start = time.perf_counter()
        answer = await agent.aask(bus_jpg, QUESTION)
        final = time.perf_counter() - start
        assert answer.text == baseline  # the aborted calls left the model as it was
        return normal, breaks, final, orphans_finished, round(settled, 3)

    normal, breaks, final, orphans_finished, settled = asyncio.run(scenario())
    assert llm.stopped >= 100 and orphans_finished == 0, (llm.begun, llm.stopped, orphans_finished)
    # 100 orphans would each hold the lock for two full calls: minutes, not one ask.
    assert final < 3 * normal + 5, (
        f"one ask took {normal:.1f}s, the ask after 100 breaks {final:.1f}s"
    )
    assert breaks < 60, f"100 early breaks took {breaks:.1f}s"
    assert not _run_threads() and not llm._lock.locked()
    print(
        f"ask {normal:.2f}s, 100 breaks {breaks:.2f}s, idle after {settled}s, next ask {final:.2f}s"
    )


def test_cancelling_aask_stops_its_run(agent: Agent, llm: CountingLlama, bus_jpg: Path) -> None:
    async def scenario() -> float:
        begun = llm.begun
        task = asyncio.create_task(agent.aask(bus_jpg, QUESTION))
        await _until_in_a_call(llm, begun)
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        waited = time.perf_counter() - start
        await _until_idle(llm, seconds=1)  # the cancel waited for the thread: nothing is left
        return waited

    stopped = llm.stopped
    waited = asyncio.run(scenario())
    assert llm.stopped == stopped + 1 and waited < 2


def test_closing_stream_between_events_stops_the_run(
    agent: Agent, llm: CountingLlama, bus_jpg: Path
) -> None:
    begun, stopped, finished = llm.begun, llm.stopped, llm.finished
    run = agent.stream(bus_jpg, QUESTION, progress=True)
    kinds = []
    for event in run:
        kinds.append(event.kind)
        if event.kind == "step":  # the plan is made; the reason call is next
            break
    start = time.perf_counter()
    run.close()
    assert time.perf_counter() - start < 1 and not llm._lock.locked()
    assert (
        kinds == ["start", "step"]
        and llm.begun == begun + 1
        and llm.finished == finished + 1
        and llm.stopped == stopped
    )
