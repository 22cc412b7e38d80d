"""Evidence programs: a small LLM writes one typed operation, code runs it on the evidence.

VisProg and ViperGPT answer visual questions with programs from large code
models; here a 135M model fills a tiny JSON form under a grammar (``Program``),
rules repair what contradicts the question, and ``execute`` computes the answer
from boxes, masks and OCR lines, citing evidence ids. See README "Evidence programs".
"""

from __future__ import annotations

from agentvlm.programs.answers import phrase
from agentvlm.programs.executor import Result, execute, find, relation_holds, resolve
from agentvlm.programs.language import Program, relation_in
from agentvlm.programs.node import make_program, program_or_reason, run_program
from agentvlm.programs.planner import llm_program, plan_program, repair, rules_program

__all__ = [
    "Program",
    "Result",
    "execute",
    "find",
    "llm_program",
    "make_program",
    "phrase",
    "plan_program",
    "program_or_reason",
    "relation_holds",
    "relation_in",
    "repair",
    "resolve",
    "rules_program",
    "run_program",
]
