"""Looking with the vision model: a focused question in the answer's form, about the region a tool
located (a crop with a margin) or the whole image, and the policy that lets the tools check the VLM.

``views`` picks what the VLM is shown, ``ask`` is the one way to ask it (one batch, a time
limit, confidences), ``policy`` says who decides when the tools and the VLM both answered,
and ``nodes`` holds the graph steps (``look``, ``describe``, ``ask_vlm``).
"""

from agentvlm.look.ask import Ask, Reply, ask_vlm, confidence, focused_prompt, in_form
from agentvlm.look.policy import SURE, Verdict, same_answer, weigh
from agentvlm.look.views import FOCUSED_FORMS, View, located, views_for, with_margin

__all__ = [
    "FOCUSED_FORMS",
    "SURE",
    "Ask",
    "Reply",
    "Verdict",
    "View",
    "ask_vlm",
    "confidence",
    "focused_prompt",
    "in_form",
    "located",
    "same_answer",
    "views_for",
    "weigh",
    "with_margin",
]
