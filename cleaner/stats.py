"""Run statistics for ``--stats``: what came in, what went out, and why lines went."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from cleaner.io import utf8_size
from cleaner.types import REPEATED, CleanResult, Stage


@dataclass
class Stats:
    """Counters over one run, added to per document. ``drop_empty``: the run drops
    documents cleaned to nothing (``--drop-empty``), so the report counts them."""

    drop_empty: bool = False
    documents: int = 0
    segmented_documents: int = 0
    lines_in: int = 0
    lines_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    undecodable_bytes: int = 0
    records_in: int = 0
    records_out: int = 0
    records_skipped: int = 0
    records_unchanged: int = 0
    dropped_empty: int = 0
    removed_by_category: Counter[str] = field(default_factory=Counter)
    removed_by_stage: Counter[str] = field(default_factory=Counter)
    removed_by_repetition: int = 0  # lines the model removed once repetition was weighed
    # Start-up (rules and model loading) is timed apart: the speed is the cleaning's own, so
    # a small run is not made to look slow by a fixed cost.
    loading_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)  # when cleaning began

    def add(self, result: CleanResult, bytes_in: int, undecodable: int = 0, *,
            segment: int = 0) -> None:
        """Count one cleaned document, or one segment of a document cleaned segment by
        segment (see :meth:`~cleaner.pipeline.Cleaner.explain_segments`): ``segment`` is
        its index, so only the first segment counts as a document."""
        self.documents += segment == 0
        self.segmented_documents += segment == 1 or result.segments > 1
        self.lines_in += result.line_count
        text = result.text
        self.lines_out += text.count("\n") + (bool(text) and not text.endswith("\n"))
        self.bytes_in += bytes_in
        self.bytes_out += utf8_size(text)
        self.undecodable_bytes += undecodable
        for decision in result.removed:
            self.removed_by_category[decision.category or "other"] += 1
            self.removed_by_stage[decision.stage.value] += 1
            self.removed_by_repetition += decision.reason == REPEATED

    def format(self) -> str:
        """A short human-readable report, one fact per line."""
        seconds = max(time.perf_counter() - self.started, 1e-9)
        rows = [
            f"documents: {self.documents}",
            f"segmented documents: {self.segmented_documents}",
            f"lines: {self.lines_in} in, {self.lines_out} out",
            f"bytes: {self.bytes_in} in, {self.bytes_out} out",
            f"undecodable bytes carried through: {self.undecodable_bytes}",
            *([f"documents dropped as empty: {self.dropped_empty}"] if self.drop_empty else []),
            *([f"records: {self.records_in} in, {self.records_out} cleaned, "
               + (f"{self.dropped_empty} dropped as empty, " if self.drop_empty else "")
               + f"{self.records_unchanged} passed through unchanged, "
               f"{self.records_skipped} skipped"] if self.records_in else []),
            "removed lines by stage: " + _counts(self.removed_by_stage, [s.value for s in Stage]),
            "removed lines by category: " + _counts(self.removed_by_category),
            *([f"removed lines that repetition decided: {self.removed_by_repetition} (of "
               f"the model's)"] if self.removed_by_repetition else []),
            f"loading rules and model: {self.loading_seconds:.2f} s (not in the speed)",
            f"cleaning: {seconds:.2f} s",
            f"speed: {self.documents / seconds:.1f} docs/s, "
            f"{self.bytes_in / 1e6 / seconds:.2f} MB/s",
        ]
        return "\n".join(rows)


def _counts(counter: Counter[str], order: list[str] | None = None) -> str:
    keys = order or sorted(counter, key=lambda k: (-counter[k], k))
    shown = [f"{k} {counter[k]}" for k in keys if counter[k]]
    return ", ".join(shown) or "none"
