"""One self-contained HTML page per session: questions, answers, annotated images, steps.

Everything the page needs is inside it (images as base64 data URIs, styles inline),
so it can be mailed or attached to a bug report. All text is escaped by Jinja's
autoescape: questions, answers and OCR text are untrusted.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from agentvlm.types import Answer

__all__ = ["ReportTurn", "answer_from_state", "render_report", "session_report"]

_MAX_WIDTH = 1000  # annotated images are scaled down to this width in the page


class ReportTurn(BaseModel):
    """One turn as the report shows it."""

    n: int
    conversation: int = 1
    question: str
    answer: Answer | None = None
    images: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.answer is not None


def answer_from_state(values: dict[str, Any], *, graph: str = "") -> Answer:
    """The ``Answer`` a finished turn's checkpointed state holds, as ``Agent`` builds it (``graph.state.answer_of``)."""
    from agentvlm.graph.state import answer_of

    return answer_of(values, graph=graph)


def _data_uri(rgb: Any) -> str:
    import cv2

    h, w = rgb.shape[:2]
    if w > _MAX_WIDTH:
        rgb = cv2.resize(rgb, (_MAX_WIDTH, round(h * _MAX_WIDTH / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise OSError("could not encode an annotated image as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _turn(n: int, conversation: int, values: dict[str, Any], graph: str) -> ReportTurn:
    from agentvlm.errors import ImageError
    from agentvlm.trace.annotate import annotate

    question = str(values.get("question", ""))
    if not values.get("answer"):
        return ReportTurn(n=n, conversation=conversation, question=question, notes=["cancelled or interrupted before it was answered"])
    answer = answer_from_state(values, graph=graph)
    turn = ReportTurn(n=n, conversation=conversation, question=question, answer=answer)
    for k, ref in enumerate(answer.images):
        try:
            turn.images.append(_data_uri(annotate(answer, k)))
        except (OSError, ImageError) as exc:
            turn.notes.append(f"image {k + 1} ({ref.path}) could not be drawn: {exc}")
    return turn


def session_report(name: str, *, store: Any = None) -> str:
    """The HTML report of session ``name`` (every conversation in it, every turn)."""
    from agentvlm.sessions import CHAT_THREAD, SessionStore, open_saver, turns

    store = store or SessionStore()
    folder = store.require(name)
    meta = store.read_meta(name)
    graph = str(meta.get("graph", ""))
    saver = open_saver(folder / "session.sqlite")
    try:
        out: list[ReportTurn] = []
        for c, thread in enumerate(meta.get("threads") or [CHAT_THREAD], start=1):
            for turn, values in turns(saver, thread, with_values=True):
                out.append(_turn(turn.n, c, values, graph))
    finally:
        saver.conn.close()
    return render_report(f"agentvlm session {name}", out, subtitle=f"graph {graph or '?'} · {folder}")


def render_report(title: str, turns: list[ReportTurn], *, subtitle: str = "") -> str:
    """Render the report template (``report.html.j2``, autoescaped) for ``turns``."""
    import jinja2

    from agentvlm.trace.annotate import COLORS

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("agentvlm", "trace"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    legend = {kind: "#{:02x}{:02x}{:02x}".format(*rgb) for kind, rgb in COLORS.items()}
    return template.render(
        title=title,
        subtitle=subtitle,
        turns=turns,
        legend=legend,
        generated=dt.datetime.now().isoformat(timespec="seconds"),
    )
