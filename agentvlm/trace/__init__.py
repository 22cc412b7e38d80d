"""Visual traces of answers: annotated images, JSON traces and self-contained HTML reports."""

from __future__ import annotations

from agentvlm.trace.annotate import COLORS, TraceFiles, annotate, write_trace, zoom_regions
from agentvlm.trace.report import ReportTurn, render_report, session_report

__all__ = ["COLORS", "ReportTurn", "TraceFiles", "annotate", "render_report", "session_report", "write_trace", "zoom_regions"]
