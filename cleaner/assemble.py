"""Rebuild the output text from the lines that survived, and account for blank lines.

Paragraph breaks survive: between two kept lines the output has one blank line when the
input had at least one blank line anywhere between them, even if the lines that stood
between were removed. So removing a junk line never leaves two blank lines in a row, and
the output never starts or ends with a blank line.
"""

from __future__ import annotations

from collections.abc import Sequence

# Why a blank line was dropped, as shown by ``--explain``.
LEADING, TRAILING, RUN = "leading-blank", "trailing-blank", "blank-run"


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
