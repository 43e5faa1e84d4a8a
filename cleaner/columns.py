"""Cleaning a column of texts, as dataframes and datasets hold them: what the pandas, Hugging
Face ``datasets`` and datatrove helpers share.

A column may have missing texts (``None``, ``NaN``); they are not cleaned and stay in their
place as they were, so a row never moves or vanishes. Each process builds its cleaner once per
configuration (:func:`cleaner.pipeline.cached_cleaner`), so rules and model load once per
worker however many batches it gets.

>>> from cleaner.config import CleanerConfig
>>> texts, removed = clean_column_with_removed(
...     ["Rubio spoke on Tuesday.\\nTags: Senate, Florida\\n", None], [False, True],
...     CleanerConfig(use_model=False))
>>> texts
['Rubio spoke on Tuesday.\\n', None]
>>> [None if fraction is None else round(fraction, 2) for fraction in removed]
[0.48, None]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cleaner.config import CleanerConfig
from cleaner.pipeline import cached_cleaner
from cleaner.types import CleanResult


def clean_column(values: Sequence[object], missing: Sequence[bool],
                 config: CleanerConfig) -> list[object]:
    """``values`` with those not marked ``missing`` cleaned; each of them must be a ``str``
    (anything else raises the cleaner's one-line ``TypeError``)."""
    rows, present = _present(values, missing)
    texts = list(values)
    for row, text in zip(rows, cached_cleaner(config).clean_many(present)):
        texts[row] = text
    return texts


def clean_column_with_removed(values: Sequence[object], missing: Sequence[bool],
                              config: CleanerConfig,
                              ) -> tuple[list[object], list[float | None]]:
    """Like :func:`clean_column`, and each row's :func:`removed_fraction` (``None`` for a
    missing value), which needs the removed lines and so costs a little more."""
    rows, present = _present(values, missing)
    texts = list(values)
    fractions: list[float | None] = [None] * len(values)
    results = cached_cleaner(config).explain_many(present, brief=True)
    for row, result in zip(rows, results):
        texts[row] = result.text
        fractions[row] = removed_fraction(result)
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



def _present(values: Sequence[object], missing: Sequence[bool]) -> tuple[list[int], list[Any]]:
    """The rows of the values not missing, and those values (a non-str among them meets the
    cleaner's ``TypeError``)."""
    rows = [row for row, gone in enumerate(missing) if not gone]
    return rows, [values[row] for row in rows]
