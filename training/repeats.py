"""Repetition weights: how much a line's recurrence across a shard moves the model's score.

    python -m training.repeats --data ../shared/data/wcxb.jsonl.gz \\
        --data ../shared/data/fundus.jsonl.gz [--write]

The weights are fitted for a given model (the bundled one by default) on corpora that model
never trained on, so its scores there are what it gives on unseen pages: the wcxb and fundus
corpora for the shipped model, which learned from the dev corpus. Documents are split into
folds by site; each fold's documents of one source and track form a shard, and a
:class:`~cleaner.repeats.RepeatIndex` of that shard alone gives their evidence, so no count
crosses folds. The weights of a logistic regression that keeps the model's logit as a
fixed offset (``logit(p') = logit(p) + evidence @ w``) are fitted on the first pass's scores
of the labelled lines (corrected labels; content weighs :data:`CONTENT_WEIGHT` times more,
each source and track by the square root of its lines).

Measured out of fold, through the real pipeline: each fold is cleaned with weights fitted on
the other folds, with and without the evidence, and each track's threshold is chosen on the
other folds for its retention target (:data:`TARGETS`), so the two are compared at the same
retention. ``--write`` then stores the weights fitted on every fold in the model's manifest
(``"repetition"``), which is what ``--repeats`` uses.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from cleaner.classifier import LineClassifier, bundled_model_path, manifest_path
from cleaner.repeats import FEATURES, RepeatIndex, RepetitionWeights, evidence_matrix
from training.dataset import Doc, add_data_arguments
from training.evaluate import breakdown, print_table
from training.heldout import FOLDS, HeldOut, line_metrics, shards
from training.train import load_docs

TARGETS = {"fullpage": 0.97, "residual": 0.99}  # content retention each track must keep
CONTENT_WEIGHT = 3.0
L2 = 1.0


def shard_folds(docs: Sequence[Doc]) -> list[np.ndarray]:
    """The documents of each fold, split by site (a site's pages share a fold)."""
    ids = np.arange(len(docs))
    return [ids[test] for _, test in
            GroupKFold(n_splits=FOLDS).split(ids, groups=[d.site for d in docs])]


def first_pass_rows(model: LineClassifier, docs: Sequence[Doc],
                    folds: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Per labelled line the model scored in the first pass: its fold, group (source/track),
    label, the model's logit and its evidence within its shard."""
    columns: dict[str, list[Any]] = {"fold": [], "group": [], "label": [], "logit": [],
                                     "evidence": []}
    for k, test in enumerate(folds):
        for shard in shards(docs, test):
            texts = ["\n".join(docs[i].text_lines) for i in shard]
            index = RepeatIndex.build(texts, [docs[i].url for i in shard])
            probs = model.predict([(docs[i].lines, docs[i].cats) for i in shard])
            for i, text, p in zip(shard, texts, probs):
                doc = docs[i]
                rows = np.flatnonzero(~np.isnan(p) & ~np.isnan(doc.labels))
                evidence = evidence_matrix(index.repeats(text, doc.url).at(np.asarray(doc.index)),
                                           np.fromiter(map(len, doc.lines), dtype=np.int64))
                q = np.clip(p[rows], 1e-6, 1 - 1e-6)
                columns["fold"].append(np.full(rows.size, k))
                columns["group"].append(np.full(rows.size, f"{doc.source}/{doc.track}"))
                columns["label"].append(doc.labels[rows])
                columns["logit"].append(np.log(q) - np.log1p(-q))
                columns["evidence"].append(evidence[rows])
    return {name: np.concatenate(parts) for name, parts in columns.items()}


def fit_weights(rows: dict[str, np.ndarray], mask: np.ndarray) -> RepetitionWeights:
    """The offset logistic regression on the rows of ``mask``."""
    x, offset, y = rows["evidence"][mask], rows["logit"][mask], rows["label"][mask]
    sizes = Counter(rows["group"][mask].tolist())
    w = np.array([sizes[g] ** -0.5 for g in rows["group"][mask].tolist()])
    w = np.where(y == 0, w * CONTENT_WEIGHT, w)
    w *= len(w) / w.sum()

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ beta
        value = float((w * (np.logaddexp(0.0, z) - y * z)).sum() + 0.5 * L2 * beta @ beta)
        grad = x.T @ (w * (0.5 * (1.0 + np.tanh(0.5 * z)) - y)) + L2 * beta
        return value, grad

    found = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B")
    return RepetitionWeights(np.asarray(found.x))


def compare(held_out: HeldOut, weights: Sequence[RepetitionWeights]) -> dict[str, Any]:
    """Out-of-fold figures of the pipeline without and with the evidence (``weights``, one
    per fold), per track at its retention target, with the fold models of ``held_out``."""
    report: dict[str, Any] = {}
    for track, target in TARGETS.items():
        members = [i for i, d in enumerate(held_out.docs) if d.track == track]
        if not members:
            continue
        sub = [held_out.docs[i] for i in members]
        where = {i: k for k, i in enumerate(members)}
        folds = [np.array([where[i] for i in test.tolist() if i in where], dtype=np.int64)
                 for test in held_out.folds]
        figures: dict[str, dict[str, Any]] = {}
        for name, repetition in (("without", None), ("with", weights)):
            runs = HeldOut(sub, folds, held_out.models, held_out.smoothing, repetition)
            removed, thresholds = runs.fold_decisions(target)
            metrics = breakdown(sub, removed)
            for group, several in _several_pages(sub).items():
                metrics[f"{group}, sites of several pages"] = line_metrics(sub, removed, several)
            figures[name] = {"fold_thresholds": thresholds, "metrics": metrics}
            print_table(f"{track}, {name} repetition evidence, retention target {target}: "
                        f"fold thresholds {thresholds}", metrics)
        report[track] = figures
    return report


def _several_pages(docs: Sequence[Doc]) -> dict[str, list[int]]:
    """Per source/track, the documents whose site has other pages among ``docs``: where
    repetition has something to count."""
    pages = Counter(d.site for d in docs)
    groups: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        if pages[d.site] > 1:
            groups.setdefault(f"{d.source}/{d.track}", []).append(i)
    return groups


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(ap)
    ap.set_defaults(fixtures="")
    ap.add_argument("--model", type=Path, default=bundled_model_path(),
                    help="the model to fit weights for (default: the bundled one)")
    ap.add_argument("--write", action="store_true",
                    help="store the weights fitted on every fold in the model's manifest")
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = ap.parse_args(argv)
    with threadpool_limits(1):
        return _fit(args.data, args.corrections or None, args.model, args.write, args.json)


def _fit(data: Sequence[str], corrections: str | None, model_file: Path, write: bool,
         json_out: Path | None) -> int:
    docs, digests = load_docs(data, None, corrections)
    if not docs:
        print("no documents", file=sys.stderr)
        return 2
    model = LineClassifier.load(model_file)
    folds = shard_folds(docs)
    rows = first_pass_rows(model, docs, folds)
    per_fold = [fit_weights(rows, rows["fold"] != k) for k in range(len(folds))]
    final = fit_weights(rows, np.ones(rows["fold"].size, dtype=bool))
    print("weights", dict(zip(FEATURES, final.weights.round(3).tolist())), file=sys.stderr)
    held_out = HeldOut(docs, folds, [model.params] * len(folds),
                       model.manifest.get("smoothing") or {})
    report = {"weights": final.as_dict(), "data": digests,
              "out_of_fold": compare(held_out, per_fold)}
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if write:
        path = manifest_path(model_file)
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["repetition"] = {**final.as_dict(), "training_data": digests,
                                  "command": shlex.join(["python", "-m", "training.repeats",
                                                         *sys.argv[1:]])}
        path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
