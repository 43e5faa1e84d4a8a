"""A repetition index over the command line's inputs: what ``cleaner index`` writes, and
the first of the two passes of ``cleaner --repeats``.

Inputs are read as a cleaning run with the same options reads them (text files a segment
at a time, so that a long one is never held whole; JSON Lines records checked one by one,
with their site from the URL field), so the index holds exactly the documents that run
cleans, and ``--repeats`` gives what ``cleaner index`` then ``--repeat-index`` give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cleaner.errors import CleanerError, InputError
from cleaner.io import TextInput, read_records
from cleaner.repeats import BATCH_DOCS, RepeatIndex, site_of
from cleaner.runner import Options
from cleaner.segment import split_segments


class Indexer:
    """Counts the lines of inputs into one :class:`~cleaner.repeats.RepeatIndex`.

    ``report`` receives "error: ..." for an input that could not be read to its end (what
    was read before the error is counted, as a cleaning run cleans it) and "warning: ..."
    for a bad record that ``on_error`` leaves out; ``failed`` says whether any input
    failed. ``with_site`` counts the documents whose record named a site.
    """

    def __init__(self, options: Options,
                 report: Callable[[str], None] = lambda message: None) -> None:
        self.options = options
        self.report = report
        self.index = RepeatIndex()
        self.failed = False
        self.with_site = 0

    def add_inputs(self, names: Iterable[str]) -> RepeatIndex:
        """Count every input (``-`` is standard input); returns the index."""
        for name in names:
            try:
                if self.options.jsonl:
                    self._add_records(name)
                else:
                    self._add_text(name)
            except CleanerError as e:
                self.report(f"error: {e}")
                self.failed = True
        return self.index

    def _add_text(self, name: str) -> None:
        """A text input is one document without a site; one that fails to read is not
        counted, as its cleaned output is discarded."""
        source = TextInput(name, self.options.encoding, allow_binary=self.options.allow_binary)
        self.index.add(segment.text for segment in split_segments(source.chunks()))

    def _add_records(self, name: str) -> None:
        """The records of a JSON Lines input, counted a batch at a time; those read before
        a failure are counted too."""
        opts = self.options
        texts: list[str] = []
        urls: list[str | None] = []
        try:
            for _, _, record in read_records(name, opts.text_field):
                if isinstance(record, InputError):
                    if opts.on_error == "fail":
                        raise record
                    self.report(f"warning: {record} (record left out of the index)")
                    continue
                text = record[opts.text_field]
                if text is None:  # passed through uncleaned
                    continue
                url = record.get(opts.url_field)
                self.with_site += site_of(url) is not None
                texts.append(text)
                urls.append(url)
                if len(texts) == BATCH_DOCS:
                    self.index.add_many(texts, urls)
                    texts, urls = [], []
        finally:
            self.index.add_many(texts, urls)
