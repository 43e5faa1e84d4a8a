"""Value types shared by the pipeline stages: what was decided for each line and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    when the model saw the line, else ``None``.
    """

    line_no: int
    text: str
    normalized: str
    kept: bool
    stage: Stage
    reason: str = ""
    category: str = ""
    score: float | None = None


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
        return tuple(d for d in self.decisions if not d.kept and d.normalized)

    def brief(self) -> CleanResult:
        """The same result with only the removed lines' decisions."""
        return CleanResult(self.text, self.removed, self.line_count, self.segments)
