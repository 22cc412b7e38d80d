"""List every backend and tool, whether it can run here, and for what cannot, why and how to fix it.
Paste its output into bug reports.

Exit code 0, even where optional backends and tools are missing; 1 when a model
given with ``--llm``, ``--vlm`` or ``--config`` is not usable as configured (its row
says why), so ``agentvlm doctor --vlm SPEC && agentvlm ask ...`` stops early."""

from __future__ import annotations

import argparse
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec

__all__ = ["HELP", "add_arguments", "check_all", "run"]

HELP = "list every backend and tool, whether it can run here, and why not"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="also check the models this YAML config names")
    p.add_argument("--llm", metavar="SPEC", help="also check this reasoning model (reachable, logprobs)")
    p.add_argument("--vlm", metavar="SPEC", help="also check this VLM (reachable, takes images, logprobs with images)")


def _ver(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _llamacpp(spec: str) -> tuple[bool, str]:
    if find_spec("llama_cpp") is None:
        return False, "llama-cpp-python is not installed: pip install llama-cpp-python"
    from agentvlm.errors import ConfigError
    from agentvlm.models.llamacpp import resolve_gguf
    from agentvlm.models.specs import parse_spec

    try:
        path = resolve_gguf(parse_spec(spec).target)
    except ConfigError as exc:
        return False, str(exc)
    if not path.exists():
        return False, f"model file missing: {path}"
    return True, f"llama-cpp-python {_ver('llama_cpp_python')}; {spec} -> {path.name} ({path.stat().st_size / 1e6:.0f} MB)"


def check_all(llm: str | None = None, vlm: str | None = None) -> list[tuple[str, str, bool, str]]:
    """Rows of (group, name, ok, detail) for every backend and tool, then each configured model."""
    from agentvlm.cli.doctor_models import backend_rows, model_row
    from agentvlm.models.specs import DEFAULT_LLM
    from agentvlm.tools import TOOLS, load_tool_class

    rows: list[tuple[str, str, bool, str]] = []
    ok, detail = _llamacpp(llm if llm and llm.startswith("llamacpp:") else DEFAULT_LLM)
    rows.append(("backend", "llamacpp", ok, detail))
    rows += backend_rows()
    for name in TOOLS:
        try:
            cls = load_tool_class(name)
            avail = cls.availability()
            rows.append((f"tool:{cls.kind}", name, avail.ok, avail.detail))
        except ImportError as exc:  # a tool module that cannot even import
            rows.append(("tool", name, False, str(exc)))
    for role, spec in (("llm", llm), ("vlm", vlm)):
        if spec:
            rows.append(model_row(role, spec, _llamacpp))
    return rows


def run(args: argparse.Namespace) -> int:
    llm, vlm = None, None
    if getattr(args, "config", None):
        from agentvlm.config import Config

        config = Config.from_file(args.config)
        llm, vlm = config.llm, config.vlm
    llm, vlm = getattr(args, "llm", None) or llm, getattr(args, "vlm", None) or vlm
    from agentvlm import __version__

    print(f"agentvlm {__version__}  Python {platform.python_version()}  {platform.platform()}")
    print(
        "packages: "
        + ", ".join(f"{p} {_ver(p)}" for p in ("langgraph", "pydantic", "opencv-python-headless", "rapidocr", "onnxruntime", "torch"))
    )
    rows = check_all(llm, vlm)
    width = max(len(r[1]) for r in rows)
    for group, name, ok, detail in rows:
        mark = "ok  " if ok else "no  "
        print(f"{mark}{group:<13} {name:<{width}}  {detail}")
    failed = [name for group, name, ok, _ in rows if group.startswith("model:") and not ok]
    if failed:
        print(f"not ready: {', '.join(failed)} (see the rows marked no above)")
    sys.stdout.flush()
    return 1 if failed else 0
