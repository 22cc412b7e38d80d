"""Where tasks run: in this process, in worker processes, or as Ray tasks.

Every worker builds its own ``Agent`` per graph from the config, once per process
(``_agent``), so models load once per worker however many tasks and graphs it runs (the
agents of one process share their models; the ``novlm`` baseline's agent is the first
graph's with the VLM switched off, on the same models). Answers do not depend on which
worker runs a task or in what order (temperature 0, a reset llama.cpp context per call),
so every executor gives the same predictions.

Why processes and not threads for ``--workers``: the llama.cpp model holds a lock, so
threads serialize on the LLM (about three quarters of an item's time on the embedded
stack), and OpenCV DNN nets are not safe to share between threads. Processes each load
their own models (about 300 MB each) and run truly in parallel, as far as the cores allow;
each gets ``cores // K`` llama.cpp threads (``AGENTVLM_LLM_THREADS``, unless already set), as
llama.cpp threads spin while they wait and K processes at full width would oversubscribe.
Ray workers get the same share through their ``runtime_env`` (``RayExecutor.threads``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from agentvlm.errors import ConfigError, MissingDependencyError
from agentvlm.eval.systems import Outcome, System, Task, answer_task, without_vlm

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from agentvlm.agent import Agent

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "make_executor", "run_one", "worker_threads"]

EXECUTORS = ("local", "ray")
THREADS_ENV = "AGENTVLM_LLM_THREADS"
_AGENTS: dict[tuple[str, str, bool], Agent] = {}


class Executor(Protocol):
    def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
        """Yield each task with its outcome as soon as it finishes (any order)."""
        ...


def _agent(config_json: str, graph: str, *, vlm: bool = True) -> Agent:
    """This process's agent for ``config_json`` running ``graph`` (with its VLM switched off
    unless ``vlm``), built on first use."""
    key = (config_json, graph, vlm)
    if key not in _AGENTS:
        from agentvlm.agent import Agent
        from agentvlm.config import Config
        from agentvlm.evidence.cache import PerceptionCache

        config = Config.model_validate({**json.loads(config_json), "graph": graph})
        own = PerceptionCache(config.cache_dir if config.cache else None)  # each system pays for its own perception
        if not vlm:
            _AGENTS[key] = without_vlm(_agent(config_json, graph), cache=own)
        else:
            same = next((a for (c, _, v), a in _AGENTS.items() if c == config_json and v), None)  # its models serve every graph
            _AGENTS[key] = same.with_graph(graph, cache=own) if same is not None else Agent(config)
    return _AGENTS[key]


def _uses_vlm(system: System) -> bool:
    return system.kind != "novlm"


def run_one(config_json: str, task: Task) -> Outcome:
    """Run one task in whatever process this is (the unit of work every executor ships)."""
    return answer_task(_agent(config_json, task.system.graph, vlm=_uses_vlm(task.system)), task)


def worker_threads(workers: int) -> int:
    """llama.cpp threads for each of ``workers`` processes: this machine's usable cores shared out."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(cores // max(workers, 1), 1)


def _init_worker(threads: int) -> None:
    os.environ.setdefault(THREADS_ENV, str(threads))  # the user's own setting, inherited, wins


class LocalExecutor:
    """Tasks in this process (``workers=1``) or in ``workers`` spawned processes."""

    def __init__(self, *, workers: int = 1, agent: Agent | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.agent = agent
        self._novlm: Agent | None = None

    def pool(self, size: int) -> ProcessPoolExecutor:
        """``size`` spawned worker processes, each with its share of the cores for llama.cpp."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("spawn"),  # llama.cpp threads do not survive fork
            initializer=_init_worker,
            initargs=(worker_threads(size),),
        )

    def _local_agent(self, config_json: str, system: System) -> Agent:
        vlm = _uses_vlm(system)
        if self.agent is not None and self.agent.config.graph == system.graph:
            if vlm:
                return self.agent
            if self._novlm is None:
                from agentvlm.evidence.cache import PerceptionCache

                config = self.agent.config
                self._novlm = without_vlm(self.agent, cache=PerceptionCache(config.cache_dir if config.cache else None))
            return self._novlm
        return _agent(config_json, system.graph, vlm=vlm)

    def run(self, config_json: str, tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, answer_task(self._local_agent(config_json, task.system), task)
            return
        from concurrent.futures import as_completed

        pool = self.pool(min(self.workers, len(tasks)))
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

    def threads(self) -> int:
        """llama.cpp threads for each Ray task: the user's ``AGENTVLM_LLM_THREADS``, else a share of the cores.

        A local Ray runs ``workers`` tasks at once on this machine, so each gets ``cores // workers``;
        on a cluster each task holds one Ray CPU (``num_cpus`` = the thread count), so Ray packs
        no more threads onto a node than it has CPUs.
        """
        env = os.environ.get(THREADS_ENV, "")
        if env.isdigit() and int(env) > 0:
            return int(env)
        return worker_threads(self.workers) if self.address is None else 1

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
        threads = self.threads()
        # Without it each Ray worker would take llama.cpp's default, half the cores, and K of them oversubscribe.
        remote = ray.remote(
            num_cpus=1 if self.address is None else threads,
            runtime_env={"env_vars": {THREADS_ENV: str(threads)}},
        )(run_one)
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
