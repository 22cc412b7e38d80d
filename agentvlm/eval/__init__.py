"""The evaluation harness: score a graph and its baselines on benchmark data in one run.

``agentvlm eval DATASET.jsonl`` on the command line, ``run_eval`` in Python.
"""

from __future__ import annotations

from agentvlm.eval.dataset import EvalItem, EvalPart, load_dataset, select
from agentvlm.eval.runner import EvalRun, run_eval
from agentvlm.eval.scoring import Score, score_answer

__all__ = ["EvalItem", "EvalPart", "EvalRun", "Score", "load_dataset", "run_eval", "score_answer", "select"]
