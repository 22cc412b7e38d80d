"""``basis.svg``: each system's answers by basis as bars, coverage beside accuracy, in plain SVG.

One block per system (in report order), one row per basis the report shows: a filled bar for coverage (the
share of the system's answers with that basis) and a light, outlined bar for accuracy (how often
those answers were right), both on a 0-100 % scale. Hand-written SVG, so the report needs
no plotting library and the file opens in any browser or Markdown viewer.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from agentvlm.eval.report import shown_bases

__all__ = ["basis_svg"]

_WIDTH, _LABEL, _BAR, _ROW, _HEAD = 640, 170, 180, 22, 28
_COVERAGE, _ACCURACY = "#4c78a8", "#f58518"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _bar(x: float, y: float, value: float | None, colour: str, filled: bool) -> list[str]:
    """One bar of ``value`` (0-1) at (x, y) with its figure after it; ``None`` (no answers) draws only the figure."""
    width = _BAR * (value or 0.0)
    opacity = "1" if filled else "0.35"
    out = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{_BAR}" height="14" fill="#f2f2f2"/>']
    if value:
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="14" fill="{colour}" fill-opacity="{opacity}" '
                   f'stroke="{colour}" stroke-width="1.5"/>')
    out.append(f'<text x="{x + _BAR + 4:.1f}" y="{y + 11:.1f}">{_pct(value)}</text>')
    return out


def basis_svg(summary: dict[str, Any]) -> str | None:
    """The chart of every system's ``by_basis`` table in ``summary``, or ``None`` when no answer has a basis.

    Example:
        >>> table = {"vlm": {"n": 3, "coverage": 0.75, "accuracy": 2 / 3}}
        >>> summary = {"models": {"vlm": "openai:m@http://h/v1"}, "systems": {"auto": {"by_basis": table}}}
        >>> basis_svg(summary).startswith("<svg")
        True
    """
    based = {name: s["by_basis"] for name, s in summary["systems"].items() if s.get("by_basis")}
    if not based:
        return None
    shown = shown_bases(summary)
    body: list[str] = []
    y = 44.0
    for name, table in based.items():
        body.append(f'<text x="8" y="{y + 14:.1f}" font-weight="bold">{escape(name)}</text>')
        y += _HEAD
        for basis in shown:
            v = table[basis]
            body.append(f'<text x="20" y="{y + 11:.1f}">{escape(basis)} (n={int(v["n"])})</text>')
            body += _bar(_LABEL, y, v["coverage"], _COVERAGE, True)
            body += _bar(_LABEL + _BAR + 50, y, v["accuracy"], _ACCURACY, False)
            y += _ROW
        y += 8
    height = int(y + 8)
    legend = [
        '<text x="8" y="18" font-weight="bold">Answers by basis: what decided them</text>',
        f'<rect x="{_LABEL}" y="26" width="12" height="10" fill="{_COVERAGE}"/>',
        f'<text x="{_LABEL + 16}" y="35">coverage (share of answers)</text>',
        f'<rect x="{_LABEL + _BAR + 50}" y="26" width="12" height="10" fill="{_ACCURACY}" fill-opacity="0.35" stroke="{_ACCURACY}" stroke-width="1.5"/>',
        f'<text x="{_LABEL + _BAR + 66}" y="35">accuracy of those answers</text>',
    ]
    return "\n".join([
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" '
        'font-family="sans-serif" font-size="12">'),
        f'<rect width="{_WIDTH}" height="{height}" fill="white"/>',
        *legend, *body, "</svg>",
    ]) + "\n"
