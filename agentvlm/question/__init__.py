"""Question analysis and answer forms: what the question asks, understood once, and the form its answer must take."""

from agentvlm.question.analysis import FORMS, TEXT_BEARING, Question, Target, accept_form, analyze
from agentvlm.question.parts import Part, Split, arithmetic_of, resolve, split_question, valid_split

__all__ = [
    "FORMS",
    "TEXT_BEARING",
    "Part",
    "Question",
    "Split",
    "Target",
    "accept_form",
    "analyze",
    "arithmetic_of",
    "resolve",
    "split_question",
    "valid_split",
]
