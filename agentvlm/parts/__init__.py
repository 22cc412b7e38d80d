"""Questions with several parts: split, answer each part from the evidence that decides it, compose.

The ``split`` node splits the question (``agentvlm.question.parts``: rules, the LLM under a
JSON schema where they are unsure); the ``by_parts`` router sends each chain of parts (a part
and those that use its answer) to a ``parts`` task, which runs the single-question graph per
part; ``compose`` joins the answers in the order asked (``Answer.parts``).
"""

from agentvlm.parts.node import by_parts, chains, make_compose, make_parts, make_split

__all__ = ["by_parts", "chains", "make_compose", "make_parts", "make_split"]
