"""The public surface is explicit, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import agentvlm


def test_all_is_sorted_and_complete() -> None:
    names = [n for n in agentvlm.__all__ if n != "__version__"]
    assert names == sorted(names)
    public = {n for n in dir(agentvlm) if not n.startswith("_") and n[0].isupper()}
    public |= {"load_image", "open_image"}
    assert public | {"Agent", "Event"} >= set(names)
    assert set(names) >= {n for n in public if not n.startswith("TYPE")}
    for name in agentvlm.__all__:
        assert getattr(agentvlm, name) is not None


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, agentvlm, agentvlm.cli; "
        "heavy = [m for m in ('langgraph', 'cv2', 'torch', 'transformers', 'ultralytics', 'rapidocr', 'llama_cpp', 'numpy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_agent_is_loaded_on_first_use() -> None:
    from agentvlm.agent import Agent

    assert agentvlm.Agent is Agent
