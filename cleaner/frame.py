"""Cleaning a pandas column: a Series in, a Series out, with the same index, name and dtype.

Missing texts (``None``, ``NaN``, ``pd.NA``) stay as they were. The Dask helpers
(:mod:`cleaner.dask`) clean each partition with these. Needs ``pip install 'cleaner[pandas]'``.

>>> import pandas as pd
>>> pages = pd.DataFrame({"url": ["a", "b"], "text": ["Rubio spoke.\\nTags: Senate\\n", None]})
>>> cleaned = clean_frame(pages, "text", removed_column="removed", use_model=False)
>>> cleaned["text"][0], cleaned["text"].isna().tolist(), cleaned["removed"].round(2).tolist()
('Rubio spoke.\\n', [False, True], [0.5, nan])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cleaner.columns import check_columns, clean_column, clean_column_with_removed
from cleaner.config import CleanerConfig
from cleaner.repeats import RepeatIndex

if TYPE_CHECKING:
    import pandas


def clean_series(series: pandas.Series, config: CleanerConfig | None = None, *,
                 repeats: bool | RepeatIndex = False, sites: Iterable[str | None] | None = None,
                 **options: Any) -> pandas.Series:
    """``series`` cleaned, row by row; options as for ``Cleaner``, ``repeats`` and
    ``sites`` (each row's URL or site) as for :meth:`Cleaner.clean_many
    <cleaner.pipeline.Cleaner.clean_many>`."""
    settings = CleanerConfig.from_options(config, **options)
    return _like(series, clean_column(series.tolist(), settings, repeats, sites))


def clean_frame(frame: pandas.DataFrame, column: str = "text", *,
                removed_column: str | None = None, config: CleanerConfig | None = None,
                **options: Any) -> pandas.DataFrame:
    """A copy of ``frame`` with ``column`` cleaned and every other column untouched; with
    ``removed_column``, also a new column of each row's removed fraction (see
    :func:`cleaner.columns.removed_fraction`; ``NaN`` where the text is missing)."""
    check_columns(frame.columns, column, removed_column)
    settings = CleanerConfig.from_options(config, **options)
    series = frame[column]
    if removed_column is None:
        return frame.assign(**{column: clean_series(series, settings)})
    texts, removed = clean_column_with_removed(series.tolist(), settings)
    return frame.assign(**{column: _like(series, texts),
                           removed_column: series.__class__(removed, index=series.index,
                                                            dtype="float64")})


def _like(series: pandas.Series, values: list[object]) -> pandas.Series:
    """``values`` as a Series with ``series``'s index, name and dtype."""
    return series.__class__(values, index=series.index, name=series.name, dtype=series.dtype)
