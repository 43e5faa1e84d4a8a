"""Tables of figures: rows of cells in columns, which are content however short or full of
digits their lines are.

A single row ("200 │ 2020-08-01 18:00 │ 4084") reads like a ticker or a menu, and a model
that has seen few such tables scores it as junk; a run of rows with the same columns and
numbers in them is a table. Smoothing keeps such rows whatever their scores (see
:func:`cleaner.smoothing.smooth_lines`).

>>> table_rows(["Stadt | Einwohner", "Berlin | 3 850 809", "Hamburg | 1 910 160",
...             "Home | News | Sport"]).tolist()
[True, True, True, False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import regex

SEPARATORS = ("|", "│", "┃")  # cell separators; tabs are spaces after normalization
MIN_ROWS = 3  # consecutive rows with the same columns
MIN_NUMERIC_ROWS = 2  # rows of those with a cell that is a number, date, time or amount
MAX_CELLS = 64  # a line cut into more pieces is not a table row (and is not parsed further)
# A cell that is a figure: digits with separators, signs, units of one or two symbols.
_FIGURE = regex.compile(r"[-+−±~≈<>]?\s*[\p{Sc}]?\s*\d[\d\s.,:/'’+\-−]*(?:\s*[%‰°\p{Sc}])?"
                        r"(?:\s*\p{L}{1,3})?")
# A line that only draws the table: dashes, box-drawing, colons, pluses and spaces.
_RULER = regex.compile(r"[\s\-–—=_:+|│┃─━┄┈┼╋├┤┬┴╪═]{3,}")


def table_rows(lines: Sequence[str]) -> np.ndarray:
    """Whether each line belongs to a table of figures: a run of at least :data:`MIN_ROWS`
    consecutive lines cut into the same number of cells (two or more) by the same separator,
    :data:`MIN_NUMERIC_ROWS` of them with a figure cell. Ruler lines (``───┼───``) between
    rows belong to the run; a blank line ends it."""
    out = np.zeros(len(lines), dtype=bool)
    text = "\n".join(lines)
    if not any(sep in text for sep in SEPARATORS):  # most documents: no cells at all
        return out
    bar, light, heavy = SEPARATORS  # spelled out: ten times faster than any() per line
    cut = [bar in line or light in line or heavy in line for line in lines]
    if sum(cut) < MIN_ROWS:
        return out
    # a line without separators can only be a ruler between two rows
    between = [False, *(a and b for a, b in zip(cut, cut[2:])), False][:len(lines)]
    shapes = [_shape(line) if c or b else None for line, c, b in zip(lines, cut, between)]
    start = 0
    while start < len(lines):
        shape = shapes[start]
        if shape is None or shape == "ruler":
            start += 1
            continue
        end, rows, numeric = start, 0, 0
        while end < len(lines) and shapes[end] in (shape, "ruler"):
            if shapes[end] == shape:
                rows += 1
                numeric += _has_figure(lines[end], shape[0])
            end += 1
        if rows >= MIN_ROWS and numeric >= MIN_NUMERIC_ROWS:
            out[start:end] = True
        start = end
    return out


def _shape(line: str) -> tuple[str, int] | str | None:
    """(separator, cells) of a row, ``"ruler"`` for a drawn line, else None."""
    if _RULER.fullmatch(line):
        return "ruler"
    if not any(sep in line for sep in SEPARATORS):
        return None
    sep = max(SEPARATORS, key=line.count)
    cells = line.strip().strip(sep).count(sep) + 1
    return (sep, cells) if 2 <= cells <= MAX_CELLS else None


def _has_figure(line: str, sep: str) -> bool:
    return any(_FIGURE.fullmatch(cell.strip()) for cell in line.strip().strip(sep).split(sep))
