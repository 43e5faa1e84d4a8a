"""The report page: what a run removed, as one self-contained HTML file.

People judge a cleaner by looking at what it removed. The page sums it up (documents, lines
and characters removed, by rule family, language and source, and the settings that decided
it) and then shows the sampled documents line by line: removed lines struck through in
their rule family's colour, the model's score in each line's hover title, and filters for
the lines worth auditing. It needs nothing but the file: styles and script are inline and
no address is ever loaded; every piece of document text is escaped.
"""

from __future__ import annotations

import dataclasses
import html
from collections import Counter
from collections.abc import Sequence
from importlib import resources

from cleaner import __version__
from cleaner.errors import InputError
from cleaner.io import display_name, open_output, write_all
from cleaner.pipeline import Cleaner
from cleaner.removals import (
    NEAR,
    NONE,
    OTHER,
    Document,
    Removals,
    Tally,
    near_threshold,
    removed_by_model,
)
from cleaner.stats import Stats
from cleaner.types import Decision, Stage

SHOWN_GROUPS = 20
"""Values of a group field charted one by one; the rest are charted together."""

PALETTE_SIZE = 12  # colours .c0 to .c11 in report.css; the model's removals have .cm
MODEL_CATEGORY = "model"


def settings_of(cleaner: Cleaner) -> list[tuple[str, str]]:
    """What decided the removals: model, threshold, smoothing, rules, languages."""
    cfg = cleaner.config
    model = cleaner.model
    rules = ["built-in"] if cfg.builtin_rules else []
    rows = [("rules", ", ".join(rules + list(cfg.rules)) or "none"),
            ("phrase languages", ", ".join(cfg.langs) if cfg.langs else "all")]
    if model is None:
        return [("model", "none (rules only)"), *rows]
    smoothing = cleaner.judge.smoothing
    rows[:0] = [("model", str(getattr(model, "name", type(model).__name__))),
                ("threshold", f"{cleaner.threshold:.3f} (a line scored above it goes)")]
    if smoothing is not None:
        rows.insert(2, ("smoothing", ", ".join(
            f"{f.name.replace('_', ' ')} {getattr(smoothing, f.name)}"
            for f in dataclasses.fields(smoothing))))
    return rows


def render(removals: Removals, settings: Sequence[tuple[str, str]], inputs: Sequence[str],
           stats: Stats | None = None) -> bytes:
    """The page, UTF-8 encoded; a byte that could not be decoded from the input shows as
    its escape (``\\udcff``)."""
    colours = _colours(removals.by_category)
    sample = removals.sample
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>cleaner report: {removals.total.documents:,} documents</title>\n"
        f"<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n",
        _header(removals, inputs),
        _summary(removals, settings, colours, stats),
        _documents(removals, sample, colours),
        f"<script>\n{_asset('report.js')}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts).encode("utf-8", "backslashreplace")


def write_report(path: str, removals: Removals, cleaner: Cleaner, inputs: Sequence[str],
                 stats: Stats | None = None) -> None:
    """Render the page and write it to ``path`` atomically (never half a page); an error
    is an InputError naming the file."""
    page = render(removals, settings_of(cleaner), [display_name(name) for name in inputs],
                  stats)
    try:
        with open_output(path) as sink:
            write_all(sink, page)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None


def _asset(name: str) -> str:
    return (resources.files("cleaner") / "data" / "report" / name).read_text("utf-8")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _colours(by_category: Counter[str]) -> dict[str, str]:
    """A CSS class per rule family: by name, so that a family keeps its colour as long as
    the same families occur; the model's removals have their own."""
    families = sorted(c for c in by_category if c != MODEL_CATEGORY)
    colours = {c: f"c{i % PALETTE_SIZE}" for i, c in enumerate(families)}
    colours[MODEL_CATEGORY] = "cm"
    return colours


def _bar(fraction: float, colour: str = "") -> str:
    width = min(max(fraction, 0.0), 1.0) * 100
    return (f'<span class="bar"><span class="fill {colour}" '
            f'style="width:{width:.1f}%"></span></span>')


def _header(removals: Removals, inputs: Sequence[str]) -> str:
    shown = ", ".join(inputs[:5]) + (f" and {len(inputs) - 5} more" if len(inputs) > 5 else "")
    return (f"<header>\n<h1>What cleaner removed</h1>\n<p class=\"sub\">"
            f"{removals.total.documents:,} documents from {_e(shown)} · cleaner "
            f"{_e(__version__)}</p>\n</header>\n")


def _summary(removals: Removals, settings: Sequence[tuple[str, str]],
             colours: dict[str, str], stats: Stats | None) -> str:
    total = removals.total
    by_stage = removals.by_stage
    records = ""
    if stats is not None and (stats.records_skipped or stats.records_unchanged):
        records = (f"bad records left out: {stats.records_skipped:,} skipped, "
                   f"{stats.records_unchanged:,} passed through unchanged")
    near = ("no model" if removals.threshold is None
            else f"lines kept with a score of {removals.threshold - NEAR:.3f} or more")
    cards = [
        ("documents", f"{total.documents:,}", records),
        ("lines removed", f"{total.removed_lines:,}",
         f"of {total.lines:,} non-blank lines ({_pct(total.removed_lines, total.lines)})"),
        ("characters removed", f"{total.removed_chars:,}",
         f"of {total.chars:,} ({_pct(total.removed_chars, total.chars)})"),
        ("removed by rules", f"{by_stage[Stage.RULE.value]:,}", "lines"),
        ("removed by the model", f"{removals.model_removed:,}",
         f"lines ({by_stage[Stage.SMOOTHING.value]:,} by smoothing, with their block)"),
        ("kept near the threshold", f"{removals.near:,}", near),
    ]
    out = ["<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n"]
    out += [f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{v}</div>'
            f'<div class="d">{d}</div></div>\n' for k, v, d in cards]
    out.append("</div>\n")
    out.append(_families(removals.by_category, colours))
    for field, title in (("lang", "language"), ("source", "source")):
        counts = removals.groups[field]
        if any(value != NONE for value in counts):
            out.append(_groups(counts, field, title))
    out.append("<h3>Settings</h3>\n<dl class=\"settings\">\n")
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>\n" for k, v in settings]
    out.append("</dl>\n</section>\n")
    return "".join(out)


def _families(by_category: Counter[str], colours: dict[str, str]) -> str:
    """Removed lines per rule family, as bars in the family's colour."""
    if not by_category:
        return "<h3>Removed lines by rule family</h3>\n<p class=\"note\">Nothing removed.</p>\n"
    most = max(by_category.values())
    whole = sum(by_category.values())
    rows = [f'<tr><th><span class="swatch {colours.get(c, "")}"></span>{_e(c)}</th>'
            f"<td>{_bar(n / most, colours.get(c, ''))}</td>"
            f'<td class="num">{n:,}</td><td class="num">{_pct(n, whole)}</td></tr>\n'
            for c, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ("<h3>Removed lines by rule family</h3>\n<table class=\"chart\">\n"
            "<tr><th>family</th><th></th><th class=\"num\">lines</th>"
            "<th class=\"num\">share</th></tr>\n" + "".join(rows) + "</table>\n")


def _groups(counts: dict[str, Tally], field: str, title: str) -> str:
    """Removed fraction per value of a record field, the most frequent values first."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1].documents, kv[0]))
    shown = ranked[:SHOWN_GROUPS]
    if len(ranked) > SHOWN_GROUPS:
        rest = Tally()
        for _, tally in ranked[SHOWN_GROUPS:]:
            rest += tally
        shown.append((f"{OTHER}: {len(ranked) - SHOWN_GROUPS} more values", rest))
    rows = [f"<tr><th>{_e(value)}</th><td class=\"num\">{t.documents:,}</td>"
            f"<td>{_bar(t.removed_chars / t.chars if t.chars else 0.0)}</td>"
            f'<td class="num">{_pct(t.removed_chars, t.chars)}</td>'
            f'<td class="num">{_pct(t.removed_lines, t.lines)}</td></tr>\n'
            for value, t in shown]
    return (f"<h3>Removed per {_e(title)} (record field <code>{_e(field)}</code>)</h3>\n"
            "<table class=\"chart\">\n<tr><th>value</th><th class=\"num\">documents</th>"
            "<th>characters removed</th><th class=\"num\">characters</th>"
            "<th class=\"num\">lines</th></tr>\n" + "".join(rows) + "</table>\n")


def _documents(removals: Removals, sample: list[Document], colours: dict[str, str]) -> str:
    total = removals.total.documents
    if len(sample) < total:
        note = (f"Showing {len(sample):,} of {total:,} documents, a random sample "
                f"(--seed {removals.seed}; --sample N for more). The summary above counts "
                "all of them.")
    else:
        note = f"Showing all {total:,} documents."
    threshold = removals.threshold
    near_label = ("kept but scored near the threshold" if threshold is None else
                  f"kept but scored {threshold - NEAR:.3f} or more (threshold "
                  f"{threshold:.3f})")
    filters = [("r", "removed lines"), ("m", "removed by the model only"), ("n", near_label)]
    out = ["<section id=\"documents\">\n<h2>Documents</h2>\n",
           f"<p class=\"note\">{_e(note)} Removed lines are struck through in their rule "
           "family's colour; hover a line for its decision and score.</p>\n",
           "<div id=\"filters\">Show only documents with: "]
    out += [f'<label><input type="checkbox" value="{flag}"> {_e(label)}</label> '
            for flag, label in filters]
    out.append('<span id="shown"></span></div>\n')
    out += [_document(doc, threshold, colours) for doc in sample]
    out.append("</section>\n")
    return "".join(out)


def _document(doc: Document, threshold: float | None, colours: dict[str, str]) -> str:
    lines = [_line(d, threshold, colours) for d in doc.decisions]
    flags = "".join(flag for flag, test in (
        ("r", lambda d: not d.kept and bool(d.normalized)),
        ("m", removed_by_model),
        ("n", lambda d: near_threshold(d, threshold)))
        if any(map(test, doc.decisions)))
    labels = "".join(f' <span class="tag">{_e(k)}: {_e(v)}</span>'
                     for k, v in doc.labels.items())
    t = doc.tally
    more = (f'<p class="note">… {doc.hidden_lines:,} more lines not shown (counted above).'
            "</p>\n" if doc.hidden_lines else "")
    head = (f'<h3><span class="name">{_e(doc.name)}</span>{labels}</h3>\n'
            f'<p class="counts">{t.removed_lines:,} of {t.lines:,} lines removed '
            f"({_pct(t.removed_chars, t.chars)} of characters)</p>\n")
    return (f'<article class="doc" id="doc-{doc.index + 1}" data-flags="{flags}">\n{head}'
            f'<div class="lines">\n{"".join(lines)}</div>\n{more}</article>\n')


def _line(d: Decision, threshold: float | None, colours: dict[str, str]) -> str:
    """One line: removed ones as ``<del>``, coloured by rule family, with flags for the
    filters (``m`` removed by the model, ``n`` kept near the threshold)."""
    if not d.normalized:
        return f'<div class="l b" data-n="{d.line_no}"></div>\n'
    if d.kept:
        tag, classes = "div", ["l", "n"] if near_threshold(d, threshold) else ["l"]
    else:
        family = d.category or "other"
        tag, classes = "del", ["l", "r", colours.get(family, "")]
        if removed_by_model(d):
            classes.append("m")
    return (f'<{tag} class="{" ".join(c for c in classes if c)}" data-n="{d.line_no}" '
            f'title="{_e(_why(d, threshold))}">{_e(d.text)}</{tag}>\n')


def _why(d: Decision, threshold: float | None) -> str:
    """A line's decision in words, for its hover title."""
    parts = [f"line {d.line_no}", "kept" if d.kept else "removed",
             f"{d.stage.value}: {d.reason}" if d.reason else d.stage.value]
    if not d.kept and d.category:
        parts.append(f"family {d.category}")
    if d.score is not None:
        parts.append(f"score {d.score:.3f}"
                     + (f" (threshold {threshold:.3f})" if threshold is not None else ""))
    return " · ".join(parts)
