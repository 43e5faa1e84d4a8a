"""Cleaning a column of texts, as dataframes and datasets hold them: what the pandas, Hugging
Face ``datasets`` and datatrove helpers share.

A column may have missing texts (``None``, ``NaN``); they are not cleaned and stay in their
place as they were, so a row never moves or vanishes. Each process builds its cleaner once per
configuration (:func:`cleaner.pipeline.cached_cleaner`), so rules and model load once per
worker however many batches it gets.

>>> from cleaner.config import CleanerConfig
>>> texts, removed = clean_column_with_removed(
...     ["Rubio spoke on Tuesday.\\nTags: Senate, Florida\\n", None],
...     CleanerConfig(use_model=False))
>>> texts
['Rubio spoke on Tuesday.\\n', None]
>>> [None if fraction is None else round(fraction, 2) for fraction in removed]
[0.48, None]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from cleaner.config import CleanerConfig
from cleaner.pipeline import cached_cleaner
from cleaner.repeats import RepeatIndex
from cleaner.types import CleanResult


def clean_column(values: Sequence[object], config: CleanerConfig,
                 repeats: bool | RepeatIndex = False,
                 sites: Iterable[str | None] | None = None) -> list[object]:
    """``values`` cleaned; a missing one (``None``, NaN, ``pandas.NA``: see
    :meth:`Cleaner.clean_many <cleaner.pipeline.Cleaner.clean_many>`) stays as it was, and
    any other that is not a ``str`` raises the cleaner's one-line ``TypeError``. ``repeats``
    and ``sites`` are those of ``clean_many``."""
    cleaned = cached_cleaner(config).clean_many(_texts(values), repeats=repeats,
                                                sites=sites)
    return [value if text is None else text for value, text in zip(values, cleaned)]


def clean_column_with_removed(values: Sequence[object], config: CleanerConfig,
                              ) -> tuple[list[object], list[float | None]]:
    """Like :func:`clean_column`, and each row's :func:`removed_fraction` (``None`` for a
    missing value), which needs the removed lines and so costs a little more."""
    texts: list[object] = []
    fractions: list[float | None] = []
    for value, result in zip(values, cached_cleaner(config).explain_many(_texts(values),
                                                                         brief=True)):
        texts.append(value if result is None else result.text)
        fractions.append(None if result is None else removed_fraction(result))
    return texts, fractions


def check_columns(columns: Iterable[object], text_column: str,
                  removed_column: str | None) -> None:
    """Refuse a text column that is not there and a removed-fraction column that is (it
    would be overwritten), with a message that says which."""
    names = list(columns)
    if text_column not in names:
        raise KeyError(f"no column {text_column!r}; the columns are {names}")
    if removed_column is not None and removed_column in names:
        raise ValueError(f"removed_column {removed_column!r} is already a column; "
                         "choose a new name")


def removed_fraction(result: CleanResult) -> float:
    """The share of the document's characters (in non-blank lines) that were in removed
    lines, from 0 (nothing but whitespace changed) to 1; 0 for an empty text: the
    ``char_fraction_removed`` of :attr:`CleanResult.doc_stats`, as ``--doc-stats`` writes
    it. A page that was mostly boilerplate scores high, which makes it a column to filter or
    sample on."""
    return result.doc_stats.char_fraction_removed



def _texts(values: Sequence[object]) -> Sequence[str | float | None]:
    """``values`` as the cleaner takes them: it checks each one itself."""
    return cast(Sequence[str | float | None], values)
