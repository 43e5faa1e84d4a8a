"""Cleaner: runs normalize -> rules -> line model -> smoothing -> assemble on documents.

Each stage is a pure function in its own module; only this one knows their order. Rules
and the model are loaded once, when a :class:`Cleaner` is built, never at import time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from cleaner.assemble import assemble
from cleaner.config import CleanerConfig
from cleaner.normalize import normalize_text, split_lines
from cleaner.rules import RuleSet
from cleaner.types import CleanResult, Decision, Stage

if TYPE_CHECKING:
    from cleaner.classifier import LineClassifier, LineMemo

BATCH_SIZE = 256
_T = TypeVar("_T")


def _require_str(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError("cleaner works on str, not bytes: decode first, e.g. "
                        "data.decode('utf-8', errors='surrogateescape') to carry undecodable "
                        "bytes through, or with the document's real encoding")
    raise TypeError(f"cleaner works on str, not {type(text).__name__}")


@dataclass
class _Verdict:
    """Why a line was removed."""

    stage: Stage
    reason: str
    category: str


@dataclass
class _Doc:
    """A document going through the passes: normalized lines and what happened to them."""

    original: list[str]
    lines: list[str]
    alive: list[int]  # indices of the non-blank lines still kept
    blanks_before: list[int]  # blank lines among lines[:i]
    removed: dict[int, _Verdict] = field(default_factory=dict)
    # The last pass's view of each line: model score (NaN: not scored) and whether
    # smoothing overrode the score's own decision.
    score: np.ndarray = field(init=False)
    smoothed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.score = np.full(len(self.lines), np.nan)
        self.smoothed = np.zeros(len(self.lines), dtype=bool)

    def view(self) -> tuple[list[str], list[int]]:
        """The kept lines as the output will hold them: one blank line where the input had
        any blank lines between two kept lines; ``-1`` marks those separators."""
        lines: list[str] = []
        index: list[int] = []
        blanks = self.blanks_before
        for prev, i in zip([-1, *self.alive], self.alive):
            if prev >= 0 and blanks[i] > blanks[prev]:
                lines.append("")
                index.append(-1)
            lines.append(self.lines[i])
            index.append(i)
        return lines, index

    def removed_mask(self) -> list[bool]:
        """Per line, whether a rule, the model or smoothing removed it."""
        return [i in self.removed for i in range(len(self.lines))]


class Cleaner:
    """A reusable cleaner: build once, clean many documents.

    Cleaning runs in passes: rules and model judge the document, then judge its output again
    while that removes more lines (removing a block changes its neighbours' context). So
    the output is a fixed point: cleaning it again changes nothing.

    >>> cleaner = Cleaner(use_model=False)
    >>> cleaner.clean("Rubio spoke on Tuesday.\\n\\n\\nFiled under:\\n")
    'Rubio spoke on Tuesday.\\n'
    """

    def __init__(self, config: CleanerConfig | None = None, **options: Any) -> None:
        self.config = CleanerConfig.from_options(config, **options)
        cfg = self.config
        self.rules = RuleSet.load(cfg.rules, builtin=cfg.builtin_rules, langs=cfg.langs,
                                  head_lines=cfg.head_lines, tail_lines=cfg.tail_lines)
        self.model: LineClassifier | None = None
        if cfg.use_model:
            from cleaner.classifier import LineClassifier

            self.model = LineClassifier.load(cfg.model_path, trust=cfg.trust_model)
        self.threshold: float = (cfg.threshold if cfg.threshold is not None
                                 else self.model.threshold if self.model is not None else 0.5)

    def clean(self, text: str) -> str:
        """Return the cleaned text of one document."""
        return self._clean_batch([text])[0]

    def explain(self, text: str) -> CleanResult:
        """Clean one document and return the text with one decision per input line."""
        return self._explain_batch([text])[0]

    def clean_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                   batch_size: int = BATCH_SIZE) -> Iterator[str]:
        """Clean documents lazily and in order; see :meth:`explain_many` for the options."""
        return self._many(texts, n_jobs, batch_size, _texts_of_batch)

    def explain_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                     batch_size: int = BATCH_SIZE,
                     brief: bool = False) -> Iterator[CleanResult]:
        """Like :meth:`explain` for many documents: lazily, in order, in batches.

        Documents are read ``batch_size`` at a time and the model scores a whole batch at
        once. With ``n_jobs`` other than 1 (-1: all cores), batches go to that many joblib
        worker processes, each of which builds its own cleaner once; the output is the same
        as with one job. A single batch is always cleaned here, without starting workers.
        With ``brief``, each result keeps only the decisions of removed lines, which is
        much less to send back from a worker.
        """
        return self._many(texts, n_jobs, batch_size,
                          _brief_results_of_batch if brief else _results_of_batch)

    def _many(self, texts: Iterable[str], n_jobs: int, batch_size: int,
              work: Callable[[Cleaner, list[str]], list[_T]]) -> Iterator[_T]:
        batches = _batched(texts, batch_size)
        head = [] if n_jobs == 1 else list(itertools.islice(batches, 2))
        if n_jobs == 1 or len(head) < 2:
            for batch in itertools.chain(head, batches):
                yield from work(self, batch)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")
        tasks = (delayed(_in_worker)(self.config, work, batch)
                 for batch in itertools.chain(head, batches))
        for results in parallel(tasks):
            yield from results

    def _explain_batch(self, texts: Sequence[str]) -> list[CleanResult]:
        return [self._result(d) for d in self._cleaned(texts)]

    def _clean_batch(self, texts: Sequence[str]) -> list[str]:
        """Like :meth:`_explain_batch` for the text alone, without building decisions."""
        collapse = self.config.collapse_blank_lines
        return [assemble(d.lines, d.removed_mask(), collapse)[0] for d in self._cleaned(texts)]

    def _cleaned(self, texts: Sequence[str]) -> list[_Doc]:
        docs = [self._prepare(text) for text in texts]
        self._run_passes(docs)
        return docs

    def _prepare(self, text: str) -> _Doc:
        text = _require_str(text)
        cfg = self.config
        lines = normalize_text(text, nfc=cfg.nfc, invisible=cfg.remove_invisible,
                               spaces=cfg.normalize_spaces)
        blank = [not x.strip() for x in lines]
        return _Doc(split_lines(text), lines, [i for i, b in enumerate(blank) if not b],
                    [0, *itertools.accumulate(blank)][:-1])

    def _run_passes(self, docs: Sequence[_Doc]) -> None:
        pending = [d for d in docs if d.alive]
        memo = None
        if self.model is not None:
            from cleaner.classifier import LineMemo

            memo = LineMemo()
        while pending:
            pending = [d for d, changed in zip(pending, self._judge(pending, memo)) if changed]

    def _judge(self, docs: Sequence[_Doc], memo: LineMemo | None) -> list[bool]:
        """One pass of rules, model and smoothing over each document's kept lines;
        returns, per document, whether it removed anything."""
        views = [d.view() for d in docs]
        hits = [self.rules.match(lines) for lines, _ in views]
        probs: list[np.ndarray | None] = [None] * len(docs)
        if self.model is not None:
            probs = list(self.model.predict(
                [(lines, [h.rule.category if h else None for h in doc_hits])
                 for (lines, _), doc_hits in zip(views, hits)], memo))
        changed = []
        for doc, (_, index), doc_hits, doc_probs in zip(docs, views, hits, probs):
            by_model, smoothed = self._smooth(doc_probs, len(index))
            at = np.asarray(index, dtype=np.int64)
            real = at >= 0
            if doc_probs is not None:
                doc.score[at[real]] = doc_probs[real]
            doc.smoothed[at[real]] = smoothed[real]
            by_rule = np.fromiter((h is not None for h in doc_hits), dtype=bool,
                                  count=len(doc_hits))
            before = len(doc.removed)
            for k in np.flatnonzero(by_rule).tolist():
                rule = doc_hits[k].rule
                doc.removed[index[k]] = _Verdict(Stage.RULE, rule.id, rule.category)
            for k in np.flatnonzero(by_model & ~by_rule & real).tolist():
                doc.removed[index[k]] = (_Verdict(Stage.SMOOTHING, "smoothed", "model")
                                         if smoothed[k] else _Verdict(Stage.MODEL, "", "model"))
            changed.append(len(doc.removed) > before)
            if changed[-1]:
                doc.alive = [i for i in doc.alive if i not in doc.removed]
        return changed

    def _smooth(self, probs: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(removed by the model, flipped by smoothing) masks; all False without a model."""
        if probs is None:
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        from cleaner.smoothing import smooth

        options = self.model.smoothing if self.model is not None else {}
        return smooth(probs, self.threshold, **options)

    def _kept_verdict(self, smoothed: bool) -> _Verdict:
        if smoothed:
            return _Verdict(Stage.SMOOTHING, "smoothed", "")
        return _Verdict(Stage.MODEL if self.model is not None else Stage.RULE, "", "")

    def _result(self, doc: _Doc) -> CleanResult:
        removed = doc.removed_mask()
        text, dropped_blank = assemble(doc.lines, removed, self.config.collapse_blank_lines)
        decisions = []
        for i, (original, line) in enumerate(zip(doc.original, doc.lines)):
            if not line.strip():
                decisions.append(Decision(i + 1, original, line, not dropped_blank[i],
                                          Stage.WHITESPACE, dropped_blank[i]))
                continue
            score = None if self.model is None else float(doc.score[i])
            v = doc.removed.get(i) or self._kept_verdict(bool(doc.smoothed[i]))
            decisions.append(Decision(i + 1, original, line, not removed[i], v.stage, v.reason,
                                      v.category, score))
        return CleanResult(text, tuple(decisions))


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


@lru_cache(maxsize=8)
def cached_cleaner(config: CleanerConfig) -> Cleaner:
    """The cleaner for ``config``, built once per process (workers reuse it)."""
    return Cleaner(config)


def _in_worker(config: CleanerConfig, work: Callable[[Cleaner, list[str]], list[_T]],
               texts: list[str]) -> list[_T]:
    """Clean one batch in a worker process, reusing that process's cleaner.

    Numeric libraries get one thread each: the workers already use every core, and
    oversubscribed BLAS threads made the model several times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return work(cached_cleaner(config), texts)


def _results_of_batch(cleaner: Cleaner, texts: list[str]) -> list[CleanResult]:
    return cleaner._explain_batch(texts)


def _brief_results_of_batch(cleaner: Cleaner, texts: list[str]) -> list[CleanResult]:
    return [result.brief() for result in cleaner._explain_batch(texts)]


def _texts_of_batch(cleaner: Cleaner, texts: list[str]) -> list[str]:
    return cleaner._clean_batch(texts)


def clean(text: str, **options: Any) -> str:
    """Clean one document with the default configuration, or with ``options`` replaced.

    Cleaners are cached per configuration, so repeated calls do not reload rules or model.
    """
    return cached_cleaner(CleanerConfig.from_options(**options)).clean(text)
