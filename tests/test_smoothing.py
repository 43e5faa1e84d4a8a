"""Smoothing: blocks go as blocks, lone lines with a clear score of their own stay."""

from __future__ import annotations

import numpy as np
import pytest

from cleaner.config import SmoothingConfig
from cleaner.smoothing import smooth

NAN = np.nan


def test_lone_short_heading_between_paragraphs_stays() -> None:
    # A heading the model rates just above the threshold, between two content paragraphs.
    probs = np.array([0.02, 0.03, 0.7, 0.02, 0.04])
    removed, changed = smooth(probs, 0.6)
    assert not removed.any()
    assert changed.tolist() == [False, False, True, False, False]


def test_block_of_high_probability_lines_goes_as_a_block() -> None:
    # A promotion box: one speaker line inside it scores below the threshold.
    probs = np.array([0.02, 0.01, 0.97, 0.99, 0.55, 0.98, 0.99, 0.03])
    removed, changed = smooth(probs, 0.6)
    assert removed.tolist() == [False, False, True, True, True, True, True, False]
    assert changed.tolist() == [False, False, False, False, True, False, False, False]


def test_blank_lines_are_transparent_and_never_removed() -> None:
    probs = np.array([0.01, NAN, 0.99, NAN, 0.5, 0.99, NAN])
    removed, _ = smooth(probs, 0.6)
    assert removed.tolist() == [False, False, True, False, True, True, False]


def test_line_below_min_remove_survives_inside_a_block() -> None:
    probs = np.array([0.99, 0.99, 0.1, 0.99, 0.99])
    removed, changed = smooth(probs, 0.6, SmoothingConfig(min_remove=0.2))
    assert removed.tolist() == [True, True, False, True, True]
    assert not changed.any()


def test_zero_switch_cost_is_plain_thresholding() -> None:
    rng = np.random.default_rng(0)
    probs = rng.random(200)
    removed, changed = smooth(probs, 0.5, SmoothingConfig(switch_cost=0.0, min_remove=0.0))
    assert (removed == (probs > 0.5)).all()
    assert not changed.any()


def test_empty_and_all_blank_documents() -> None:
    for probs in (np.array([]), np.array([NAN, NAN])):
        removed, changed = smooth(probs, 0.5)
        assert removed.shape == changed.shape == probs.shape
        assert not removed.any()


def test_removed_tail_takes_the_lines_that_introduce_it() -> None:
    # Seed 002: a webinar box fills the end of the article; its first lines score lower.
    intro = [0.46, 0.61, 0.7]
    box = [0.99, 0.98, NAN, 0.99, 0.99, 0.98, 0.99, 0.97, 0.99, 0.99, 0.98]
    probs = np.array([0.02, 0.01, 0.02, *intro, NAN, *box])
    removed, changed = smooth(probs, 0.96)
    assert removed.tolist() == [False] * 3 + [True] * 3 + [False] + [not np.isnan(p) for p in box]
    assert changed[3:6].all() and changed.sum() == 3


def test_short_tail_or_unlikely_line_stops_the_growth() -> None:
    short_tail = np.array([0.02, 0.7, 0.99, 0.99, 0.99])
    assert smooth(short_tail, 0.96)[0].tolist() == [False, False, True, True, True]
    content_above = np.array([0.7, 0.1, 0.6, *[0.99] * 8])
    assert smooth(content_above, 0.96)[0].tolist() == [False, False] + [True] * 9


def test_path_is_optimal() -> None:
    """The smoothed path maximizes the score it promises, checked by brute force."""
    rng = np.random.default_rng(3)
    cost = 1.0
    for _ in range(200):
        n = int(rng.integers(1, 9))
        probs = rng.uniform(0.01, 0.99, n)
        removed, _ = smooth(probs, 0.5, SmoothingConfig(switch_cost=cost, min_remove=0.0,
                                                            tail_min_lines=n + 1))
        gain = np.log(probs / (1 - probs))
        paths = [np.array([(m >> i) & 1 for i in range(n)], dtype=bool) for m in range(1 << n)]
        best = max(_path_score(p, gain, cost) for p in paths)
        assert _path_score(removed, gain, cost) == pytest.approx(best)


def _path_score(path: np.ndarray, gain: np.ndarray, cost: float) -> float:
    return float(gain[path].sum() - cost * np.sum(path[1:] != path[:-1]))
