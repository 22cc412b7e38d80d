"""Summaries and Markdown tables of an evaluation: the graph beside each baseline, per dataset and category.

Plain accuracy counts each item once, with its options in the dataset's order. Circular
accuracy (MMBench CircularEval) counts a multiple-choice item only if every rotation of
its options was answered right, which removes the credit a model gets for always
answering the same letter. Pair accuracy (MMVP) counts a ``pair_id`` group only if every
item in it is right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any

from agentvlm.eval.dataset import EvalItem
from agentvlm.eval.scoring import chance

__all__ = ["render_report", "summarize"]


def _mean(values: Sequence[float]) -> float | None:
    return round(mean(values), 4) if values else None


def _stats(items: Sequence[EvalItem], rows: dict[tuple[str, int], dict[str, Any]], circular: bool) -> dict[str, Any]:
    firsts = [rows[(it.key, 0)] for it in items if (it.key, 0) in rows]
    out: dict[str, Any] = {"n": len(firsts), "accuracy": _mean([float(r["correct"]) for r in firsts])}
    mc = [it for it in items if it.answer_type == "multiple_choice_letter"]
    if circular and mc:
        full = [it for it in mc if all((it.key, r) in rows for r in range(len(it.choices)))]
        out["circular_accuracy"] = _mean([float(all(rows[(it.key, r)]["correct"] for r in range(len(it.choices)))) for it in full])
        out["circular_n"] = len(full)
    ocr = [rows[(it.key, 0)]["score"] for it in items if it.answer_type == "ocr" and (it.key, 0) in rows]
    if ocr:
        out["anls"] = _mean(ocr)
    pairs: dict[str, list[bool]] = defaultdict(list)
    for it in items:
        if it.pair_id is not None and (it.key, 0) in rows:
            pairs[f"{it.dataset}/{it.pair_id}"].append(bool(rows[(it.key, 0)]["correct"]))
    if pairs:
        out["pair_accuracy"] = _mean([float(all(v)) for v in pairs.values()])
        out["pairs"] = len(pairs)
    return out


def _chance(items: Sequence[EvalItem]) -> float | None:
    values = [c for it in items if (c := chance(it.answer_type, it.choices)) is not None]
    return _mean(values) if values and len(values) == len(items) else None


def summarize(
    rows: Sequence[dict[str, Any]], items: Sequence[EvalItem], *, graph: str, models: dict[str, str],
    circular: bool, complete: bool,
) -> dict[str, Any]:
    """The figures of a run: top-level keys describe the graph, ``systems`` every system compared."""
    by_system: dict[str, dict[tuple[str, int], dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by_system[r.get("baseline") or "graph"][(f"{r['dataset']}/{r['id']}", int(r["rotation"]))] = r
    by_system.setdefault("graph", {})
    systems: dict[str, Any] = {}
    for name, mine in by_system.items():
        stats = _stats(items, mine, circular)
        asked = list(mine.values())
        per_category: dict[str, Any] = {}
        for cat in sorted({it.category for it in items}):
            per_category[cat] = _stats([it for it in items if it.category == cat], mine, circular)
        per_dataset = {ds: _stats([it for it in items if it.dataset == ds], mine, circular) for ds in dict.fromkeys(it.dataset for it in items)}
        stats.update(
            questions_asked=len(asked),
            errors=sum(1 for r in asked if r.get("error")),
            mean_seconds=_mean([r["seconds"] for r in asked]),
            mean_model_calls=_mean([r["model_calls"] for r in asked]),
            mean_tool_calls=_mean([r["tool_calls"] for r in asked]),
            per_category=per_category,
            per_dataset=per_dataset,
        )
        systems[name] = stats
    groups = {
        "datasets": {ds: [it for it in items if it.dataset == ds] for ds in dict.fromkeys(it.dataset for it in items)},
        "categories": {c: [it for it in items if it.category == c] for c in sorted({it.category for it in items})},
    }
    graph_stats = systems["graph"]
    return {
        "graph": graph, "models": models, "complete": complete, "circular": circular,
        "n": len(items), "chance": _chance(items),
        "accuracy": graph_stats["accuracy"], "circular_accuracy": graph_stats.get("circular_accuracy"),
        "per_category": {c: s["accuracy"] for c, s in graph_stats["per_category"].items()},
        "mean_seconds": graph_stats["mean_seconds"], "mean_model_calls": graph_stats["mean_model_calls"],
        "mean_tool_calls": graph_stats["mean_tool_calls"],
        "chance_by": {kind: {k: _chance(v) for k, v in g.items()} for kind, g in groups.items()},
        "n_by": {kind: {k: len(v) for k, v in g.items()} for kind, g in groups.items()},
        "systems": systems,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _table(summary: dict[str, Any], kind: str, key: str, title: str) -> list[str]:
    systems = summary["systems"]
    names = ["graph", *[s for s in systems if s != "graph"]]
    label = {s: summary["graph"] if s == "graph" else s for s in names}
    circ = summary["circular"]
    head = [title, "n", "chance"] + [label[s] for s in names]
    head += [f"uplift vs {label[s]}" for s in names[1:]]
    if circ:
        head += [f"{label[s]} circular" for s in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group, n in summary["n_by"][kind].items():
        stats = {s: systems[s][key].get(group, {}) for s in names}
        answered = stats["graph"].get("n", 0)
        cells = [group, str(n) if answered == n else f"{answered}/{n}", _pct(summary["chance_by"][kind][group])]
        cells += [_pct(stats[s].get("accuracy")) for s in names]
        for s in names[1:]:
            a, b = stats["graph"].get("accuracy"), stats[s].get("accuracy")
            cells.append("–" if a is None or b is None else f"{100 * (a - b):+.1f}")
        if circ:
            cells += [_pct(stats[s].get("circular_accuracy")) for s in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_report(summary: dict[str, Any]) -> str:
    """``report.md``: accuracy per dataset and per category (percent), then cost per question asked."""
    systems = summary["systems"]
    g = systems["graph"]
    models = ", ".join(f"{k} {v}" for k, v in summary["models"].items())
    lines = [
        f"# Evaluation of graph `{summary['graph']}`",
        "",
        (f"{summary['n']} items; models: {models}; circular: {'yes' if summary['circular'] else 'no'}"
         f"{'' if summary['complete'] else '; INCOMPLETE (rerun with the same --out to finish)'}."),
        (f"Overall accuracy {_pct(g['accuracy'])}% (chance {_pct(summary['chance'])}%)"
         + (f", circular {_pct(g.get('circular_accuracy'))}%" if summary["circular"] else "") + "."),
        "",
        "## Accuracy per dataset (%)",
        "",
        *_table(summary, "datasets", "per_dataset", "dataset"),
        "",
        "## Accuracy per category (%)",
        "",
        *_table(summary, "categories", "per_category", "category"),
        "",
        "## Cost per question asked",
        "",
        "| system | questions | seconds | model calls | tool calls | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in systems.items():
        label = summary["graph"] if name == "graph" else name
        lines.append(
            f"| {label} | {s['questions_asked']} | {s['mean_seconds'] or 0:.2f} | {s['mean_model_calls'] or 0:.2f} "
            f"| {s['mean_tool_calls'] or 0:.2f} | {s['errors']} |"
        )
    extra = [f"{summary['graph'] if n == 'graph' else n}: pair accuracy {_pct(s['pair_accuracy'])}% over {s['pairs']} pairs"
             for n, s in systems.items() if "pair_accuracy" in s]
    extra += [f"{summary['graph'] if n == 'graph' else n}: ANLS {s['anls']:.3f}" for n, s in systems.items() if "anls" in s]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"
