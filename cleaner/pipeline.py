"""Cleaner: the library's entry point, over the judge (which decides every line) and the
engine (which batches documents and runs them in parallel).

A document goes: split into segments if it is long (:mod:`cleaner.segment`) -> batched
(:mod:`cleaner.engine`) -> judged: normalize, rules, model, smoothing, in passes until
nothing more goes, then assembled (:mod:`cleaner.judge`) -> its segments' parts joined
(:class:`cleaner.segment.Joiner`). Rules and the model are loaded once, when a
:class:`Cleaner` is built, never at import time.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast, overload

from cleaner import engine
from cleaner.config import BATCH_SIZE, CleanerConfig
from cleaner.errors import UsageError
from cleaner.judge import Judge, LineModel
from cleaner.repeats import RepeatIndex
from cleaner.rules import RuleSet
from cleaner.segment import Joiner, Segment, split_segments
from cleaner.types import CleanResult

T = TypeVar("T")


def _missing(document: object) -> bool:
    """Whether ``document`` stands for a missing text: ``None``, or the float NaN (or
    ``pandas.NA``) that pandas gives for a missing value."""
    if document is None or (isinstance(document, float) and math.isnan(document)):
        return True
    pandas = sys.modules.get("pandas")
    return pandas is not None and document is getattr(pandas, "NA", None)


def _require_str(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError("cleaner works on str, not bytes: decode first, e.g. "
                        "data.decode('utf-8', errors='surrogateescape') to carry undecodable "
                        "bytes through, or with the document's real encoding")
    raise TypeError(f"cleaner works on str, not {type(text).__name__}")


@dataclass(frozen=True)
class _Item(Generic[T]):
    """What travels with a segment through the engine: the caller's tag, whether the
    segment stands for itself or is a part of a whole document given as one text, and where
    in its document it lies."""

    tag: T
    whole: bool
    first: bool = True
    last: bool = True


class Cleaner:
    """A reusable cleaner: build once, clean many documents.

    Cleaning runs in passes: rules and model judge the document, then judge its output again
    while that removes more lines (removing a block changes its neighbours' context). So
    the output is a fixed point: cleaning it again changes nothing. ``model`` replaces the
    model the configuration names with a model object of your own (see
    :class:`cleaner.judge.LineModel`), such as a :class:`cleaner.classifier.LineClassifier`
    trained in memory.

    >>> cleaner = Cleaner(use_model=False)
    >>> cleaner.clean("Rubio spoke on Tuesday.\\n\\n\\nFiled under:\\n")
    'Rubio spoke on Tuesday.\\n'
    """

    def __init__(self, config: CleanerConfig | None = None, *, model: LineModel | None = None,
                 **options: Any) -> None:
        self.config = CleanerConfig.from_options(config, **options)
        self._model = model
        self.judge = Judge.load(self.config, model)

    @property
    def rules(self) -> RuleSet:
        """The rule set in use (:class:`cleaner.rules.RuleSet`)."""
        return self.judge.rules

    @property
    def model(self) -> LineModel | None:
        """The line model in use, ``None`` for rules only."""
        return self.judge.model

    @property
    def threshold(self) -> float:
        """P(boilerplate) above which the model removes a line."""
        return self.judge.threshold

    def clean(self, text: str) -> str:
        """Return the cleaned text of one document."""
        return next(self.clean_many([_require_str(text)]))

    def explain(self, text: str) -> CleanResult:
        """Clean one document and return the text with one decision per input line."""
        return next(self.explain_many([_require_str(text)]))

    @overload
    def clean_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                   batch_size: int = BATCH_SIZE, repeats: bool | RepeatIndex = False,
                   sites: Iterable[str | None] | None = None) -> Iterator[str]: ...

    @overload
    def clean_many(self, texts: Iterable[str | float | None], *, n_jobs: int = 1,
                   batch_size: int = BATCH_SIZE, repeats: bool | RepeatIndex = False,
                   sites: Iterable[str | None] | None = None) -> Iterator[str | None]: ...

    def clean_many(self, texts: Iterable[str | float | None], *, n_jobs: int = 1,
                   batch_size: int = BATCH_SIZE, repeats: bool | RepeatIndex = False,
                   sites: Iterable[str | None] | None = None) -> Iterator[str | None]:
        """Clean documents lazily and in order; see :meth:`explain_many` for the options
        and for missing documents (``None`` comes back in their place)."""
        pairs, index = self._with_repeats(texts, repeats, sites)
        return (None if result is None else result.text
                for _, result in self._tagged(pairs, n_jobs, batch_size, engine.texts,
                                              texts, index, _own_tag))

    @overload
    def explain_many(self, texts: Iterable[str], *, n_jobs: int = 1,
                     batch_size: int = BATCH_SIZE, brief: bool = False,
                     repeats: bool | RepeatIndex = False,
                     sites: Iterable[str | None] | None = None) -> Iterator[CleanResult]: ...

    @overload
    def explain_many(self, texts: Iterable[str | float | None], *, n_jobs: int = 1,
                     batch_size: int = BATCH_SIZE, brief: bool = False,
                     repeats: bool | RepeatIndex = False,
                     sites: Iterable[str | None] | None = None,
                     ) -> Iterator[CleanResult | None]: ...

    def explain_many(self, texts: Iterable[str | float | None], *, n_jobs: int = 1,
                     batch_size: int = BATCH_SIZE, brief: bool = False,
                     repeats: bool | RepeatIndex = False,
                     sites: Iterable[str | None] | None = None,
                     ) -> Iterator[CleanResult | None]:
        """Like :meth:`explain` for many documents: lazily, in order, in batches.

        Documents are read ``batch_size`` at a time and the model scores a whole batch at
        once. With ``n_jobs`` other than 1 (-1: all cores), batches go to that many joblib
        worker processes (no more than there are batches, and at most
        :data:`cleaner.engine.MAX_WORKERS_PER_CORE` per core), each of which builds its own
        cleaner once; the output is the same as with one job. A single batch is always
        cleaned here, without starting workers. When ``texts`` has a length (a list) and
        fills more than one batch, batches shrink so that each worker gets at least four.
        With ``brief``, each result keeps only the decisions of removed lines, which is
        much less to send back from a worker. A document longer than ``segment_chars``
        characters or ``segment_lines`` lines is cleaned in segments (see
        :mod:`cleaner.segment`) and its result put together from theirs; a batch also ends
        once it holds that many characters or lines.

        A missing document (``None``, or the NaN or ``pandas.NA`` of a pandas column) is
        not cleaned: ``None`` comes back in its place, so results stay aligned with their
        rows. Any other document that is not a ``str`` raises ``TypeError``.

        ``repeats`` weighs how often each line recurs across documents (see
        :mod:`cleaner.repeats`): ``True`` first indexes ``texts`` themselves (they are read
        into a list for that), a :class:`~cleaner.repeats.RepeatIndex` uses the counts it
        holds (say, of a whole crawl). ``sites`` gives each document's URL or site, so a
        line repeated across one site's pages weighs more than one repeated across sites.
        """
        pairs, index = self._with_repeats(texts, repeats, sites)
        work = engine.brief_results if brief else engine.results
        return (result for _, result in self._tagged(pairs, n_jobs, batch_size, work, texts,
                                                     index, _own_tag))

    def explain_tagged(self, pairs: Iterable[tuple[T, str | Segment | None]], *,
                       n_jobs: int = 1, batch_size: int = BATCH_SIZE, brief: bool = False,
                       count_of: object = None, repeats: RepeatIndex | None = None,
                       site: Callable[[T], str | None] | None = None,
                       ) -> Iterator[tuple[T, CleanResult | None]]:
        """Like :meth:`explain_many` for ``(tag, document)`` pairs: each result comes back
        with its tag, in order. A document is a ``str`` (its result is the whole
        document's), a :class:`~cleaner.segment.Segment` (its result is its share of its
        document's, as :meth:`explain_segments` gives it) or ``None``, which is not cleaned
        and comes back as ``(tag, None)`` in its place: a record that cannot be cleaned
        keeps its place among the others. ``count_of``, when it has a length, is how many
        documents there are (for the batch size over ``n_jobs`` workers). With a
        ``repeats`` index, ``site`` gives the site or URL of a tag's document."""
        if repeats is not None:
            self.require_repetition()
        work = engine.brief_results if brief else engine.results
        return self._tagged(pairs, n_jobs, batch_size, work, count_of, repeats, site)

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
        pairs = ((None, _checked(segment)) for segment in segments)
        return (result for _, result in self.explain_tagged(
            pairs, n_jobs=n_jobs, batch_size=batch_size, brief=brief) if result is not None)

    def _with_repeats(self, texts: Iterable[str | float | None], repeats: bool | RepeatIndex,
                      sites: Iterable[str | None] | None,
                      ) -> tuple[Iterator[tuple[str | None, str | None]], RepeatIndex | None]:
        """Documents tagged with their sites, and the repetition index to weigh (built over
        ``texts`` when ``repeats`` is ``True``)."""
        if repeats is False or repeats is None:
            return _documents(texts, sites), None
        self.require_repetition()
        if isinstance(repeats, RepeatIndex):
            return _documents(texts, sites), repeats
        documents = list(_documents(texts, sites))
        index = RepeatIndex.build((text for _, text in documents),
                                  (site for site, _ in documents))
        return iter(documents), index

    def require_repetition(self) -> None:
        """Raise :class:`~cleaner.errors.UsageError` unless this cleaner can weigh repetition
        evidence: before a long first pass builds an index it could not use."""
        if self.judge.repetition is None:
            raise UsageError("repetition evidence is weighed by the line model, and "
                             + ("this cleaner runs without one" if self.model is None else
                                "this model was not trained with repetition weights"))

    def _tagged(self, pairs: Iterable[tuple[T, str | Segment | None]], n_jobs: int,
                batch_size: int, work: engine.Work, count_of: object,
                repeats: RepeatIndex | None = None,
                site: Callable[[T], str | None] | None = None,
                ) -> Iterator[tuple[T, CleanResult | None]]:
        """Results of tagged documents and segments; see :meth:`explain_tagged`."""
        if n_jobs != 1 and isinstance(count_of, Sized):
            batch_size = engine.shared_batch_size(len(count_of), n_jobs, batch_size)
        parts: list[CleanResult] = []
        joiner = Joiner()
        segments = self._segments(pairs)
        if repeats is not None:
            segments = _weighed(segments, repeats, site)
        for item, part in engine.run(self.judge, self._model, segments, work,
                                     n_jobs, batch_size):
            if part is None:
                yield item.tag, None
                continue
            if item.first:
                joiner = Joiner(self.config.collapse_blank_lines)
            result = joiner.add(part.result, part.leading, part.trailing)
            if not item.whole:
                yield item.tag, result
                continue
            parts.append(result)
            if item.last:
                yield item.tag, _whole(parts)
                parts = []

    def _segments(self, pairs: Iterable[tuple[T, str | Segment | None]],
                  ) -> Iterator[tuple[_Item[T], Segment | None]]:
        """Each document's segments (a text cut as its length needs), tagged."""
        cfg = self.config
        for tag, document in pairs:
            if document is None:
                yield _Item(tag, False), None
            elif isinstance(document, Segment):
                yield _Item(tag, False, document.first, document.last), document
            else:
                for segment in split_segments([_require_str(document)], cfg.segment_chars,
                                              cfg.segment_lines):
                    yield _Item(tag, True, segment.first, segment.last), segment


def _documents(texts: Iterable[str | float | None], sites: Iterable[str | None] | None = None,
               ) -> Iterator[tuple[str | None, str | None]]:
    """Documents tagged with their sites (``None`` without), a missing one as ``None``; the
    others are checked to be ``str`` when they are split (:meth:`Cleaner._segments`)."""
    site_list = itertools.repeat(None) if sites is None else itertools.chain(
        sites, itertools.repeat(None))
    for text, site in zip(texts, site_list):
        yield site, None if _missing(text) else cast(str, text)


def _own_tag(tag: str | None) -> str | None:
    return tag


def _weighed(items: Iterable[tuple[_Item[T], Segment | None]], index: RepeatIndex,
             site: Callable[[T], str | None] | None,
             ) -> Iterator[tuple[_Item[T], Segment | None]]:
    """The segments with the repetition evidence of their lines attached, looked up a
    batch at a time."""
    items = iter(items)
    while batch := list(itertools.islice(items, BATCH_SIZE)):
        present = [(item, segment) for item, segment in batch if segment is not None]
        found = iter(index.repeats_of(
            [segment.text for _, segment in present],
            [None if site is None else site(item.tag) for item, _ in present]))
        for item, segment in batch:
            yield item, (None if segment is None
                         else dataclasses.replace(segment, repeats=next(found)))


def _checked(segment: Segment) -> Segment:
    _require_str(segment.text)
    return segment


def _whole(parts: Sequence[CleanResult]) -> CleanResult:
    """A document's result from the joined results of its segments."""
    if len(parts) == 1:
        return parts[0]
    return CleanResult("".join(p.text for p in parts),
                       tuple(itertools.chain.from_iterable(p.decisions for p in parts)),
                       sum(p.line_count for p in parts), len(parts))


@lru_cache(maxsize=8)
def cached_cleaner(config: CleanerConfig) -> Cleaner:
    """The cleaner for ``config``, built once per process (a Dask worker reuses it)."""
    return Cleaner(config)


def clean(text: str, **options: Any) -> str:
    """Clean one document with the default configuration, or with ``options`` replaced.

    Cleaners are cached per configuration, so repeated calls do not reload rules or model.
    """
    return cached_cleaner(CleanerConfig.from_options(**options)).clean(text)
