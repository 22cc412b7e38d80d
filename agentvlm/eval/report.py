"""Summaries and Markdown tables of an evaluation: every graph beside each baseline, per dataset and category.

Plain accuracy counts each item once, with its options in the dataset's order. Circular
accuracy (MMBench CircularEval) counts a multiple-choice item only if every rotation of
its options was answered right, which removes the credit a model gets for always
answering the same letter. Pair accuracy (MMVP) counts a ``pair_id`` group only if every
item in it is right. ``form_ok`` is the share of answers of the form the item asks for
(``agentvlm.eval.scoring.answer_has_form``), right or wrong.

Each system's answers are also split by ``basis`` (what decided them: a program, the
evidence, the VLM, the LLM's words or a guess), with the VLM's calls per question and, for
the first graph beside ``novlm`` (itself without its VLM), the seconds the VLM adds.

Where items have several parts, each system also gets ``multipart``: all parts right and per
part, overall, by number of parts and by dependence (``agentvlm.eval.multipart``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean, median
from typing import Any

from agentvlm.eval.dataset import EvalItem
from agentvlm.eval.scoring import chance
from agentvlm.eval.systems import BASELINES

__all__ = ["BASES", "added_seconds", "by_basis", "multipart_stats", "render_report", "shown_bases", "summarize"]

BASES = ("program", "evidence", "vlm", "model", "guess")
DECIDED = ("program", "evidence")  # the bases that claim a measurement decided the answer


def _mean(values: Sequence[float]) -> float | None:
    return round(mean(values), 4) if values else None


def _stats(items: Sequence[EvalItem], rows: dict[tuple[str, int], dict[str, Any]], circular: bool) -> dict[str, Any]:
    firsts = [rows[(it.key, 0)] for it in items if (it.key, 0) in rows]
    out: dict[str, Any] = {
        "n": len(firsts), "accuracy": _mean([float(r["correct"]) for r in firsts]),
        "form_ok": _mean([float(r.get("form_ok", True)) for r in firsts]),
    }
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


def by_basis(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per basis (and ``program+evidence``): answers, their share of all answers (coverage) and accuracy.

    An answer marked ``program`` or ``evidence`` claims a measurement decided it; the
    accuracy of those answers is the precision of that claim. Rows without a basis
    (baselines, runs recorded before it was) are left out; empty when none has one.
    """
    firsts = [r for r in rows if int(r.get("rotation", 0)) == 0 and r.get("basis")]
    if not firsts:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, wanted in [*((b, (b,)) for b in BASES), ("program+evidence", DECIDED)]:
        mine = [r for r in firsts if r["basis"] in wanted]
        out[name] = {"n": len(mine), "coverage": _mean([float(r["basis"] in wanted) for r in firsts]),
                     "accuracy": _mean([float(r["correct"]) for r in mine])}
    return out


def shown_bases(summary: dict[str, Any]) -> list[str]:
    """The bases worth a row in the report and the plot: those some system's answers have,
    ``vlm`` whenever a VLM is configured (none of its answers is a finding), and ``program+evidence``."""
    tables = [s["by_basis"] for s in summary["systems"].values() if s.get("by_basis")]
    keys = list(dict.fromkeys(k for t in tables for k in t))
    return [k for k in keys if k == "program+evidence" or any(t[k]["n"] for t in tables)
            or (k == "vlm" and "vlm" in summary["models"])]


def added_seconds(rows: dict[tuple[str, int], dict[str, Any]], base: dict[tuple[str, int], dict[str, Any]]) -> float | None:
    """Mean seconds per question that ``rows`` took over ``base`` on the tasks both answered without error."""
    both = [rows[k]["seconds"] - base[k]["seconds"] for k in rows.keys() & base.keys()
            if not rows[k].get("error") and not base[k].get("error")]
    return _mean(both)


def _median_vlm_calls(rows: Sequence[dict[str, Any]]) -> float | None:
    """Median VLM calls per question; rows recorded before ``vlm_calls`` existed are left out."""
    calls = [r["vlm_calls"] for r in rows if "vlm_calls" in r]
    return float(median(calls)) if calls else None


def _figures(scored: Sequence[list[float]]) -> dict[str, Any]:
    pooled = [s for item in scored for s in item]
    return {"n": len(scored), "all_right": _mean([float(all(s == 1.0 for s in item)) for item in scored]),
            "per_part": _mean(pooled), "parts": len(pooled)}


def multipart_stats(items: Sequence[EvalItem], rows: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any] | None:
    """One system's figures on the multi-part items it answered, ``None`` where the items have none.

    ``all_right``: the share of items with every part right; ``per_part``: the share of all
    their parts right; ``n``: items answered; ``parts``: their parts. The same under
    ``by_parts`` ("2", "3"...) and ``by_dependence`` (``dependent``, ``independent``).
    """
    multi = [it for it in items if it.parts]
    if not multi:
        return None
    scored = {it.key: rows[(it.key, 0)].get("part_scores") for it in multi if (it.key, 0) in rows}
    answered = [(it, s) for it in multi if isinstance(s := scored.get(it.key), list)]
    by_parts: dict[str, list[list[float]]] = {}
    by_dependence: dict[str, list[list[float]]] = {}
    for it, s in sorted(answered, key=lambda pair: len(pair[0].parts)):
        by_parts.setdefault(str(len(it.parts)), []).append(s)
    for it, s in answered:
        by_dependence.setdefault("dependent" if it.depends else "independent", []).append(s)
    return {
        **_figures([s for _, s in answered]), "items": len(multi),
        "by_parts": {k: _figures(v) for k, v in by_parts.items()},
        "by_dependence": {k: _figures(by_dependence[k]) for k in ("dependent", "independent") if k in by_dependence},
    }


def multipart_table(summary: dict[str, Any]) -> list[str]:
    """The report's section on multi-part items: per system, all of them, by number of parts and by dependence."""
    systems = {name: s["multipart"] for name, s in summary["systems"].items() if s.get("multipart")}
    if not systems:
        return []
    lines = [
        "", "## Multi-part questions", "",
        ("An item counts as right only when every part is right (all parts right); per part: the share of all "
         "their parts right. A graph's answer with one text per part is scored part by part; a single text "
         "(baselines, graphs without parts) is cut on \";\" and newlines, and a part is right if any segment is "
         "right for it, or the whole text when it has fewer segments than parts: generous to single texts."), "",
        "| system | items | n | all parts right % | per part % |", "|---|---|---|---|---|",
    ]
    for name, m in systems.items():
        groups = [("all", m), *((f"{k} parts", v) for k, v in m["by_parts"].items()), *m["by_dependence"].items()]
        lines += [f"| {name} | {label} | {g['n']} | {_pct(g['all_right'])} | {_pct(g['per_part'])} |" for label, g in groups]
    return lines


def _chance(items: Sequence[EvalItem]) -> float | None:
    values = [c for it in items if (c := chance(it.answer_type, it.choices)) is not None]
    return _mean(values) if values and len(values) == len(items) else None


def summarize(
    rows: Sequence[dict[str, Any]], items: Sequence[EvalItem], *, systems: Sequence[str], models: dict[str, str],
    circular: bool, complete: bool, split: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of a run: top-level keys describe the first graph, ``systems`` every system compared.

    ``systems`` are the names in report order, graphs first (the first is the main one), then baselines.
    """
    order = list(dict.fromkeys(systems))
    by_system: dict[str, dict[tuple[str, int], dict[str, Any]]] = {name: {} for name in order}
    for r in rows:
        name = r.get("system") or r.get("baseline") or order[0]
        by_system.setdefault(name, {})[(f"{r['dataset']}/{r['id']}", int(r["rotation"]))] = r
    groups = {
        "datasets": {ds: [it for it in items if it.dataset == ds] for ds in dict.fromkeys(it.dataset for it in items)},
        "categories": {c: [it for it in items if it.category == c] for c in sorted({it.category for it in items})},
    }
    stats_of: dict[str, Any] = {}
    for name, mine in by_system.items():
        stats = _stats(items, mine, circular)
        asked = list(mine.values())
        stats.update(
            questions_asked=len(asked),
            errors=sum(1 for r in asked if r.get("error")),
            mean_seconds=_mean([r["seconds"] for r in asked]),
            mean_model_calls=_mean([r["model_calls"] for r in asked]),
            mean_tool_calls=_mean([r["tool_calls"] for r in asked]),
            median_vlm_calls=_median_vlm_calls(asked),
            mean_vlm_calls=_mean([r["vlm_calls"] for r in asked if "vlm_calls" in r]),
            by_basis=by_basis(asked),
            per_category={c: _stats(v, mine, circular) for c, v in groups["categories"].items()},
            per_dataset={ds: _stats(v, mine, circular) for ds, v in groups["datasets"].items()},
        )
        if (multi := multipart_stats(items, mine)) is not None:
            stats["multipart"] = multi
        stats_of[name] = stats
    main = stats_of[order[0]]
    if "novlm" in by_system:  # the first graph without its VLM: the difference is what the VLM costs
        main["added_seconds_vs_novlm"] = added_seconds(by_system[order[0]], by_system["novlm"])
    return {
        "graph": order[0], "graphs": [s for s in order if s not in BASELINES],
        "baselines": [s for s in order if s in BASELINES], "models": models, "complete": complete,
        "circular": circular, "split": split, "n": len(items), "chance": _chance(items),
        "accuracy": main["accuracy"], "circular_accuracy": main.get("circular_accuracy"), "form_ok": main["form_ok"],
        "per_category": {c: s["accuracy"] for c, s in main["per_category"].items()},
        "mean_seconds": main["mean_seconds"], "mean_model_calls": main["mean_model_calls"],
        "mean_tool_calls": main["mean_tool_calls"], "by_basis": main["by_basis"],
        **({"multipart": main["multipart"]} if "multipart" in main else {}),
        "chance_by": {kind: {k: _chance(v) for k, v in g.items()} for kind, g in groups.items()},
        "n_by": {kind: {k: len(v) for k, v in g.items()} for kind, g in groups.items()},
        "systems": stats_of,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _groups(summary: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """The table's rows as (label, kind, name, n): all items, each dataset, each category.

    A category holding exactly one dataset's items under the dataset's name is that row again, so it is left out.
    """
    n_by = summary["n_by"]
    rows = [("all", "all", "all", summary["n"])]
    rows += [(f"dataset {d}", "datasets", d, n) for d, n in n_by["datasets"].items()]
    rows += [(f"category {c}", "categories", c, n) for c, n in n_by["categories"].items()
             if n_by["datasets"].get(c) != n]
    return rows


def _table(summary: dict[str, Any]) -> list[str]:
    systems = summary["systems"]
    names, baselines, main = list(systems), summary["baselines"], summary["graph"]
    circ = summary["circular"]
    head = ["items", "n", "chance", *names, *[f"uplift vs {b}" for b in baselines]]
    head += [f"{s} circular" for s in names] if circ else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    key = {"datasets": "per_dataset", "categories": "per_category"}
    for label, kind, group, n in _groups(summary):
        stats = {s: systems[s] if kind == "all" else systems[s][key[kind]].get(group, {}) for s in names}
        chance_of = summary["chance"] if kind == "all" else summary["chance_by"][kind][group]
        answered = stats[main].get("n", 0)
        cells = [label, str(n) if answered == n else f"{answered}/{n}", _pct(chance_of)]
        cells += [_pct(stats[s].get("accuracy")) for s in names]
        for b in baselines:
            a, other = stats[main].get("accuracy"), stats[b].get("accuracy")
            cells.append("–" if a is None or other is None else f"{100 * (a - other):+.1f}")
        if circ:
            cells += [_pct(stats[s].get("circular_accuracy")) for s in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _split_line(split: dict[str, Any] | None) -> str:
    if split is None:
        return "Split: none, every item (pass --split dev or --split test)."
    return f"Split: {split['name']}, before --limit: " + "; ".join(split["decided_by"]) + "."


_BASELINE_MEANS = {
    "blind": "the reasoning LLM without the image",
    "vlm": "the VLM answering directly",
    "novlm": "{graph} with its VLM switched off",
}


def _legend(summary: dict[str, Any]) -> str:
    means = [f"{b} = {_BASELINE_MEANS[b].format(graph=summary['graph'])}" for b in summary["baselines"] if b in _BASELINE_MEANS]
    return f"Baselines: {'; '.join(means)}." if means else ""


def _vlm_table(summary: dict[str, Any]) -> list[str]:
    """The VLM's calls per question and, for the first graph beside novlm, the seconds it adds."""
    systems = summary["systems"]
    if "vlm" not in summary["models"] and not any(s.get("mean_vlm_calls") for s in systems.values()):
        return []
    lines = [
        "", "## The VLM's part", "",
        ("VLM calls per question asked (the trace's model calls made to the VLM); added seconds: the mean, over "
        "questions both answered, of this system's seconds minus novlm's (the same graph without its VLM)."), "",
        "| system | median VLM calls | mean VLM calls | seconds | added seconds vs novlm |", "|---|---|---|---|---|",
    ]
    for name, s in systems.items():
        med, avg, added = s.get("median_vlm_calls"), s.get("mean_vlm_calls"), s.get("added_seconds_vs_novlm")
        lines.append(
            f"| {name} | {'–' if med is None else f'{med:g}'} | {'–' if avg is None else f'{avg:.2f}'} "
            f"| {s['mean_seconds'] or 0:.2f} | {'–' if added is None else f'{added:+.2f}'} |"
        )
    return lines


def render_report(summary: dict[str, Any], *, plot: str | None = None) -> str:
    """``report.md``: accuracy (percent) per system for all items, each dataset and each category, then cost,
    answers by basis (with ``plot``, the file name of their SVG chart beside the report), the VLM's part and,
    where items have several parts, each system's multi-part figures."""
    systems = summary["systems"]
    names, baselines, main = list(systems), summary["baselines"], summary["graph"]
    models = ", ".join(f"{k} {v}" for k, v in summary["models"].items())
    title = ", ".join(summary["graphs"]) + (f" beside {', '.join(baselines)}" if baselines else "")
    accuracy = ", ".join(f"{s} {_pct(systems[s]['accuracy'])}%" for s in names)
    lines = [
        f"# Evaluation: {title}",
        "",
        (f"{summary['n']} items; models: {models}; circular: {'yes' if summary['circular'] else 'no'}"
         f"{'' if summary['complete'] else '; INCOMPLETE (rerun with the same --out to finish)'}."),
        _split_line(summary.get("split")),
        f"Accuracy: {accuracy}" + (f" (chance {_pct(summary['chance'])}%)." if summary["chance"] is not None else ".")
        + (f" Uplift: {main} minus each baseline, in points." if baselines else ""),
        *([legend] if (legend := _legend(summary)) else []),
        "",
        "## Accuracy (%)",
        "",
        *_table(summary),
        "",
        "## Cost and answer form per question asked",
        "",
        "| system | questions | seconds | model calls | tool calls | right form % | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in systems.items():
        lines.append(
            f"| {name} | {s['questions_asked']} | {s['mean_seconds'] or 0:.2f} | {s['mean_model_calls'] or 0:.2f} "
            f"| {s['mean_tool_calls'] or 0:.2f} | {_pct(s['form_ok'])} | {s['errors']} |"
        )
    based = {n: s["by_basis"] for n, s in systems.items() if s.get("by_basis")}
    if based:
        lines += [
            "", "## Accuracy by basis (what decided the answer)", "",
            ("Coverage: the share of a system's answers with that basis; accuracy: how often those were right. "
            "An answer marked program or evidence claims a measurement decided it: its accuracy is that claim's precision; "
            "vlm: the VLM's answer, put in the question's form, is the answer. Bases no answer has are left out (vlm stays where a VLM is configured)."), "",
            "| system | basis | n | coverage % | accuracy % |", "|---|---|---|---|---|",
        ]
        shown = shown_bases(summary)
        lines += [f"| {n} | {b} | {table[b]['n']} | {_pct(table[b]['coverage'])} | {_pct(table[b]['accuracy'])} |"
                  for n, table in based.items() for b in shown]
        unbased = [n for n in names if n not in based]
        if unbased:
            lines += ["", f"No basis recorded for: {', '.join(unbased)}."]
        if plot:
            lines += ["", f"![Coverage and accuracy by basis, per system]({plot})"]
    lines += _vlm_table(summary)
    lines += multipart_table(summary)
    extra = [f"{n}: pair accuracy {_pct(s['pair_accuracy'])}% over {s['pairs']} pairs"
             for n, s in systems.items() if "pair_accuracy" in s]
    extra += [f"{n}: ANLS {s['anls']:.3f}" for n, s in systems.items() if "anls" in s]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"
