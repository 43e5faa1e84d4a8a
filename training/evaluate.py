"""Cross-validated quality of the line classifier: out-of-fold figures only.

    python -m training.evaluate --data ../shared/data/dev.jsonl.gz [--oof-out oof.jsonl]

Every document is cleaned by the real pipeline (``cleaner.Cleaner``: rules, model,
smoothing, tables, passes) with a model that never saw its page (``--group page``) or,
stricter, its site (``--group site``); each fold's threshold is chosen on the other folds for
the content-retention target, never on the fold it is reported for. Reports boilerplate
precision, recall and F1 and content retention per track, source/track and language.

``--oof-out`` writes the out-of-fold cleaned texts (JSONL ``{"id", "text"}``, lines removed
by rules or model dropped) of the first grouping, for the corpus scorer::

    python ../shared/eval/score.py ../shared/data/dev.jsonl.gz --jsonl-cmd "cat oof.jsonl"

``--repeats`` also reports, per track at its own retention target (97 % fullpage, 99 %
residual), the same fold models' figures without and with the bundled model's repetition
weights (fitted by :mod:`training.repeats` on other corpora), each fold's documents of one
source and track being a shard indexed on its own: what ``--repeats`` adds, out of fold, at
the same retention.

``--at 0.85`` adds the per-track figures the same out-of-fold scores give at a fixed
threshold: how much more a lower threshold removes, and at what cost in content.

Figures are given twice: by the corrected labels that training uses (see
:mod:`training.dataset`) and by the corpora's original labels. ``--scores-out`` writes each
line's out-of-fold probability (first grouping; JSONL ``{"id", "scores"}``, one per input
line, null for blank lines), which ``python -m training.audit --scores`` ranks labels by.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cleaner.classifier import LineClassifier
from training.dataset import Doc, add_data_arguments
from training.heldout import HeldOut, fit_held_out, line_metrics
from training.train import RETENTION_TARGET, SMOOTHING, Corpus, fit, load_docs

GROUPINGS: dict[str, Callable[[Doc], str]] = {"page": lambda d: d.page, "site": lambda d: d.site}


def cleaned_text(doc: Doc, removed: np.ndarray) -> str:
    """The document's input lines without the ones removed (blank lines stay)."""
    drop = {doc.index[k] for k in np.flatnonzero(removed) if doc.index[k] >= 0}
    return "\n".join(line for i, line in enumerate(doc.text_lines) if i not in drop)


def breakdown(docs: Sequence[Doc], removed: list[np.ndarray],
              original: bool = False) -> dict[str, dict[str, Any]]:
    """Line metrics overall and per track, source/track and language."""
    keys: dict[str, list[int]] = {"ALL": list(range(len(docs)))}
    for i, d in enumerate(docs):
        for key in (f"track={d.track}", f"{d.source}/{d.track}", f"lang={d.lang}"):
            keys.setdefault(key, []).append(i)
    order = sorted(keys, key=lambda k: (k != "ALL", k.startswith("lang="), k))
    return {k: line_metrics(docs, removed, keys[k], original) for k in order}


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:.3f}"


def print_table(title: str, rows: dict[str, dict[str, Any]], file: Any = sys.stdout) -> None:
    """One line per group: labelled lines, boilerplate P/R/F1, content kept."""
    print(f"\n{title}", file=file)
    print(f"{'group':<34} {'boil':>6} {'cont':>6} {'BP-P':>6} {'BP-R':>6} {'BP-F1':>6} "
          f"{'kept':>6}", file=file)
    for name, m in rows.items():
        print(f"{name[:34]:<34} {m['boilerplate_lines']:>6} {m['content_lines']:>6} "
              f"{_fmt(m['bp_precision']):>6} {_fmt(m['bp_recall']):>6} {_fmt(m['bp_f1']):>6} "
              f"{_fmt(m['content_kept']):>6}", file=file)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(ap)
    ap.add_argument("--group", action="append", choices=sorted(GROUPINGS),
                    help="cross-validation grouping (repeatable; default: page, then site)")
    ap.add_argument("--oof-out", type=Path,
                    help="write out-of-fold cleaned texts (first grouping) as JSONL here")
    ap.add_argument("--json", type=Path, help="write all figures as JSON here")
    ap.add_argument("--scores-out", type=Path,
                    help="write out-of-fold line scores (first grouping) as JSONL here")
    ap.add_argument("--repeats", action="store_true",
                    help="also report the figures with repetition evidence (see above)")
    ap.add_argument("--at", type=float, action="append", default=[], metavar="THRESHOLD",
                    help="also report the out-of-fold figures per track at this fixed "
                         "threshold, to show the trade-off (repeatable)")
    args = ap.parse_args(argv)
    with threadpool_limits(1):
        return _evaluate(args.data, args.fixtures or None, args.group or ["page", "site"],
                         args.oof_out, args.json, args.at, args.scores_out,
                         args.corrections or None, args.repeats)


def _evaluate(data: Sequence[str], fixtures: str | None, groupings: Sequence[str],
              oof_out: Path | None, json_out: Path | None,
              fixed: Sequence[float] = (), scores_out: Path | None = None,
              corrections: str | None = None, repeats: bool = False) -> int:
    docs, digests = load_docs(data, fixtures, corrections)
    if not docs:
        print("no documents", file=sys.stderr)
        return 2
    corpus = Corpus.of(docs)
    report: dict[str, Any] = {"data": digests}
    for k, name in enumerate(groupings):
        held_out = fit_held_out(docs, [GROUPINGS[name](d) for d in docs],
                                functools.partial(fit, corpus), SMOOTHING)
        removed, thresholds = held_out.fold_decisions(RETENTION_TARGET)
        rows = breakdown(docs, removed)
        print_table(f"grouped by {name}: fold thresholds {thresholds}", rows)
        original = breakdown(docs, removed, original=True)
        print_table(f"grouped by {name}, original labels", original)
        report[name] = {"fold_thresholds": thresholds, "metrics": rows,
                        "metrics_original_labels": original}
        if repeats:
            report[name]["repeats"] = _with_repeats(held_out)
        for threshold in fixed:
            tracks = {key: m for key, m in breakdown(docs, held_out.run(threshold).removed
                                                     ).items() if key.startswith("track=")}
            print_table(f"grouped by {name}: fixed threshold {threshold}", tracks)
            report[name][f"at {threshold}"] = tracks
        if k == 0 and oof_out is not None:
            with open(oof_out, "w", encoding="utf-8") as f:
                for d, r in zip(docs, removed):
                    f.write(json.dumps({"id": d.id, "text": cleaned_text(d, r)},
                                       ensure_ascii=False) + "\n")
        if k == 0 and scores_out is not None:
            # each document's scores from the run at its own fold's threshold
            with open(scores_out, "w", encoding="utf-8") as f:
                for test, t in zip(held_out.folds, thresholds):
                    run = held_out.run(t)
                    for i in test.tolist():
                        f.write(json.dumps({"id": docs[i].id, "scores": run.scores[i]}) + "\n")
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


def _with_repeats(held_out: HeldOut) -> dict[str, Any]:
    """The held-out figures per track at its retention target (see
    :data:`training.repeats.TARGETS`), without and with the bundled model's repetition
    weights, on the same fold models."""
    from training.repeats import compare  # it reports with this module's tables

    weights = LineClassifier.load().repetition
    if weights is None:
        raise SystemExit("the bundled model has no repetition weights: run "
                         "`python -m training.repeats --write` first")
    return compare(held_out, [weights] * len(held_out.folds))


if __name__ == "__main__":
    sys.exit(main())
