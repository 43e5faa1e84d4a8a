"""Value types shared by the pipeline stages: what was decided for each line and why."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class Stage(str, enum.Enum):
    """The pipeline stage that took a line's final decision."""

    WHITESPACE = "whitespace"
    RULE = "rule"
    MODEL = "model"
    SMOOTHING = "smoothing"


@dataclass(frozen=True)
class Decision:
    """The fate of one input line.

    ``line_no`` is 1-based; ``text`` is the line as it came in and ``normalized`` as it
    leaves if kept. ``reason`` names the rule id (stage rule), a short tag (stage
    whitespace or smoothing) or is empty; ``score`` is the model's boilerplate probability
    when the model saw the line, else ``None`` (with repetition evidence, the probability
    after weighing it). ``repeats`` is that evidence, when cleaning used a repetition index
    and other documents hold the line: (documents of the same site, documents, sites).
    """

    line_no: int
    text: str
    normalized: str
    kept: bool
    stage: Stage
    reason: str = ""
    category: str = ""
    score: float | None = None
    repeats: tuple[int, int, int] | None = None


REPEATED = "repeated"  # the reason of a line that repetition evidence took out


@dataclass(frozen=True)
class DocStats:
    """How much of one document cleaning removed, and why: the figures by which pipelines
    drop a document whose remainder is too small (as NeMo Curator's and datatrove's filters
    do with their line ratios), without cleaning it again.

    Lines are the document's non-blank lines and characters are theirs, after
    normalization; blank lines and line breaks count for nothing. Removed lines are
    counted per reason: per rule category (``"ad"``, ``"related"``, ...), by the model
    (its score or smoothing) and by repetition (lines that the model kept on their own but
    removed once the repetition evidence was weighed).
    """

    lines: int
    lines_removed: int
    chars: int
    chars_removed: int
    removed_by_rule: dict[str, int] = field(default_factory=dict, hash=False)
    removed_by_model: int = 0
    removed_by_repetition: int = 0

    @classmethod
    def of(cls, result: CleanResult) -> DocStats:
        """The figures of ``result``, whole or brief: the removed lines' decisions and the
        lines of its text are all they need."""
        kept = [line for line in result.text.split("\n") if line]
        removed = result.removed
        by_rule = Counter(d.category for d in removed if d.stage is Stage.RULE)
        repeated = sum(1 for d in removed if d.reason == REPEATED)
        return cls(
            lines=len(kept) + len(removed), lines_removed=len(removed),
            chars=sum(map(len, kept)) + sum(len(d.normalized) for d in removed),
            chars_removed=sum(len(d.normalized) for d in removed),
            removed_by_rule=dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
            removed_by_model=len(removed) - by_rule.total() - repeated,
            removed_by_repetition=repeated)

    @property
    def line_fraction_removed(self) -> float:
        """Removed lines over lines (0 for a document without any)."""
        return self.lines_removed / self.lines if self.lines else 0.0

    @property
    def char_fraction_removed(self) -> float:
        """Removed characters over characters (0 for a document without any)."""
        return self.chars_removed / self.chars if self.chars else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON object, as ``--doc-stats`` adds them to a record.

        >>> DocStats(4, 1, 100, 10, {"ad": 1}).as_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'line_fraction_removed': 0.25, 'char_fraction_removed': 0.1, 'lines': 4,
         'lines_removed': 1, 'chars': 100, 'chars_removed': 10,
         'lines_removed_by': {'rule': {'ad': 1}, 'model': 0, 'repetition': 0}}
        """
        return {
            "line_fraction_removed": self.line_fraction_removed,
            "char_fraction_removed": self.char_fraction_removed,
            "lines": self.lines, "lines_removed": self.lines_removed,
            "chars": self.chars, "chars_removed": self.chars_removed,
            "lines_removed_by": {"rule": dict(self.removed_by_rule),
                                 "model": self.removed_by_model,
                                 "repetition": self.removed_by_repetition},
        }


@dataclass(frozen=True)
class CleanResult:
    """Cleaned text plus one :class:`Decision` per input line.

    A *brief* result (see :meth:`brief`) keeps only the decisions of removed lines;
    ``line_count`` is the number of input lines either way. ``segments`` is how many
    segments the document was cleaned in (see :mod:`cleaner.segment`).
    """

    text: str
    decisions: tuple[Decision, ...]
    line_count: int = -1
    segments: int = 1

    def __post_init__(self) -> None:
        if self.line_count < 0:
            object.__setattr__(self, "line_count", len(self.decisions))

    @property
    def removed(self) -> tuple[Decision, ...]:
        """Decisions of the non-blank lines that were dropped."""
        return tuple(d for d in self.decisions if not d.kept and d.normalized.strip())

    @property
    def doc_stats(self) -> DocStats:
        """How much of the document was removed, and why (see :class:`DocStats`)."""
        return DocStats.of(self)

    def brief(self) -> CleanResult:
        """The same result with only the removed lines' decisions."""
        return CleanResult(self.text, self.removed, self.line_count, self.segments)
