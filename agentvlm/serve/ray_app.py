"""``agentvlm serve --ray``: the same HTTP app as a Ray Serve deployment, one agent per replica.

Each replica builds its own app (and so loads its own models) when it starts; Ray's
proxy spreads requests over the replicas. Use it when one process's llama.cpp model is
the bottleneck and there are cores or machines to spare: N replicas answer N questions
at once, at about 0.8 GB of memory each with the embedded default.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from agentvlm.errors import MissingDependencyError
from agentvlm.serve.settings import ServeSettings

__all__ = ["deployment", "serve_ray"]


class _RayAnswers:
    """``SharedAnswers`` over a named Ray actor, so any replica can show any replica's answer."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def put(self, key: str, answer_json: str, pngs: list[bytes]) -> None:
        import ray

        ray.get(self.actor.put.remote(key, answer_json, pngs))

    def answer(self, key: str) -> str | None:
        import ray

        found: str | None = ray.get(self.actor.answer.remote(key))
        return found

    def png(self, key: str, k: int) -> bytes | None:
        import ray

        found: bytes | None = ray.get(self.actor.png.remote(key, k))
        return found


class _AnswerStore:
    """The actor behind ``_RayAnswers``: the last ``keep`` answers and their annotated PNGs."""

    def __init__(self, keep: int) -> None:
        from collections import OrderedDict

        self.keep = keep
        self.items: OrderedDict[str, tuple[str, list[bytes]]] = OrderedDict()

    def put(self, key: str, answer_json: str, pngs: list[bytes]) -> None:
        self.items[key] = (answer_json, pngs)
        while len(self.items) > self.keep:
            self.items.popitem(last=False)

    def answer(self, key: str) -> str | None:
        found = self.items.get(key)
        return found[0] if found else None

    def png(self, key: str, k: int) -> bytes | None:
        found = self.items.get(key)
        return found[1][k] if found and 0 <= k < len(found[1]) else None


def deployment(settings: ServeSettings, *, replicas: int, num_cpus: float = 1.0) -> Any:
    """A bound Ray Serve application of the agentvlm HTTP app with ``replicas`` replicas."""
    try:
        from ray import serve
    except ImportError as exc:
        raise MissingDependencyError("ray[serve]", extra="ray-serve", purpose="agentvlm serve --ray") from exc

    @serve.deployment(
        name="agentvlm",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": num_cpus},
        # let each replica's own queue answer 429, rather than Ray queueing without a bound
        max_ongoing_requests=settings.max_concurrency + settings.max_queue + 1,
    )
    @serve.ingress()
    class AgentVLMReplica:
        def __init__(self, settings: ServeSettings, store: Any) -> None:
            self.settings = settings
            self.store = store

        def __serve_build_asgi_app__(self) -> Any:
            from agentvlm.serve.http import create_app
            from agentvlm.serve.runner import Runner

            return create_app(self.settings, runner=Runner(self.settings, shared=_RayAnswers(self.store)))

    import ray

    store = ray.remote(num_cpus=0)(_AnswerStore).options(name="agentvlm-answers", get_if_exists=True).remote(min(settings.keep_answers, 64))
    return AgentVLMReplica.bind(settings, store)  # type: ignore[attr-defined]


def serve_ray(settings: ServeSettings, *, host: str, port: int, replicas: int, address: str | None = None) -> int:
    """Start (or join) a Ray cluster, deploy the app on ``host:port`` and serve until interrupted.

    ``address`` (else ``$RAY_ADDRESS``) joins an existing cluster, e.g. ``auto`` on one of
    its nodes or ``ray://head:10001``; without one a local cluster starts in this process.
    """
    try:
        import ray
        from ray import serve
    except ImportError as exc:
        raise MissingDependencyError("ray[serve]", extra="ray-serve", purpose="agentvlm serve --ray") from exc
    address = address or os.environ.get("RAY_ADDRESS") or None
    ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    serve.start(http_options={"host": host, "port": port})
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the cluster this process started on SIGTERM too
    serve.run(deployment(settings, replicas=replicas), name="agentvlm", route_prefix="/", blocking=False)
    print(f"agentvlm serve --ray: http://{host}:{port}/ with {replicas} replica(s) on "
          f"{'the cluster at ' + address if address else 'a local Ray cluster'}", file=sys.stderr, flush=True)
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()
    return 0
