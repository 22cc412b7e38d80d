"""Where tasks run: in this process, in worker processes, or as Ray tasks.

Every worker builds its own ``Agent`` from the config, once per process (``_agent``), so
models load once per worker however many tasks it runs. Answers do not depend on which
worker runs a task or in what order (temperature 0, a reset llama.cpp context per call),
so every executor gives the same predictions.

Why processes and not threads for ``--workers``: the llama.cpp model holds a lock, so
threads serialize on the LLM (about three quarters of an item's time on the embedded
stack), and OpenCV DNN nets are not safe to share between threads. Processes each load
their own models (about 300 MB each) and run truly in parallel, as far as the cores allow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from agentvlm.errors import ConfigError, MissingDependencyError
from agentvlm.eval.systems import Outcome, Task, answer_task

if TYPE_CHECKING:
    from agentvlm.agent import Agent

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "make_executor", "run_one"]

EXECUTORS = ("local", "ray")
_AGENTS: dict[str, Agent] = {}


class Executor(Protocol):
    def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
        """Yield each task with its outcome as soon as it finishes (any order)."""
        ...


def _agent(config_json: str) -> Agent:
    """This process's agent for ``config_json``, built on first use."""
    if config_json not in _AGENTS:
        from agentvlm.agent import Agent
        from agentvlm.config import Config

        _AGENTS[config_json] = Agent(Config.model_validate(json.loads(config_json)))
    return _AGENTS[config_json]


def run_one(config_json: str, task: Task) -> Outcome:
    """Run one task in whatever process this is (the unit of work every executor ships)."""
    return answer_task(_agent(config_json), task)


def _init_worker(config_json: str) -> None:
    _agent(config_json)


class LocalExecutor:
    """Tasks in this process (``workers=1``) or in ``workers`` spawned processes."""

    def __init__(self, *, workers: int = 1, agent: Agent | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.agent = agent

    def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
        if self.workers == 1 or len(tasks) <= 1:
            agent = self.agent or _agent(config_json)
            for task in tasks:
                yield task, answer_task(agent, task)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=multiprocessing.get_context("spawn"),  # llama.cpp threads do not survive fork
            initializer=_init_worker,
            initargs=(config_json,),
        )
        try:
            futures = {pool.submit(run_one, config_json, task): task for task in tasks}
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Tasks as Ray tasks, on a local Ray (``ray.init(num_cpus=workers)``) or the cluster at ``address``."""

    def __init__(self, *, workers: int = 1, address: str | None = None) -> None:
        self.workers = workers
        self.address = address

    def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
        try:
            import ray
        except ImportError:
            raise MissingDependencyError("ray", extra="ray", purpose="--executor ray") from None
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=self.workers, **options)
        remote = ray.remote(num_cpus=1)(run_one)
        config_ref = ray.put(config_json)
        pending = {remote.remote(config_ref, task): task for task in tasks}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield pending.pop(ref), ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)


def make_executor(name: str, *, workers: int = 1, address: str | None = None, agent: Agent | None = None) -> Executor:
    if name == "local":
        return LocalExecutor(workers=workers, agent=agent)
    if name == "ray":
        return RayExecutor(workers=workers, address=address)
    raise ConfigError(f"unknown executor '{name}'; choose from: {', '.join(EXECUTORS)}")
