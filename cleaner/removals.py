"""What a run removed, counted over every document, with a seeded sample of documents kept
whole for people to read (the ``cleaner report`` page, :mod:`cleaner.report`).

A cleaner is judged by what it removed: these counts say how much went and why (rule
family, stage, and per language and source when JSON Lines records carry ``lang`` and
``source`` fields), and the sample shows it line by line. Memory stays bounded whatever the
corpus size: the sample is a reservoir of ``sample`` documents, each cut at
:data:`SHOWN_LINES` lines, and a field holds at most :data:`MAX_GROUPS` distinct values.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cleaner.types import CleanResult, Decision, DocStats, Stage

NEAR = 0.1
"""A kept line scored at least this close below the threshold is worth a second look."""

DEFAULT_SAMPLE = 200
"""Documents shown by default: enough to judge by, small enough to open at once."""

SHOWN_LINES = 2000
"""Lines of one sampled document kept for the page; the rest are only counted."""

GROUP_FIELDS = ("lang", "source")
"""Record fields whose values split the counts."""

LABEL_FIELDS = ("id", "url", "title", "lang", "source")
"""Record fields shown beside a sampled document's name, when present."""

MAX_GROUPS = 1000
"""Distinct values counted per group field; further values count as :data:`OTHER`."""

OTHER = "(other)"
NONE = "(none)"
_LABEL_CHARS = 200


@dataclass
class Tally:
    """Documents, non-blank lines and their characters, in and removed."""

    documents: int = 0
    lines: int = 0
    removed_lines: int = 0
    chars: int = 0
    removed_chars: int = 0

    def add(self, stats: DocStats) -> None:
        """Count the lines of one document's figures (not the document itself): the same
        figures that ``--doc-stats`` writes."""
        self.lines += stats.lines
        self.removed_lines += stats.lines_removed
        self.chars += stats.chars
        self.removed_chars += stats.chars_removed

    def __iadd__(self, other: Tally) -> Tally:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


@dataclass
class Document:
    """A sampled document: where it came from, its lines' decisions (the first
    :data:`SHOWN_LINES`) and its counts over all of its lines."""

    index: int  # its place in the run, from 0
    name: str
    labels: dict[str, str]
    decisions: list[Decision] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    line_count: int = 0  # every line, blank ones too

    @property
    def hidden_lines(self) -> int:
        """Lines not kept for the page (blank ones included)."""
        return self.line_count - len(self.decisions)


def removed_by_model(d: Decision) -> bool:
    """A non-blank line that the model removed, or smoothing did from its scores."""
    return not d.kept and bool(d.normalized) and d.stage in (Stage.MODEL, Stage.SMOOTHING)


def near_threshold(d: Decision, threshold: float | None) -> bool:
    """A kept line the model scored within :data:`NEAR` below the threshold, or above it
    (kept by smoothing or as a table row)."""
    return (d.kept and d.score is not None and threshold is not None
            and d.score >= threshold - NEAR)


class Removals:
    """Counts every result of a run and samples documents; a :class:`cleaner.runner.Recorder`.

    The sample is the first ``sample`` documents, then each later document replaces a
    random one of them with the chance that leaves every document equally likely to be shown
    (reservoir sampling), drawn from ``seed``: the same input gives the same sample.
    ``threshold`` is the model's, ``None`` without a model.
    """

    def __init__(self, threshold: float | None, sample: int = DEFAULT_SAMPLE,
                 seed: int = 0) -> None:
        if sample < 1:
            raise ValueError(f"the sample must hold at least one document, not {sample}")
        self.threshold = threshold
        self.sample_size = sample
        self.seed = seed
        self.total = Tally()
        self.by_category: Counter[str] = Counter()
        self.by_stage: Counter[str] = Counter()
        self.groups: dict[str, dict[str, Tally]] = {name: {} for name in GROUP_FIELDS}
        self.model_removed = 0
        self.near = 0
        self._sample: list[Document] = []
        self._rng = random.Random(seed)
        self._current: Document | None = None
        self._current_groups: list[Tally] = []

    @property
    def sample(self) -> list[Document]:
        """The sampled documents, in input order."""
        return sorted(self._sample, key=lambda doc: doc.index)

    def add(self, name: str, record: Mapping[str, Any] | None, result: CleanResult,
            segment: int) -> None:
        """Count one document's result, or one segment's (``segment`` > 0 continues the
        document before it)."""
        if segment == 0:
            self._start(name, record)
        decisions = result.decisions
        counts = Tally()
        counts.add(result.doc_stats)
        for tally in (self.total, *self._current_groups):
            tally += counts
        for d in result.removed:
            self.by_category[d.category or "other"] += 1
            self.by_stage[d.stage.value] += 1
        self.model_removed += sum(map(removed_by_model, decisions))
        self.near += sum(near_threshold(d, self.threshold) for d in decisions)
        doc = self._current
        if doc is not None:
            doc.tally += counts
            doc.line_count += len(decisions)
            doc.decisions += decisions[:max(SHOWN_LINES - len(doc.decisions), 0)]

    def _start(self, name: str, record: Mapping[str, Any] | None) -> None:
        """A new document: counted, grouped, and perhaps taken into the sample."""
        index = self.total.documents
        self.total.documents += 1
        self._current_groups = []
        if record is not None:
            for group, counts in self.groups.items():
                value = _label(record.get(group)) or NONE
                if value not in counts and len(counts) >= MAX_GROUPS:
                    value = OTHER
                tally = counts.setdefault(value, Tally())
                tally.documents += 1
                self._current_groups.append(tally)
        slot = index if index < self.sample_size else self._rng.randrange(index + 1)
        if slot >= self.sample_size:
            self._current = None
            return
        labels = {} if record is None else {
            key: value for key in LABEL_FIELDS if (value := _label(record.get(key)))}
        self._current = Document(index, name, labels)
        if slot == len(self._sample):
            self._sample.append(self._current)
        else:
            self._sample[slot] = self._current


def _label(value: object) -> str:
    """A record field as a short label; empty for a missing field or one that is not a
    plain value."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        return ""
    return str(value).strip()[:_LABEL_CHARS]
