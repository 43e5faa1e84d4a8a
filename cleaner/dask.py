"""Cleaning on a Dask cluster: a bag of texts, or a text column of a dataframe.

Each partition is cleaned with :meth:`Cleaner.clean_many`, a dataframe's with
:func:`cleaner.frame.clean_series` (so missing texts stay missing); every worker process
builds its cleaner once per configuration and reuses it, so rules and model load once per
worker. The output equals single-process cleaning, partition by partition. Needs ``pip
install 'cleaner[dask]'``.

>>> import dask.bag as db                                  # doctest: +SKIP
>>> clean_bag(db.read_text("shards/*.txt")).to_textfiles("out/*.txt")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from cleaner.config import CleanerConfig
from cleaner.frame import clean_series
from cleaner.pipeline import cached_cleaner

if TYPE_CHECKING:
    import dask.bag
    import dask.dataframe


def clean_bag(bag: dask.bag.Bag, config: CleanerConfig | None = None,
              **options: Any) -> dask.bag.Bag:
    """A bag of cleaned texts, in the order of ``bag``; options as for ``Cleaner``."""
    settings = CleanerConfig.from_options(config, **options)
    return cast("dask.bag.Bag", bag.map_partitions(_clean_partition, settings))


def clean_dataframe(frame: dask.dataframe.DataFrame, column: str = "text",
                    config: CleanerConfig | None = None,
                    **options: Any) -> dask.dataframe.DataFrame:
    """``frame`` with ``column`` cleaned and every other column untouched."""
    settings = CleanerConfig.from_options(config, **options)
    cleaned = frame[column].map_partitions(clean_series, settings, meta=frame[column])
    return cast("dask.dataframe.DataFrame", frame.assign(**{column: cleaned}))


def _clean_partition(texts: Any, settings: CleanerConfig) -> list[str]:
    return list(cached_cleaner(settings).clean_many(texts))

