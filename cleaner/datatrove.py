"""A datatrove pipeline step that cleans each ``Document.text``.

It is a formatter in datatrove's sense (documents go on, with their text changed), but takes
documents a batch at a time, because the model scores a whole batch at once; datatrove's
``BaseFormatter`` formats one text at a time. Each document's removed fraction (see
:func:`cleaner.columns.removed_fraction`) goes into its metadata, and its mean into the
step's stats. Needs ``pip install 'cleaner[datatrove]'``.

>>> from datatrove.data import Document
>>> step = CleanerStep(use_model=False)
>>> [doc.text for doc in step.run([Document("Rubio spoke.\\nTags: Senate\\n", "1")])]
['Rubio spoke.\\n']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

try:
    from datatrove.data import Document
    from datatrove.pipeline.base import PipelineStep
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError("cleaner.datatrove needs datatrove: pip install 'cleaner[datatrove]'"
                      ) from error

from cleaner.columns import clean_column_with_removed
from cleaner.config import BATCH_SIZE, CleanerConfig

REMOVED_KEY = "cleaner_removed_fraction"
"""The metadata key of a document's removed fraction, unless the step is given another."""


class CleanerStep(PipelineStep):  # type: ignore[misc]  # datatrove has no type hints
    """Clean every document's text; options as for ``Cleaner``.

    A document whose text is ``None`` goes on untouched, counted as ``missing_text``.
    ``removed_key`` names the metadata entry that gets the removed fraction (replacing an
    earlier one, such as a previous cleaning's). The step holds only its configuration, so
    it pickles small for the executors; each task's process builds its cleaner once.
    """

    name = "🧹 cleaner"
    type = "✂️ - FORMAT"

    def __init__(self, removed_key: str = REMOVED_KEY, batch_size: int = BATCH_SIZE,
                 config: CleanerConfig | None = None, **options: Any) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.removed_key = removed_key
        self.batch_size = batch_size
        self.config = CleanerConfig.from_options(config, **options)

    def run(self, data: Iterable[Document], rank: int = 0,
            world_size: int = 1) -> Iterator[Document]:
        """The documents of ``data``, in order, each with its text cleaned."""
        documents = iter(data)
        while batch := list(itertools.islice(documents, self.batch_size)):
            texts = [doc.text for doc in batch]
            with self.track_time("batch"):
                cleaned, removed = clean_column_with_removed(texts, self.config)
            for doc, text, fraction in zip(batch, cleaned, removed):
                self.stat_update("total")
                if fraction is None:
                    self.stat_update("missing_text")
                    yield doc
                    continue
                doc.text = text
                doc.metadata[self.removed_key] = fraction
                self.stat_update("removed_fraction", value=fraction)
                self.update_doc_stats(doc)
                yield doc
