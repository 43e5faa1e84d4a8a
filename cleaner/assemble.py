"""The blank-line policy: how the kept lines stand in the output, and why a blank line went.

Paragraph breaks survive: between two kept lines the output has one blank line when the
input had at least one blank line anywhere between them, even if the lines that stood
between were removed. So removing a junk line never leaves two blank lines in a row, and
the output never starts or ends with a blank line. The model reads each document the same
way (:func:`paragraph_view`), in the pipeline and in training alike.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

# Why a blank line was dropped, as shown by ``--explain``.
LEADING, TRAILING, RUN = "leading-blank", "trailing-blank", "blank-run"


def paragraph_view(alive: np.ndarray, blanks_before: np.ndarray) -> np.ndarray:
    """Where the kept lines ``alive`` (input indices, ascending) stand in the output: their
    indices with ``-1`` for the one blank line between two of them that the input separated
    by any blank line (``blanks_before[i]`` counts the blank lines among the first ``i``).

    >>> paragraph_view(np.array([1, 3, 6]), np.array([1, 1, 2, 2, 3, 4, 5])).tolist()
    [1, -1, 3, -1, 6]
    """
    blanks = blanks_before[alive]
    separated = np.zeros(len(alive), dtype=np.int64)
    separated[1:] = blanks[1:] > blanks[:-1]
    index = np.full(len(alive) + int(separated.sum()), -1, dtype=np.int64)
    index[np.arange(len(alive)) + np.cumsum(separated)] = alive
    return index


def blank_counts(lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-blank lines' indices, and per line how many blank lines come before it."""
    blank = np.fromiter(map(operator.not_, map(str.strip, lines)), dtype=bool,
                        count=len(lines))
    return np.flatnonzero(~blank), np.cumsum(blank) - blank


def assemble(lines: Sequence[str], removed: Sequence[bool],
             collapse_blank_lines: bool = True) -> tuple[str, list[str]]:
    """Join the kept lines; return the text and, per input line, why it was dropped.

    ``lines`` are normalized lines where ``""`` (or only spaces) is blank; ``removed`` marks
    the non-blank lines that a rule, the model or smoothing removed. The returned list has
    ``""`` for every line that appears in the output and a reason for every blank line that
    does not; removed non-blank lines get ``""`` too (their reason is the remover's).

    >>> lines = ["", "Title", "", "junk", "", "", "Body"]
    >>> assemble(lines, [False, False, False, True, False, False, False])
    ('Title\\n\\nBody\\n', ['leading-blank', '', '', '', 'blank-run', 'blank-run', ''])
    """
    blank = [not line.strip() for line in lines]
    dropped = [""] * len(lines)
    out: list[str] = []
    pending: list[int] = []  # blank lines seen since the last kept line
    for i, line in enumerate(lines):
        if blank[i]:
            pending.append(i)
            continue
        if removed[i]:
            continue
        if pending:
            if not out:
                for j in pending:
                    dropped[j] = LEADING
            elif collapse_blank_lines:
                out.append("")
                for j in pending[1:]:
                    dropped[j] = RUN
            else:
                out.extend("" for _ in pending)
            pending = []
        out.append(line)
    for j in pending:
        dropped[j] = TRAILING if out else LEADING
    return ("\n".join(out) + "\n" if out else ""), dropped
