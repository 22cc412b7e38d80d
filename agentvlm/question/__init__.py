"""Question analysis and answer forms: what the question asks, understood once, and the form its answer must take."""

from agentvlm.question.analysis import FORMS, TEXT_BEARING, Question, Target, accept_form, analyze

__all__ = ["FORMS", "TEXT_BEARING", "Question", "Target", "accept_form", "analyze"]
