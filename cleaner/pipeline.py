"""Cleaner: runs normalize -> rules -> line model -> smoothing -> assemble on documents.

Each stage is a pure function in its own module; only this one knows their order. Rules
and the model are loaded once, when a :class:`Cleaner` is built, never at import time.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import operator
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner.assemble import LEADING, TRAILING, assemble
from cleaner.config import CleanerConfig
from cleaner.normalize import normalize_text, split_lines
from cleaner.rules import RuleHit, RuleSet
from cleaner.segment import Joiner, Segment, line_breaks, split_segments
from cleaner.types import CleanResult, Decision, Stage

if TYPE_CHECKING:
    from cleaner.classifier import LineClassifier, LineMemo

BATCH_SIZE = 256
BATCHES_PER_WORKER = 4  # for a known number of documents, the least batches each worker gets
MAX_WORKERS_PER_CORE = 2  # more workers only wait for a core, each holding rules and model


def worker_count(n_jobs: int) -> int:
    """The worker processes that ``n_jobs`` (joblib's meaning: -1 all cores) gets: at most
    :data:`MAX_WORKERS_PER_CORE` per core this process may run on."""
    if n_jobs == 1:
        return 1
    from joblib import cpu_count, effective_n_jobs

    return max(1, min(int(effective_n_jobs(n_jobs)), MAX_WORKERS_PER_CORE * int(cpu_count())))


def _require_str(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError("cleaner works on str, not bytes: decode first, e.g. "
                        "data.decode('utf-8', errors='surrogateescape') to carry undecodable "
                        "bytes through, or with the document's real encoding")
    raise TypeError(f"cleaner works on str, not {type(text).__name__}")


_SMOOTHED, _TABLE_ROW = 1, 2  # what overrode a line's own score (_Doc.override)


@dataclass
class _Verdict:
    """Why a line was removed."""

    stage: Stage
    reason: str
    category: str


@dataclass
class _Doc:
    """A document, or a segment of one, going through the passes: normalized lines and what
    happened to them; ``first`` and ``last`` say whether it has the document's head and tail."""

    original: list[str]
    lines: list[str]
    alive: list[int]  # indices of the non-blank lines still kept
    blanks_before: np.ndarray  # blank lines among lines[:i]
    first: bool = True
    last: bool = True
    removed: dict[int, _Verdict] = field(default_factory=dict)
    # The last pass's view of each line: model score (NaN: not scored) and what overrode
    # the score's own decision (_SMOOTHED, _TABLE_ROW or 0).
    score: np.ndarray = field(init=False)
    override: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.score = np.full(len(self.lines), np.nan)
        self.override = np.zeros(len(self.lines), dtype=np.int8)

    def view(self) -> tuple[list[str], np.ndarray]:
        """The kept lines as the output will hold them: one blank line where the input had
        any blank lines between two kept lines; ``-1`` marks those separators in the index
        of line numbers."""
        alive = np.asarray(self.alive, dtype=np.int64)
        blanks = self.blanks_before[alive]
        separated = np.zeros(len(alive), dtype=np.int64)
        separated[1:] = blanks[1:] > blanks[:-1]
        index = np.full(len(alive) + int(separated.sum()), -1, dtype=np.int64)
        index[np.arange(len(alive)) + np.cumsum(separated)] = alive
        text = self.lines
        return [text[i] if i >= 0 else "" for i in index.tolist()], index

    def removed_mask(self) -> list[bool]:
        """Per line, whether a rule, the model or smoothing removed it."""
        mask = [False] * len(self.lines)
        for i in self.removed:
            mask[i] = True
        return mask


@dataclass(frozen=True)
class _Part:
    """A segment's result, and the blank lines its text dropped at its edges (for Joiner)."""

    result: CleanResult
    leading: int
    trailing: int

    def brief(self) -> _Part:
        """Only the removed lines' decisions (see :meth:`CleanResult.brief`)."""
        return dataclasses.replace(self, result=self.result.brief())


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
        return next(self.clean_many([text]))

    def explain(self, text: str) -> CleanResult:
        """Clean one document and return the text with one decision per input line."""
        return next(self.explain_many([text]))

    def clean_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                   batch_size: int = BATCH_SIZE) -> Iterator[str]:
        """Clean documents lazily and in order; see :meth:`explain_many` for the options."""
        return (r.text for r in self._documents(texts, n_jobs, batch_size, _texts_of_batch))

    def explain_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                     batch_size: int = BATCH_SIZE,
                     brief: bool = False) -> Iterator[CleanResult]:
        """Like :meth:`explain` for many documents: lazily, in order, in batches.

        Documents are read ``batch_size`` at a time and the model scores a whole batch at
        once. With ``n_jobs`` other than 1 (-1: all cores), batches go to that many joblib
        worker processes (no more than there are batches, and at most
        :data:`MAX_WORKERS_PER_CORE` per core), each of which builds its own cleaner once;
        the output is the same as with one job. A single batch is always cleaned here,
        without starting workers. When ``texts`` has a length (a list) and fills more than
        one batch, batches shrink so that each worker gets at least four.
        With ``brief``, each result keeps only the decisions of removed lines, which is
        much less to send back from a worker. A document longer than ``segment_chars``
        characters or ``segment_lines`` lines is cleaned in segments (see
        :mod:`cleaner.segment`) and its result put together from theirs; a batch also ends
        once it holds that many characters or lines.
        """
        return self._documents(texts, n_jobs, batch_size,
                               _brief_results_of_batch if brief else _results_of_batch)

    def explain_segments(self, segments: Iterable[Segment], *, n_jobs: int = 1,
                         batch_size: int = BATCH_SIZE,
                         brief: bool = False) -> Iterator[CleanResult]:
        """Clean documents that come in segments (see :mod:`cleaner.segment`): one result
        per segment, lazily and in order; the options are those of :meth:`explain_many`.

        A segment's result is its share of its document's result: its text goes right after
        the texts of the segments before it, back to the one marked ``first``, and its lines
        are numbered from the document's start. So a huge document streams through in
        bounded memory, as the command line does with plain-text input.
        """
        work = _brief_results_of_batch if brief else _results_of_batch
        return (result for result, _ in self._joined(_checked(segments), n_jobs, batch_size,
                                                     work))

    def _documents(self, texts: Iterable[str], n_jobs: int, batch_size: int,
                   work: _Work) -> Iterator[CleanResult]:
        """Results of whole documents, each cleaned in as many segments as its length needs."""
        if n_jobs != 1 and isinstance(texts, Sized):
            batch_size = _shared_batch_size(len(texts), n_jobs, batch_size)
        cfg = self.config
        segments = (segment for text in texts for segment in
                    split_segments([_require_str(text)], cfg.segment_chars, cfg.segment_lines))
        parts: list[CleanResult] = []
        for result, last in self._joined(segments, n_jobs, batch_size, work):
            parts.append(result)
            if last:
                yield _whole(parts)
                parts = []

    def _joined(self, segments: Iterable[Segment], n_jobs: int, batch_size: int,
                work: _Work) -> Iterator[tuple[CleanResult, bool]]:
        """Each segment's result as a share of its document's, and whether it is the last."""
        ends: collections.deque[tuple[bool, bool]] = collections.deque()

        def noted() -> Iterator[Segment]:
            for segment in segments:
                ends.append((segment.first, segment.last))
                yield segment

        joiner = Joiner()
        for part in self._many(noted(), n_jobs, batch_size, work):
            first, last = ends.popleft()
            if first:
                joiner = Joiner(self.config.collapse_blank_lines)
            yield joiner.add(part.result, part.leading, part.trailing), last

    def _many(self, segments: Iterable[Segment], n_jobs: int, batch_size: int,
              work: _Work) -> Iterator[_Part]:
        batches = _batched(segments, batch_size, self.config.segment_chars,
                           self.config.segment_lines)
        workers = worker_count(n_jobs)
        head = [] if workers == 1 else list(itertools.islice(batches, workers))
        if len(head) < 2:  # one worker, or all the work in one batch
            for batch in itertools.chain(head, batches):
                yield from work(self, batch)
            return
        from joblib import Parallel, delayed

        # No more workers than batches: each one starts a process that loads rules and model.
        parallel = Parallel(n_jobs=min(workers, len(head)), return_as="generator",
                            pre_dispatch="2*n_jobs")
        tasks = (delayed(_in_worker)(self.config, work, batch)
                 for batch in itertools.chain(head, batches))
        outputs = parallel(tasks)
        try:
            for results in outputs:
                yield from results
        finally:  # the caller may stop early (`cleaner big.txt | head`): stop the workers
            with warnings.catch_warnings():
                # joblib's notice that finished or running tasks were not used.
                warnings.filterwarnings("ignore", ".* adjusting the input task iterator",
                                        UserWarning)
                outputs.close()

    def _clean_batch(self, segments: Sequence[Segment],
                     decisions: bool = True) -> list[_Part]:
        """Clean a batch; without ``decisions``, results hold the text alone (what
        clean_many needs, and much less to build and to send back from a worker)."""
        docs = [self._prepare(segment) for segment in segments]
        self._run_passes(docs)
        return [self._result(doc, decisions) for doc in docs]

    def _prepare(self, segment: Segment) -> _Doc:
        cfg = self.config
        lines = normalize_text(segment.text, nfc=cfg.nfc, invisible=cfg.remove_invisible,
                               spaces=cfg.normalize_spaces)
        blank = np.fromiter(map(operator.not_, map(str.strip, lines)), dtype=bool,
                            count=len(lines))
        return _Doc(split_lines(segment.text), lines, np.flatnonzero(~blank).tolist(),
                    np.cumsum(blank) - blank, segment.first, segment.last)

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
        hits = [self.rules.match(lines, head=doc.first, tail=doc.last)
                for doc, (lines, _) in zip(docs, views)]
        probs = self._read([lines for lines, _ in views], hits, memo)
        return [self._apply(doc, view, doc_hits, doc_probs)
                for doc, view, doc_hits, doc_probs in zip(docs, views, hits, probs)]

    def _read(self, views: Sequence[list[str]], hits: Sequence[list[RuleHit | None]],
              memo: LineMemo | None) -> list[np.ndarray | None]:
        """The model's P(boilerplate) per line of each document's view (``None`` without a
        model). Every pass reads every document it judges: the lines a rule hits are not
        model input, but how many there are around a line is, so a view that lost any line
        reads differently."""
        if self.model is None:
            return [None] * len(views)
        return list(self.model.predict(
            [(lines, [h.rule.category if h else None for h in doc_hits])
             for lines, doc_hits in zip(views, hits)], memo))

    def _apply(self, doc: _Doc, view: tuple[list[str], np.ndarray],
               hits: list[RuleHit | None], probs: np.ndarray | None) -> bool:
        """Remove what the rules and the (smoothed) model decided in this pass; returns
        whether anything went. ``view`` holds the lines judged and, for each, its line
        number in the document (-1 for a blank separator)."""
        lines, at = view
        by_model, smoothed, table = self._smooth(probs, lines, doc.last)
        real = at >= 0
        if probs is not None:
            doc.score[at[real]] = probs[real]
        doc.override[at[real]] = np.where(table, _TABLE_ROW, np.where(smoothed, _SMOOTHED, 0))[real]
        by_rule = np.fromiter(map(operator.is_not, hits, itertools.repeat(None)), dtype=bool,
                              count=len(hits))
        before = len(doc.removed)
        ruled = np.flatnonzero(by_rule)
        for k, i in zip(ruled.tolist(), at[ruled].tolist()):
            rule = hits[k].rule
            doc.removed[i] = _Verdict(Stage.RULE, rule.id, rule.category)
        modelled = np.flatnonzero(by_model & ~by_rule & real)
        for k, i in zip(modelled.tolist(), at[modelled].tolist()):
            doc.removed[i] = (_Verdict(Stage.SMOOTHING, "smoothed", "model")
                              if smoothed[k] else _Verdict(Stage.MODEL, "", "model"))
        if len(doc.removed) == before:
            return False
        doc.alive = [i for i in doc.alive if i not in doc.removed]
        return True

    def _smooth(self, probs: np.ndarray | None, lines: list[str],
                tail: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(removed by the model, flipped by smoothing, kept as table rows) masks; all False
        without a model. Without ``tail`` (a segment before the document's end), no tail
        block grows."""
        if probs is None:
            none = np.zeros(len(lines), dtype=bool)
            return none, none, none
        from cleaner.smoothing import smooth_lines

        options = self.model.smoothing if self.model is not None else {}
        if not tail:
            options = {**options, "tail_steps": 0}
        return smooth_lines(lines, probs, self.threshold, **options)

    def _kept_verdict(self, override: int) -> _Verdict:
        if override == _TABLE_ROW:
            return _Verdict(Stage.SMOOTHING, "table", "")
        if override == _SMOOTHED:
            return _Verdict(Stage.SMOOTHING, "smoothed", "")
        return _Verdict(Stage.MODEL if self.model is not None else Stage.RULE, "", "")

    def _result(self, doc: _Doc, with_decisions: bool) -> _Part:
        removed = doc.removed_mask()
        text, dropped_blank = assemble(doc.lines, removed, self.config.collapse_blank_lines)
        decisions = self._decisions(doc, removed, dropped_blank) if with_decisions else ()
        return _Part(CleanResult(text, decisions, len(doc.lines)),
                     dropped_blank.count(LEADING), dropped_blank.count(TRAILING))

    def _decisions(self, doc: _Doc, removed: list[bool],
                   dropped_blank: list[str]) -> tuple[Decision, ...]:
        decisions = []
        for i, (original, line) in enumerate(zip(doc.original, doc.lines)):
            if not line.strip():
                decisions.append(Decision(i + 1, original, line, not dropped_blank[i],
                                          Stage.WHITESPACE, dropped_blank[i]))
                continue
            score = None if self.model is None else float(doc.score[i])
            v = doc.removed.get(i) or self._kept_verdict(int(doc.override[i]))
            decisions.append(Decision(i + 1, original, line, not removed[i], v.stage, v.reason,
                                      v.category, score))
        return tuple(decisions)


_Work = Callable[[Cleaner, list[Segment]], list[_Part]]


def _checked(segments: Iterable[Segment]) -> Iterator[Segment]:
    for segment in segments:
        _require_str(segment.text)
        yield segment


def _whole(parts: Sequence[CleanResult]) -> CleanResult:
    """A document's result from the joined results of its segments."""
    if len(parts) == 1:
        return parts[0]
    return CleanResult("".join(p.text for p in parts),
                       tuple(itertools.chain.from_iterable(p.decisions for p in parts)),
                       sum(p.line_count for p in parts), len(parts))


def _shared_batch_size(count: int, n_jobs: int, batch_size: int) -> int:
    """The batch size for ``count`` documents on ``n_jobs`` workers: smaller than
    ``batch_size`` when that gives each worker several batches, so that no worker idles while
    the last ones finish. What fits in one batch stays one batch, cleaned without workers."""
    if count <= batch_size:
        return batch_size
    workers = worker_count(n_jobs)
    return max(1, min(batch_size, -(-count // (BATCHES_PER_WORKER * workers))))


def _batched(segments: Iterable[Segment], size: int, chars: int,
             lines: int) -> Iterator[list[Segment]]:
    """Batches of ``size`` segments, or fewer that hold at most ``chars`` characters and
    about ``lines`` lines (or just one segment): a batch is cleaned all at once, so this
    bounds its memory."""
    batch: list[Segment] = []
    total = total_lines = 0
    for segment in segments:
        length, breaks = len(segment.text), line_breaks(segment.text)
        if batch and (total + length > chars or total_lines + breaks > lines):
            yield batch
            batch, total, total_lines = [], 0, 0
        batch.append(segment)
        total += length
        total_lines += breaks
        if len(batch) == size:
            yield batch
            batch, total, total_lines = [], 0, 0
    if batch:
        yield batch


@lru_cache(maxsize=8)
def cached_cleaner(config: CleanerConfig) -> Cleaner:
    """The cleaner for ``config``, built once per process (workers reuse it)."""
    return Cleaner(config)


def _in_worker(config: CleanerConfig, work: _Work, segments: list[Segment]) -> list[_Part]:
    """Clean one batch in a worker process, reusing that process's cleaner.

    Numeric libraries get one thread each: the workers already use every core, and
    oversubscribed BLAS threads made the model several times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return work(cached_cleaner(config), segments)


def _results_of_batch(cleaner: Cleaner, segments: list[Segment]) -> list[_Part]:
    return cleaner._clean_batch(segments)


def _brief_results_of_batch(cleaner: Cleaner, segments: list[Segment]) -> list[_Part]:
    return [part.brief() for part in cleaner._clean_batch(segments)]


def _texts_of_batch(cleaner: Cleaner, segments: list[Segment]) -> list[_Part]:
    return cleaner._clean_batch(segments, decisions=False)


def clean(text: str, **options: Any) -> str:
    """Clean one document with the default configuration, or with ``options`` replaced.

    Cleaners are cached per configuration, so repeated calls do not reload rules or model.
    """
    return cached_cleaner(CleanerConfig.from_options(**options)).clean(text)
