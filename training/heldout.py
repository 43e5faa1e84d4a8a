"""Held-out decisions of the shipped pipeline: every document cleaned by a model that never
saw its group (page or site), through :class:`cleaner.Cleaner` itself.

The model of each fold goes into the real pipeline (``Cleaner(model=...)``): rules, model,
smoothing, tables and the passes to a fixed point decide each line exactly as the command
line would, so the figures measure what ships. A run at one threshold cleans every document
once, with its own fold's model, and is kept: choosing thresholds reads the runs, and a
bisection over :data:`THRESHOLDS` needs a few of them.

With repetition weights (one per fold), each fold's test documents of one source and track
form a shard: a :class:`~cleaner.repeats.RepeatIndex` of that shard alone supplies the
evidence, as a user cleaning that shard with ``--repeats`` would have it, and nothing is
counted across folds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from cleaner import Cleaner
from cleaner.classifier import LineClassifier
from cleaner.repeats import RepeatIndex, RepetitionWeights
from cleaner.types import CleanResult
from training.dataset import Doc

FOLDS = 5
THRESHOLDS = tuple(np.round(np.arange(0.30, 0.996, 0.005), 3).tolist())


@dataclass
class Run:
    """Every document cleaned at one threshold: the lines removed (per view line) and the
    model's last score of each input line (``None`` where it scored none)."""

    removed: list[np.ndarray]
    scores: list[list[float | None]]


@dataclass
class HeldOut:
    """The fold models of a grouped split and their pipeline runs, by threshold."""

    docs: Sequence[Doc]
    folds: list[np.ndarray]  # the documents each fold holds out
    models: list[dict[str, Any]]  # the model fitted without each fold
    smoothing: dict[str, Any]
    # Per fold, the repetition weights its model is given (None: no repetition evidence).
    repetition: Sequence[RepetitionWeights] | None = None
    runs: dict[float, Run] = field(default_factory=dict)

    def run(self, threshold: float) -> Run:
        """The held-out run at ``threshold`` (computed once)."""
        if threshold not in self.runs:
            removed: list[np.ndarray] = [np.zeros(0, dtype=bool)] * len(self.docs)
            scores: list[list[float | None]] = [[] for _ in self.docs]
            for k, (test, params) in enumerate(zip(self.folds, self.models)):
                manifest = {"model_version": "held-out fold", "threshold": threshold,
                            "smoothing": self.smoothing}
                if self.repetition is not None:
                    manifest["repetition"] = self.repetition[k].as_dict()
                cleaner = Cleaner(model=LineClassifier(params, manifest), threshold=threshold)
                for shard in self._shards(test):
                    for i, result in zip(shard, self._clean(cleaner, shard)):
                        removed[i], scores[i] = _view_decisions(self.docs[i], result)
            self.runs[threshold] = Run(removed, scores)
        return self.runs[threshold]

    def _shards(self, test: np.ndarray) -> list[list[int]]:
        """The fold's documents in shards (all of them in one without repetition evidence,
        which needs no shard)."""
        return [test.tolist()] if self.repetition is None else shards(self.docs, test)

    def _clean(self, cleaner: Cleaner, shard: list[int]) -> list[CleanResult]:
        texts = ["\n".join(self.docs[i].text_lines) for i in shard]
        if self.repetition is None:
            return list(cleaner.explain_many(texts))
        urls = [self.docs[i].url for i in shard]
        return list(cleaner.explain_many(texts, repeats=RepeatIndex.build(texts, urls),
                                         sites=urls))

    def lowest_threshold(self, docs: Sequence[int], target: float) -> float:
        """The lowest of :data:`THRESHOLDS` at which the held-out runs keep ``target`` of the
        labelled content lines of ``docs``, so as much boilerplate goes as that allows.
        Retention grows with the threshold, so a bisection finds it."""
        lo, hi = 0, len(THRESHOLDS) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            kept = line_metrics(self.docs, self.run(THRESHOLDS[mid]).removed,
                                docs)["content_kept"]
            if kept is not None and kept >= target:
                hi = mid
            else:
                lo = mid + 1
        return float(THRESHOLDS[lo])

    def fold_decisions(self, target: float) -> tuple[list[np.ndarray], list[float]]:
        """Removed masks where each fold's threshold was chosen on the other folds only, so
        no reported figure comes from the data that set its threshold."""
        removed: list[np.ndarray] = [np.zeros(0, dtype=bool)] * len(self.docs)
        thresholds = []
        everyone = np.arange(len(self.docs))
        for test in self.folds:
            t = self.lowest_threshold(np.setdiff1d(everyone, test).tolist(), target)
            thresholds.append(t)
            run = self.run(t)
            for i in test.tolist():
                removed[i] = run.removed[i]
        return removed, thresholds


def shards(docs: Sequence[Doc], members: np.ndarray) -> list[list[int]]:
    """``members`` (indices into ``docs``) in shards of one source and track each: the
    pages a user would clean together, and so count repeats over."""
    found: dict[tuple[str, str], list[int]] = {}
    for i in members.tolist():
        found.setdefault((docs[i].source, docs[i].track), []).append(i)
    return list(found.values())


def _view_decisions(doc: Doc, result: CleanResult) -> tuple[np.ndarray, list[float | None]]:
    """Which of the document's view lines the result removed, and its score per input line."""
    if result.line_count != len(doc.text_lines):
        raise ValueError(f"{doc.id}: a line holds a line break other than \\n, which the "
                         "pipeline splits at")
    gone = [not d.kept for d in result.decisions]
    removed = np.array([gone[k] if k >= 0 else False for k in doc.index], dtype=bool)
    return removed, [None if d.score is None else round(d.score, 4) for d in result.decisions]


def line_metrics(all_docs: Sequence[Doc], removed: Sequence[np.ndarray], docs: Sequence[int],
                 original: bool = False) -> dict[str, Any]:
    """Boilerplate P/R/F1 and content retention over the labelled lines of ``docs`` (indices
    into ``all_docs``), by the corrected labels or, with ``original``, by the corpus's own."""
    tp = fp = fn = tn = 0
    for i in docs:
        lab = all_docs[i].original if original else all_docs[i].labels
        r = removed[i]
        tp += int(((lab == 1) & r).sum())
        fn += int(((lab == 1) & ~r).sum())
        fp += int(((lab == 0) & r).sum())
        tn += int(((lab == 0) & ~r).sum())
    p = tp / (tp + fp) if tp + fp else None
    rec = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None
    kept = tn / (tn + fp) if tn + fp else None
    return {"bp_precision": p, "bp_recall": rec, "bp_f1": f1, "content_kept": kept,
            "boilerplate_lines": tp + fn, "content_lines": tn + fp}


def fit_held_out(docs: Sequence[Doc], groups: Sequence[str], fit: Any,
                 smoothing: dict[str, Any]) -> HeldOut:
    """Fit one model per fold of a grouped split (``fit(doc_ids)`` returns the model's
    arrays); ``groups`` (one per document) never straddle a training and a test fold."""
    ids = np.arange(len(docs))
    folds, models = [], []
    for k, (train, test) in enumerate(GroupKFold(n_splits=FOLDS).split(ids, groups=groups)):
        models.append(fit(ids[train]))
        folds.append(ids[test])
        print(f"  fold {k + 1}/{FOLDS} fitted", file=sys.stderr)
    return HeldOut(docs, folds, models, smoothing)
