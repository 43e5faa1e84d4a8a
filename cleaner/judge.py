"""Judge every line of a batch of documents: passes of rules, model and smoothing.

One pass reads each document as its output would stand (the lines still kept, one blank
line between paragraphs): the rules match its lines, the model scores the lines no rule
took, smoothing turns the scores into block decisions (and keeps the rows of a table of
figures), and whatever was decided goes. Removing a block changes its neighbours' context,
so passes repeat while they remove anything: the output is a fixed point, and cleaning it
again changes nothing. This loop is the only place that decides a line's fate; the command
line, the library and training's evaluation all run it.

The model is injected: any object with the :class:`LineModel` methods, the shipped
:class:`~cleaner.classifier.LineClassifier` by default. A segment that carries repetition
evidence (:mod:`cleaner.repeats`) has its lines' scores moved by the model's
``repetition`` weights before smoothing: the evidence is weighed, never obeyed alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

from cleaner.assemble import LEADING, TRAILING, assemble, blank_counts, paragraph_view
from cleaner.config import CleanerConfig, SmoothingConfig
from cleaner.normalize import normalize_text, split_lines
from cleaner.rules import RuleHit, RuleSet
from cleaner.segment import Segment
from cleaner.types import REPEATED, CleanResult, Decision, Stage

if TYPE_CHECKING:
    from cleaner.classifier import LineMemo
    from cleaner.repeats import Repeats, RepetitionWeights

RULES_ONLY = "rules-only"  # the reason of a line kept when no model judges


class LineModel(Protocol):
    """What the passes need of a line model."""

    threshold: float  # P(boilerplate) above which a line goes, unless configured
    smoothing: SmoothingConfig  # tuned together with the threshold

    def predict(self, docs: Sequence[tuple[Sequence[str], Sequence[str | None]]],
                memo: LineMemo | None = None) -> list[np.ndarray]:
        """P(boilerplate) per line of each (lines, rule categories) document; NaN for blank
        lines and lines a rule matched."""


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
    repeats: Repeats | None = None
    removed: dict[int, _Verdict] = field(default_factory=dict)
    # The last pass's view of each line: model score (NaN: not scored) and what overrode
    # the score's own decision (_SMOOTHED, _TABLE_ROW or 0); whether the repetition
    # evidence lifted the score over the threshold.
    score: np.ndarray = field(init=False)
    override: np.ndarray = field(init=False)
    repeated: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.score = np.full(len(self.lines), np.nan)
        self.override = np.zeros(len(self.lines), dtype=np.int8)
        self.repeated = np.zeros(len(self.lines), dtype=bool)

    def view(self) -> tuple[list[str], np.ndarray]:
        """The kept lines as the output will hold them: one blank line where the input had
        any blank lines between two kept lines; ``-1`` marks those separators in the index
        of line numbers."""
        index = paragraph_view(np.asarray(self.alive, dtype=np.int64), self.blanks_before)
        text = self.lines
        return [text[i] if i >= 0 else "" for i in index.tolist()], index

    def removed_mask(self) -> list[bool]:
        """Per line, whether a rule, the model or smoothing removed it."""
        mask = [False] * len(self.lines)
        for i in self.removed:
            mask[i] = True
        return mask


@dataclass(frozen=True)
class Part:
    """A segment's result, and the blank lines its text dropped at its edges (for
    :class:`~cleaner.segment.Joiner`)."""

    result: CleanResult
    leading: int
    trailing: int


class Judge:
    """Cleans batches of segments with the given rules and model (``None``: rules only)."""

    def __init__(self, config: CleanerConfig, rules: RuleSet, model: LineModel | None) -> None:
        self.config = config
        self.rules = rules
        self.model = model
        self.threshold: float = (config.threshold if config.threshold is not None
                                 else model.threshold if model is not None else 0.5)
        # How repetition evidence moves the model's scores (None: the model has no weights).
        self.repetition: RepetitionWeights | None = getattr(model, "repetition", None)

    @property
    def smoothing(self) -> SmoothingConfig | None:
        """How the model's scores are smoothed: the configuration's, else the model's own;
        ``None`` without a model."""
        if self.model is None:
            return None
        return self.config.smoothing or self.model.smoothing

    @classmethod
    def load(cls, config: CleanerConfig, model: LineModel | None = None) -> Judge:
        """The rules ``config`` names and ``model``, or the model ``config`` names."""
        rules = _rule_set(config.rules, config.builtin_rules, config.langs, config.head_lines,
                          config.tail_lines)
        if model is None and config.use_model:
            from cleaner.classifier import LineClassifier

            model = LineClassifier.load(config.model_path)
        return cls(config, rules, model)

    def clean(self, segments: Sequence[Segment], decisions: bool = True,
              brief: bool = False) -> list[Part]:
        """Clean a batch; without ``decisions``, results hold the text alone (what
        clean_many needs, and much less to build and to send back from a worker); with
        ``brief``, only the removed lines' decisions (see :meth:`CleanResult.brief`), which
        are all that is built."""
        docs = [self._prepare(segment) for segment in segments]
        self._run_passes(docs)
        return [self._result(doc, decisions, brief) for doc in docs]

    def _prepare(self, segment: Segment) -> _Doc:
        cfg = self.config
        lines = normalize_text(segment.text, nfc=cfg.nfc, invisible=cfg.remove_invisible,
                               spaces=cfg.normalize_spaces)
        alive, blanks_before = blank_counts(lines)
        return _Doc(split_lines(segment.text), lines, alive.tolist(), blanks_before,
                    segment.first, segment.last, segment.repeats)

    def _run_passes(self, docs: Sequence[_Doc]) -> None:
        pending = [d for d in docs if d.alive]
        memo = None
        if self.model is not None:
            from cleaner.classifier import LineMemo

            memo = LineMemo()
        while pending:
            pending = [d for d, changed in zip(pending, self._pass(pending, memo)) if changed]

    def _pass(self, docs: Sequence[_Doc], memo: LineMemo | None) -> list[bool]:
        """One pass of rules, model and smoothing over each document's kept lines;
        returns, per document, whether it removed anything."""
        views = [d.view() for d in docs]
        hits = [self.rules.match(lines, head=doc.first, tail=doc.last)
                for doc, (lines, _) in zip(docs, views)]
        probs = [self._weigh_repeats(doc, view, p) for doc, view, p
                 in zip(docs, views, self._read([lines for lines, _ in views], hits, memo))]
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

    def _weigh_repeats(self, doc: _Doc, view: tuple[list[str], np.ndarray],
                       probs: np.ndarray | None) -> np.ndarray | None:
        """The view's scores moved by the document's repetition evidence, if it has any;
        notes in ``doc.repeated`` which lines the evidence lifted over the threshold."""
        if probs is None or doc.repeats is None or self.repetition is None:
            return probs
        lines, at = view
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        moved = self.repetition.adjust(probs, doc.repeats.at(at), lengths)
        lifted = (moved >= self.threshold) & ~(probs >= self.threshold)
        real = at >= 0
        doc.repeated[at[real]] = lifted[real]
        return moved

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
            doc.removed[i] = (_Verdict(Stage.SMOOTHING, "smoothed", "model") if smoothed[k]
                              else _Verdict(Stage.MODEL, REPEATED, "model") if doc.repeated[i]
                              else _Verdict(Stage.MODEL, "", "model"))
        if len(doc.removed) == before:
            return False
        doc.alive = [i for i in doc.alive if i not in doc.removed]
        return True

    def _smooth(self, probs: np.ndarray | None, lines: list[str],
                tail: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(removed by the model, flipped by smoothing, kept as table rows) masks; all False
        without a model. Without ``tail`` (a segment before the document's end), no tail
        block grows."""
        options = self.smoothing
        if probs is None or options is None:
            none = np.zeros(len(lines), dtype=bool)
            return none, none, none
        from cleaner.smoothing import smooth_lines

        if not tail:
            options = dataclasses.replace(options, tail_steps=0)
        return smooth_lines(lines, probs, self.threshold, options)

    def _kept_verdict(self, override: int) -> _Verdict:
        if override == _TABLE_ROW:
            return _Verdict(Stage.SMOOTHING, "table", "")
        if override == _SMOOTHED:
            return _Verdict(Stage.SMOOTHING, "smoothed", "")
        if self.model is None:
            return _Verdict(Stage.RULE, RULES_ONLY, "")
        return _Verdict(Stage.MODEL, "", "")

    def _result(self, doc: _Doc, with_decisions: bool, brief: bool) -> Part:
        removed = doc.removed_mask()
        text, dropped_blank = assemble(doc.lines, removed, self.config.collapse_blank_lines)
        lines = sorted(doc.removed) if brief else range(len(doc.lines))
        decisions = self._decisions(doc, lines, removed, dropped_blank) if with_decisions else ()
        return Part(CleanResult(text, decisions, len(doc.lines)),
                    dropped_blank.count(LEADING), dropped_blank.count(TRAILING))

    def _decisions(self, doc: _Doc, lines: Iterable[int], removed: list[bool],
                   dropped_blank: list[str]) -> tuple[Decision, ...]:
        """The decisions of the given lines (indices, in order)."""
        decisions = []
        for i in lines:
            original, line = doc.original[i], doc.lines[i]
            if not line.strip():
                decisions.append(Decision(i + 1, original, line, not dropped_blank[i],
                                          Stage.WHITESPACE, dropped_blank[i]))
                continue
            v = doc.removed.get(i) or self._kept_verdict(int(doc.override[i]))
            score = None if self.model is None or v.stage is Stage.RULE else float(doc.score[i])
            decisions.append(Decision(i + 1, original, line, not removed[i], v.stage, v.reason,
                                      v.category, score, _evidence(doc.repeats, i)))
        return tuple(decisions)


def _evidence(repeats: Repeats | None, i: int) -> tuple[int, int, int] | None:
    """Line ``i``'s repetition counts, if any other document holds it."""
    if repeats is None or not repeats.docs[i]:
        return None
    return repeats.counts(i)


@lru_cache(maxsize=8)
def _rule_set(files: tuple[str, ...], builtin: bool, langs: tuple[str, ...] | None,
              head_lines: int, tail_lines: int) -> RuleSet:
    """The rules of a configuration, compiled once per process: judges that differ only in
    their model or threshold (as training's held-out runs do) share them."""
    return RuleSet.load(files, builtin=builtin, langs=langs, head_lines=head_lines,
                        tail_lines=tail_lines)


@lru_cache(maxsize=8)
def cached_judge(config: CleanerConfig) -> Judge:
    """The judge for ``config``, built once per process (workers reuse it)."""
    return Judge.load(config)
