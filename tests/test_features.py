"""Features: shapes, determinism, batch independence and bounded work per line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cleaner import features as F

ROOT = Path(__file__).resolve().parent.parent

DOC_A = (
    ["Breaking: storm hits the coast", "", "Home", "News", "Sports",
     "The storm reached the coast on Tuesday night and left thousands without power.",
     "- Share", "Advertisement", "© 2026 Example Media"],
    [None, None, None, None, None, None, None, "ad", None],
)
DOC_B = (["Rezept: Linsensuppe", "500 g Linsen", "1 Zwiebel", "Alles 20 Minuten kochen."],
         [None] * 4)


def _features(docs: list[tuple[list[str], list[str | None]]]) -> tuple[F.Batch, np.ndarray]:
    batch = F.make_batch(docs)
    wins = F.windows(batch.lines)
    shape = F.shape_matrix(batch.lines, wins)
    score = np.linspace(-2.0, 2.0, batch.size)
    return batch, F.context_matrix(batch, shape, score)


def test_batch_leaves_out_blank_and_rule_lines() -> None:
    batch = F.make_batch([DOC_A, ([], []), DOC_B])
    assert batch.index[batch.doc == 0].tolist() == [0, 2, 3, 4, 5, 6, 8]
    assert batch.doc.tolist() == [0] * 7 + [2] * 4
    assert batch.gap_before[:3].tolist() == [0.0, 1.0, 0.0]
    assert batch.gap_after[0] == 1.0


def test_batch_counts_rule_hits_around_each_line() -> None:
    doc = (["Related:", "Storm closes schools", "", "Ferry service resumes", "Share",
            "Tags:", "", "Weather", "Newsletter"],
           ["related", None, None, None, "social", "tags", None, None, "newsletter"])
    batch, context = _features([doc, DOC_B])
    mine = batch.doc == 0
    # "Related:" sits above the first line; "Share" and "Tags:" between the second and the
    # third; "Newsletter" below the last line of the document
    assert batch.ruled_before[mine].tolist() == [1.0, 0.0, 2.0]
    assert batch.ruled_after[mine].tolist() == [0.0, 2.0, 1.0]
    assert not batch.ruled_before[~mine].any() and not batch.ruled_after[~mine].any()
    share = F.CONTEXT.columns(context)["doc_ruled_share"]
    assert share[mine].tolist() == [4 / 7] * 3
    assert not share[~mine].any()


def test_shapes() -> None:
    batch, context = _features([DOC_A, DOC_B])
    wins = F.windows(batch.lines)
    assert F.ngram_matrix(wins).shape == (batch.size, F.N_HASH)
    assert F.shape_matrix(batch.lines, wins).shape == (batch.size, len(F.SHAPE))
    assert context.shape == (batch.size, len(F.CONTEXT))
    assert F.neighbour_matrix(batch, np.zeros(batch.size)).shape == (batch.size, len(F.STAGE3))
    assert np.isfinite(context).all()


def test_empty_batch() -> None:
    batch, context = _features([([""], [None])])
    assert batch.size == 0
    assert context.shape == (0, len(F.CONTEXT))
    assert F.ngram_score([], np.zeros(F.N_HASH)).shape == (0,)


def test_shape_values() -> None:
    lines = ["- Share", "The storm reached the coast.", "Visit www.example.com today",
             "12.01.2026", "write to news@beispiel.at"]
    shape = F.shape_matrix(lines, F.windows(lines))
    col = F.SHAPE.columns(shape)
    assert col["starts_bullet"].tolist() == [1, 0, 0, 0, 0]
    assert col["ends_stop"].tolist() == [0, 1, 0, 0, 0]
    assert col["has_url"].tolist() == [0, 0, 1, 0, 0]
    assert col["has_date"].tolist() == [0, 0, 0, 1, 0]
    assert col["has_email"].tolist() == [0, 0, 0, 0, 1]
    assert col["log_len"][1] == pytest.approx(np.log1p(len(lines[1])))


def test_schema_stacks_by_name_and_refuses_other_names() -> None:
    schema = F.Schema("a", "b")
    stacked = schema.stack({"b": np.array([2.0, 4.0]), "a": np.array([True, False])})
    assert stacked.tolist() == [[1.0, 2.0], [0.0, 4.0]]  # schema order, float64
    assert schema.indices(["b", "a"]) == [1, 0]
    with pytest.raises(ValueError, match=r"missing \['b'\], not in the schema \[\]"):
        schema.stack({"a": np.zeros(2)})
    with pytest.raises(ValueError, match=r"missing \[\], not in the schema \['c'\]"):
        schema.stack({"a": np.zeros(2), "b": np.zeros(2), "c": np.zeros(2)})
    with pytest.raises(ValueError, match="no feature column named 'c'"):
        schema.index("c")
    with pytest.raises(ValueError, match=r"given twice: \['a'\]"):
        F.Schema("a", "b", "a")


def test_context_columns_by_name() -> None:
    batch, context = _features([DOC_A, DOC_B])
    col = F.CONTEXT.columns(context)
    lengths = np.array([len(line) for line in batch.lines])
    np.testing.assert_array_equal(col["log_len"], np.log1p(lengths))
    np.testing.assert_array_equal(col["score"], np.linspace(-2.0, 2.0, batch.size))
    # the next line's length, 0 past the end of its document
    next_len = np.append(np.log1p(lengths[1:]), 0.0)
    next_len[np.flatnonzero(batch.doc[1:] != batch.doc[:-1])] = 0.0
    np.testing.assert_array_equal(col["log_len+1"], next_len)
    assert F.CONTEXT.names[: len(F.SHAPE)] == F.SHAPE.names


def test_lone_surrogates_are_characters() -> None:
    lines = ["caf\udce9 au lait", "\ud800"]
    wins = F.windows(lines)
    assert F.shape_matrix(lines, wins).shape == (2, len(F.SHAPE))
    assert F.ngram_score(wins, np.zeros(F.N_HASH)).shape == (2,)


def test_documents_do_not_see_each_other() -> None:
    _, together = _features([DOC_A, DOC_B])
    batch_a, _ = _features([DOC_A])
    # Same scores for doc A's lines alone and in the batch: give them the same first-stage
    # scores in both runs.
    score = np.linspace(-2.0, 2.0, together.shape[0])
    joint = F.make_batch([DOC_A, DOC_B])
    wins = F.windows(joint.lines)
    ctx_joint = F.context_matrix(joint, F.shape_matrix(joint.lines, wins), score)
    alone_wins = F.windows(batch_a.lines)
    ctx_alone = F.context_matrix(batch_a, F.shape_matrix(batch_a.lines, alone_wins),
                                 score[: batch_a.size])
    np.testing.assert_allclose(ctx_joint[: batch_a.size], ctx_alone)


def test_ngram_score_is_the_matrix_product() -> None:
    batch = F.make_batch([DOC_A, DOC_B])
    wins = F.windows(batch.lines)
    weights = np.random.default_rng(1).normal(size=F.N_HASH)
    # float32 weights on the fast path
    np.testing.assert_allclose(F.ngram_score(wins, weights), F.ngram_matrix(wins) @ weights,
                               rtol=1e-5, atol=1e-5)


def test_deterministic_across_processes() -> None:
    """Hashed columns must not depend on Python's per-process string hashing."""
    code = ("from cleaner import features as F; m = F.ngram_matrix(['Read more »', 'Ääh 42']);"
            "print(sorted(m.indices.tolist()))")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_huge_line_is_bounded_work() -> None:
    line = "word " * 10_000_000  # 50 MB in one line
    docs = [([line.strip(), "Next line."], [None, None])]
    start = time.perf_counter()
    batch = F.make_batch(docs)
    wins = F.windows(batch.lines)
    assert max(map(len, wins)) <= F.HEAD_CHARS + F.TAIL_CHARS
    matrix = F.ngram_matrix(wins)
    shape = F.shape_matrix(batch.lines, wins)
    F.context_matrix(batch, shape, np.zeros(batch.size))
    assert time.perf_counter() - start < 5.0  # a few ms of work; seconds only if unbounded
    assert matrix[0].nnz <= len(F.NGRAM_SIZES) * (F.HEAD_CHARS + F.TAIL_CHARS + 2)
    assert shape[0, F.SHAPE.index("log_len")] == pytest.approx(np.log1p(len(line) - 1))
