"""Cleaning on a Dask cluster: a bag of texts, or a text column of a dataframe.

Each partition is cleaned with :meth:`Cleaner.clean_many`, a dataframe's with
:func:`cleaner.frame.clean_series` (so missing texts stay missing); every worker process
builds its cleaner once per configuration and reuses it, so rules and model load once per
worker. The output equals single-process cleaning, partition by partition. Needs ``pip
install 'cleaner[dask]'``.

With ``repeats`` (see :mod:`cleaner.repeats`), a line is weighed by how many documents of
the whole collection hold it, not of its partition alone: each partition is counted into a
:class:`~cleaner.repeats.RepeatIndex`, the indexes are merged up a tree, ``split_every`` at
a time (so no one task holds them all), and the merged index goes to every cleaning task
as one shared key of the graph, which each worker fetches once. So the output equals
``Cleaner.clean_many(texts, repeats=True, sites=urls)`` over the whole collection in one
process (while no index outgrows its capacity: see :mod:`cleaner.repeats`). Counting reads
the collection once, and cleaning once more when the index is complete: persist the
collection first if reading it costs much. :func:`index_dataframe` and :func:`index_bag`
give the index alone, to compute, save (:meth:`~cleaner.repeats.RepeatIndex.save`) and
pass as ``repeats=index`` to later runs, say over a crawl's shards one at a time; a
prebuilt index is shipped as one key too.

>>> import dask.bag as db                                  # doctest: +SKIP
>>> clean_bag(db.read_text("shards/*.txt")).to_textfiles("out/*.txt")   # doctest: +SKIP
>>> import dask.dataframe as dd                            # doctest: +SKIP
>>> pages = dd.read_parquet("crawl/")                      # doctest: +SKIP
>>> clean_dataframe(pages, "text", repeats=True, url_column="url")     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from cleaner.config import CleanerConfig
from cleaner.frame import clean_series
from cleaner.pipeline import cached_cleaner
from cleaner.repeats import RepeatIndex

if TYPE_CHECKING:
    import dask.bag
    import dask.dataframe
    import pandas
    from dask.delayed import Delayed


def clean_bag(bag: dask.bag.Bag, config: CleanerConfig | None = None, *,
              repeats: bool | RepeatIndex = False, split_every: int | None = None,
              **options: Any) -> dask.bag.Bag:
    """A bag of cleaned texts, in the order of ``bag``; options as for ``Cleaner``.

    ``repeats=True`` weighs how many texts of the bag hold each line (see
    :func:`index_bag`), ``repeats=index`` the counts of a prebuilt
    :class:`~cleaner.repeats.RepeatIndex`. A bag holds texts alone, so no line counts per
    site: for that, clean a dataframe with a URL column (:func:`clean_dataframe`)."""
    settings = CleanerConfig.from_options(config, **options)
    if _no_repeats(repeats):
        return cast("dask.bag.Bag", bag.map_partitions(_clean_partition, settings))
    index = repeats if isinstance(repeats, RepeatIndex) else index_bag(
        bag, split_every=split_every)
    return cast("dask.bag.Bag", bag.map_partitions(_clean_partition, settings,
                                                   _shared(settings, index)))


def clean_dataframe(frame: dask.dataframe.DataFrame, column: str = "text",
                    config: CleanerConfig | None = None, *,
                    repeats: bool | RepeatIndex = False, url_column: str | None = "url",
                    split_every: int | None = None,
                    **options: Any) -> dask.dataframe.DataFrame:
    """``frame`` with ``column`` cleaned and every other column untouched.

    ``repeats=True`` weighs how many rows of the frame hold each line, and how many of the
    same site, the host of the row's ``url_column`` (``None``: no sites; see
    :func:`index_dataframe`); ``repeats=index`` the counts of a prebuilt
    :class:`~cleaner.repeats.RepeatIndex`, each row of the site of its ``url_column``."""
    settings = CleanerConfig.from_options(config, **options)
    texts = frame[column]
    if _no_repeats(repeats):
        cleaned = texts.map_partitions(clean_series, settings, meta=texts)
    else:
        index = repeats if isinstance(repeats, RepeatIndex) else index_dataframe(
            frame, column, url_column, split_every=split_every)
        cleaned = texts.map_partitions(_clean_pages, _urls(frame, url_column), settings,
                                       _shared(settings, index), meta=texts)
    return cast("dask.dataframe.DataFrame", frame.assign(**{column: cleaned}))


def index_bag(bag: dask.bag.Bag, *, split_every: int | None = None) -> Delayed:
    """The :class:`~cleaner.repeats.RepeatIndex` of a bag of texts, lazily (``.compute()``
    it to save it, say): each partition counted, and the counts merged up a tree,
    ``split_every`` (8 unless given) at a time. Texts carry no sites."""
    return _merged_counts(bag, RepeatIndex.build, split_every)


def index_dataframe(frame: dask.dataframe.DataFrame, column: str = "text",
                    url_column: str | None = "url", *,
                    split_every: int | None = None) -> Delayed:
    """Like :func:`index_bag` for the texts of ``column``, each counted for the site of
    its row's ``url_column`` (``None``: no sites)."""
    if _urls(frame, url_column) is None:
        return _merged_counts(frame[column].to_bag(), RepeatIndex.build, split_every)
    return _merged_counts(frame[[column, url_column]].to_bag(), _count_pages, split_every)


def _no_repeats(repeats: bool | RepeatIndex | None) -> bool:
    return repeats is False or repeats is None


def _urls(frame: dask.dataframe.DataFrame,
          url_column: str | None) -> dask.dataframe.Series | None:
    """The column of page URLs that lines are counted by site with, checked to be there."""
    if url_column is None:
        return None
    if url_column not in frame.columns:
        raise KeyError(f"no column {url_column!r} of page URLs; the columns are "
                       f"{list(frame.columns)}; pass url_column=None to count repeats "
                       "without sites")
    return cast("dask.dataframe.Series", frame[url_column])


def _merged_counts(pages: dask.bag.Bag, count: Callable[[Any], RepeatIndex],
                   split_every: int | None) -> Delayed:
    return cast("Delayed", pages.reduction(count, _merged, split_every=split_every)
                .to_delayed())


def _merged(indexes: Iterable[RepeatIndex]) -> RepeatIndex:
    """One index of the counts of ``indexes`` (an empty one for none: a bag of empty
    partitions)."""
    return RepeatIndex().merge(*indexes)


def _count_pages(pages: Iterable[tuple[str | None, str | None]]) -> RepeatIndex:
    """The index of one partition's ``(text, url)`` rows."""
    rows = list(pages)
    return RepeatIndex.build([text for text, _ in rows], [url for _, url in rows])


def _shared(settings: CleanerConfig, index: RepeatIndex | Delayed) -> Delayed:
    """``index`` as one key of the graph that every cleaning task reads. The model is asked
    here whether it weighs repeats, before a cluster counts a whole collection for
    nothing."""
    cached_cleaner(settings).require_repetition()
    if isinstance(index, RepeatIndex):
        from dask.delayed import delayed

        # A name of its own: tokenizing the index would pickle all of it, several times.
        return cast("Delayed", delayed(index, name=f"repeat-index-{uuid4().hex}"))
    return index


def _clean_partition(texts: Any, settings: CleanerConfig,
                     repeats: RepeatIndex | bool = False) -> list[str]:
    return list(cached_cleaner(settings).clean_many(texts, repeats=repeats))


def _clean_pages(texts: pandas.Series, urls: pandas.Series | None, settings: CleanerConfig,
                 repeats: RepeatIndex) -> pandas.Series:
    return clean_series(texts, settings, repeats=repeats, sites=urls)
