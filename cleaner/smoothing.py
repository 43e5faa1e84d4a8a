"""Revise the model's per-line decisions in context, so blocks go and stay as blocks.

Boilerplate comes in runs (a promotion box, a list of teasers, a footer) and content too,
but a single line's probability can stray either way: a speaker's name inside a webinar box
looks like a heading, a heading between paragraphs looks like a teaser. A two-state path
(keep / remove) over the non-blank lines is chosen to agree with the probabilities while
paying ``switch_cost`` for each change of state (Viterbi, as in an HMM with sticky
states). A line is then removed against its own score only when it sits inside a block
that is clearly the other way; a lone line with a clear score of its own keeps it.

Content is protected more than boilerplate is: the path only removes a line whose
probability is at least ``min_remove``.

Then the tail: junk that fills the end of a document (a promotion box, a footer) often
starts with a few lines that read half like content ("Ihre Experten im Webinar:"). When
the last ``tail_min_lines`` scored lines or more are removed, up to ``tail_steps`` lines
right above them go too if their probability exceeds ``tail_above``.

Last, the rows of a table of figures stay whatever their scores (:mod:`cleaner.tables`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cleaner.config import SmoothingConfig
from cleaner.tables import table_rows

_CLIP = 1e-4
DEFAULTS = SmoothingConfig()


def smooth(probs: np.ndarray, threshold: float,
           options: SmoothingConfig = DEFAULTS) -> tuple[np.ndarray, np.ndarray]:
    """Decide one document's lines from their P(boilerplate) (NaN for blank lines), with
    the parameters of ``options``.

    Returns ``(removed, changed)``: which lines go, and which of those decisions differ
    from plain thresholding (``probs > threshold``). Blank lines are never removed.

    >>> p = np.array([0.05, 0.6, 0.05, np.nan, 0.9, 0.45, 0.95])
    >>> removed, changed = smooth(p, 0.5)
    >>> removed.tolist()
    [False, False, False, False, True, True, True]
    >>> changed.tolist()
    [False, True, False, False, False, True, False]
    """
    probs = np.asarray(probs, dtype=np.float64)
    scored = np.flatnonzero(~np.isnan(probs))
    removed = np.zeros(len(probs), dtype=bool)
    plain = np.zeros(len(probs), dtype=bool)
    if len(scored) == 0:
        return removed, removed.copy()
    p = np.clip(probs[scored], _CLIP, 1 - _CLIP)
    t = min(max(threshold, _CLIP), 1 - _CLIP)
    lowest = min(options.min_remove, t)  # the least probability of a line the path may remove
    if p.max() < lowest:  # no line can go, whatever the path (a clean document)
        return removed, plain
    gain = np.log(p / (1 - p)) - math.log(t / (1 - t))  # > 0: removing this line pays
    path = _viterbi(gain, options.switch_cost)
    path &= p >= lowest
    path = _grow_tail(path, p > options.tail_above, options.tail_min_lines,
                      options.tail_steps)
    removed[scored] = path
    plain[scored] = probs[scored] > threshold
    return removed, removed != plain


def smooth_lines(lines: Sequence[str], probs: np.ndarray, threshold: float,
                 options: SmoothingConfig = DEFAULTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`smooth` over a document's lines, then every row of a table of figures stays.
    Returns ``(removed, changed, table)``: ``table`` marks the rows that stay only because
    they are table rows."""
    removed, changed = smooth(probs, threshold, options)
    if not removed.any():
        return removed, changed, np.zeros(len(removed), dtype=bool)
    table = removed & table_rows(lines)
    return removed & ~table, changed & ~table, table


def _grow_tail(removed: np.ndarray, eligible: np.ndarray, min_lines: int,
               steps: int) -> np.ndarray:
    """``removed`` plus up to ``steps`` eligible lines right above a removed tail of at least
    ``min_lines`` lines."""
    kept = np.flatnonzero(~removed)
    top = kept[-1] + 1 if len(kept) else 0  # first line of the removed tail
    if len(removed) - top < min_lines:
        return removed
    out = removed.copy()
    for i in range(top - 1, max(top - 1 - steps, -1), -1):
        if not eligible[i]:
            break
        out[i] = True
    return np.asarray(out)


def _viterbi(gain: np.ndarray, switch_cost: float) -> np.ndarray:
    """Best keep/remove path: the sum of ``gain`` over removed lines minus switch costs.

    A line whose ``|gain|`` exceeds two switch costs follows its own sign on every best path
    (flipping it alone would gain more than the two switches it can cost), so the dynamic
    programme only runs over the stretches of lines between such lines."""
    path = gain > 0
    free = np.zeros(len(gain) + 2, dtype=bool)  # padded with a fixed line at each end
    free[1:-1] = np.abs(gain) <= 2 * switch_cost
    bounds = np.flatnonzero(free[1:] != free[:-1])
    for start, stop in zip(bounds[::2].tolist(), bounds[1::2].tolist()):
        left = bool(path[start - 1]) if start > 0 else None
        right = bool(path[stop]) if stop < len(gain) else None
        path[start:stop] = _stretch(gain[start:stop].tolist(), switch_cost, left, right)
    return path


def _stretch(gain: list[float], cost: float, left: bool | None,
             right: bool | None) -> list[bool]:
    """Viterbi over one stretch, given the fixed states around it (None: document edge)."""
    keep = -cost if left is True else 0.0
    drop = gain[0] - (cost if left is False else 0.0)
    back: list[tuple[bool, bool]] = [(False, False)]  # per line: came from the other state
    for g in gain[1:]:
        from_drop, from_keep = drop - cost, keep - cost
        to_keep, to_drop = from_drop > keep, from_keep > drop
        back.append((to_keep, to_drop))
        keep, drop = (from_drop if to_keep else keep), (from_keep if to_drop else drop) + g
    if right is not None:
        keep -= cost if right else 0.0
        drop -= 0.0 if right else cost
    state = drop > keep
    out = [False] * len(gain)
    for i in range(len(gain) - 1, -1, -1):
        out[i] = state
        if back[i][state]:
            state = not state
    return out
