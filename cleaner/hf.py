"""Cleaning a Hugging Face ``datasets`` column with ``Dataset.map``.

``ds.map(clean_batch, batched=True, num_proc=N)`` cleans the ``text`` column in place and
keeps every other column; ``functools.partial`` picks another column, a removed-fraction
column or any ``Cleaner`` option. A ``None`` text stays ``None``. Each of the ``num_proc``
processes builds its cleaner once per configuration. Needs ``pip install 'cleaner[hf]'``.

>>> import functools
>>> from datasets import Dataset
>>> pages = Dataset.from_dict({"id": [1, 2], "text": ["Rubio spoke.\\nTags: Senate\\n", None]})
>>> list(pages.map(functools.partial(clean_batch, use_model=False), batched=True)["text"])
['Rubio spoke.\\n', None]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cleaner.columns import check_columns, clean_column, clean_column_with_removed
from cleaner.config import CleanerConfig


def clean_batch(batch: Mapping[str, Any], text_column: str = "text",
                removed_column: str | None = None, config: CleanerConfig | None = None,
                **options: Any) -> dict[str, list[Any]]:
    """The batch's cleaned ``text_column`` (and, with ``removed_column``, a new column of
    each row's removed fraction, ``None`` where the text is ``None``: see
    :func:`cleaner.columns.removed_fraction`); ``Dataset.map`` keeps the other columns."""
    check_columns(batch, text_column, removed_column)
    texts = batch[text_column]
    if not isinstance(texts, list):
        raise TypeError("clean_batch cleans a batch: call ds.map(clean_batch, batched=True)")
    settings = CleanerConfig.from_options(config, **options)
    if removed_column is None:
        return {text_column: clean_column(texts, settings)}
    cleaned, removed = clean_column_with_removed(texts, settings)
    return {text_column: cleaned, removed_column: removed}
