"""Every answer the default graph gives on the test parts has the form its question asks.

Runs ``auto`` through the evaluation harness over the test half of our natural-question
set and of the shared BLINK spatial-relation items, and checks each prediction with the
scorer's own, independent form check (``answer_has_form``), not with the graph's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentvlm.config import Config
from agentvlm.eval.runner import run_eval

pytestmark = pytest.mark.slow

NATURAL = Path(__file__).resolve().parents[1] / "examples" / "natural" / "questions.jsonl"


def _rows(out: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines() if line.strip()]


def test_every_natural_test_answer_has_its_form(tmp_path: Path) -> None:
    run = run_eval([NATURAL], Config(), out=tmp_path / "natural", graphs=["auto"], split="test")
    rows = _rows(tmp_path / "natural")
    assert len(rows) == run.ran >= 130  # 133 since sign_stationery_box.jpg moved to dev (examples/natural/README.md)
    wrong = [(r["id"], r["category"], r["prediction"]) for r in rows if not r["form_ok"]]
    # Measured on the test part: 4 of 142 answers lack their form (nat-185 is read as a reading question and
    # answers the text read, not a number; nat-208 and nat-273 answer a place question with a position; nat-237
    # answers a yes/no question with an option). They are left as measured: a rule written after reading a test
    # item's failure would be tuning on the test part. This guards against more.
    assert len(wrong) <= 4, wrong


def test_every_blink_spatial_test_answer_is_a_letter(tmp_path: Path, evaldata: Path) -> None:
    data = evaldata / "blink_spatial_relation" / "questions.jsonl"
    run_eval([data], Config(), out=tmp_path / "blink", graphs=["auto"], split="test")
    rows = _rows(tmp_path / "blink")
    assert len(rows) >= 60
    assert all(r["form_ok"] for r in rows), [(r["id"], r["prediction"]) for r in rows if not r["form_ok"]]
