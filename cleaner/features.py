"""Per-line features of the line classifier, computed for a whole batch of documents at once.

One implementation serves inference (:mod:`cleaner.classifier`) and training (``training/``),
so a model always sees the features it was trained on; change anything here and bump
:data:`FEATURES_VERSION`, which the model manifest records and the loader checks.

Speed is the design constraint (several MB/s on one core). Per line, Python only slices the
line to a bounded *window* (its first :data:`HEAD_CHARS` and last :data:`TAIL_CHARS`
characters); everything else runs in numpy over the code points of all windows of the batch
joined together. Most bytes sit in long prose lines, which are nearly always content and
whose head and tail carry what matters ("Read more", "(Photo: ...)"), so a 50 MB line costs
no more than a 100-character one.

Two feature sets:

- :func:`ngram_matrix`: hashed character 1- to 4-grams of the lower-cased window (digits
  folded to ``0``, line start and end marked), language-agnostic, for the linear first
  stage.
- :func:`context_matrix`: dense shape, position, block and document features of each line
  and its neighbours, plus the first stage's scores around it, for the second stage.

The dense matrices are built as name -> column and stacked in the order of a :class:`Schema`;
trained models store one weight per column in that order, so a new feature goes at the end
of its schema and never shifts another.
"""

from __future__ import annotations

import operator
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

FEATURES_VERSION = 3

HEAD_CHARS = 64
TAIL_CHARS = 32
NGRAM_SIZES = (1, 2, 3, 4)
HASH_BITS = 18
N_HASH = 1 << HASH_BITS
NEIGHBOURS = 3  # lines on each side whose first-stage score is a second-stage feature
SHORT_CHARS = 40  # lines up to this long count as short for the run features
LONG_CHARS = 150  # lines at least this long count as prose anchors

_START, _END = 0x02, 0x03  # line markers in the n-gram text, never in normalized lines

# Character classes of the shape features.
_UPPER, _LOWER, _OTHER_LETTER, _DIGIT, _SPACE, _STOP, _PUNCT, _CURRENCY, _SYMBOL, _MARK, \
    _OTHER = range(11)
_N_CLASSES = 11
_STOPS = ".!?。！？…;؟"
_CATEGORY_CLASS = {"Lu": _UPPER, "Lt": _UPPER, "Ll": _LOWER, "Lm": _OTHER_LETTER,
                   "Lo": _OTHER_LETTER, "Nd": _DIGIT, "Nl": _DIGIT, "No": _DIGIT,
                   "Zs": _SPACE, "Sc": _CURRENCY, "Sm": _SYMBOL, "Sk": _SYMBOL,
                   "So": _SYMBOL, "Mn": _MARK, "Mc": _MARK, "Me": _MARK}
# Characters counted on their own: separators of menus and share bars, list bullets.
_SEPARATORS = "|•·▪●■►▸»«›‹→/>"
_BULLETS = "-–—*•·▪●■►▸◦‣>»+"

_CLOSERS = ")]\"'”»"
_DATE_SEPARATORS = "./-"
_COPYRIGHT = "©®™"
_FLAG_CHARS = (_SEPARATORS, _BULLETS, _CLOSERS, _DATE_SEPARATORS, _COPYRIGHT)
_SEP_BIT, _BULLET_BIT, _CLOSE_BIT, _DATE_BIT, _COPY_BIT = (1 << k for k in range(5))
_TLDS = (".com", ".org", ".net", ".de", ".html")


@dataclass(frozen=True)
class Batch:
    """The lines the model reads in a batch of documents, flattened, with where they came from.

    Blank lines and lines a rule already removes are left out, so the model sees a document
    as it will read after the rules (the pipeline's next pass sees exactly that); ``index``
    maps each line back to its line number in its document.
    """

    lines: list[str]
    doc: np.ndarray  # document of each line
    index: np.ndarray  # line number in the document
    gap_before: np.ndarray  # blank lines between this line and the previous one (0 at the top)
    gap_after: np.ndarray  # blank lines between this line and the next one (0 at the bottom)
    # Lines a rule removes between this line and the previous (next) one, or the document's
    # start (end): a line next to a "Related:" or "Tags:" hit is often part of its block.
    ruled_before: np.ndarray
    ruled_after: np.ndarray
    ruled_in_doc: np.ndarray  # per document: lines a rule removes
    repeats: np.ndarray  # how often the line occurs in its document
    n_docs: int

    @property
    def size(self) -> int:
        """Number of lines the model reads."""
        return len(self.lines)


def make_batch(docs: Sequence[tuple[Sequence[str], Sequence[str | None]]]) -> Batch:
    """Flatten documents given as (normalized lines, rule category or None per line)."""
    lines: list[str] = []
    doc_ids: list[int] = []
    index: list[int] = []
    repeats: list[int] = []
    before: list[np.ndarray] = []  # per document: (blank, ruled) lines above each kept line
    ruled_total: list[int] = []
    for d, (doc_text, cats) in enumerate(docs):
        n = len(doc_text)
        blank = np.fromiter(map(operator.not_, doc_text), dtype=bool, count=n)
        ruled = np.fromiter(map(operator.is_not, cats, repeat(None)), dtype=bool,
                            count=n) & ~blank
        keep = np.flatnonzero(~(blank | ruled))
        kept = [doc_text[i] for i in keep.tolist()]
        counts = Counter(kept)
        lines.extend(kept)
        index.extend(keep.tolist())
        doc_ids.extend([d] * len(keep))
        repeats.extend(map(counts.__getitem__, kept))
        above = np.cumsum(np.column_stack([blank, ruled]), axis=0) if n else np.zeros((0, 2))
        before.append(above[keep])
        ruled_total.append(int(ruled.sum()))
    doc = np.asarray(doc_ids, dtype=np.int64)
    cum = np.concatenate(before) if before else np.zeros((0, 2))
    first = _first_of_doc(doc)
    step = cum - np.roll(cum, 1, axis=0)
    gap_before = np.where(first, 0.0, step[:, 0])
    ruled_before = np.where(first, cum[:, 1], step[:, 1]).astype(np.float64)
    gap_after = np.zeros(len(doc))
    gap_after[:-1] = gap_before[1:]
    last = np.append(first[1:], True) if len(doc) else first
    ruled_after = np.zeros(len(doc))
    ruled_after[:-1] = ruled_before[1:]
    ruled_in_doc = np.asarray(ruled_total, dtype=np.float64)
    ruled_after[last] = (ruled_in_doc[doc] - cum[:, 1])[last]
    return Batch(lines=lines, doc=doc, index=np.asarray(index, dtype=np.int64),
                 gap_before=gap_before, gap_after=gap_after, ruled_before=ruled_before,
                 ruled_after=ruled_after, ruled_in_doc=ruled_in_doc,
                 repeats=np.asarray(repeats, dtype=np.float64), n_docs=len(docs))


def _first_of_doc(doc: np.ndarray) -> np.ndarray:
    first = np.ones(len(doc), dtype=bool)
    first[1:] = doc[1:] != doc[:-1]
    return first


def windows(lines: Sequence[str]) -> list[str]:
    """Each line cut to its head and tail, so work per line is bounded."""
    cut = HEAD_CHARS + TAIL_CHARS
    return [s if len(s) <= cut else s[:HEAD_CHARS] + s[-TAIL_CHARS:] for s in lines]


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class, n-gram folding (lower case, digits to '0') and flag bits of each code point of
    the Basic Multilingual Plane.

    Code points above it (emoji, rare scripts) are symbols and hash as themselves.
    """
    flags = np.zeros(0x10000, dtype=np.uint8)
    for bit, chars in enumerate(_FLAG_CHARS):
        flags[[ord(ch) for ch in chars]] |= np.uint8(1 << bit)
    classes = np.full(0x10000, _OTHER, dtype=np.int32)
    fold = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        classes[cp] = _CATEGORY_CLASS.get(cat, _PUNCT if cat[0] == "P" else _OTHER)
        if cat == "Nd":
            fold[cp] = ord("0")
        elif cat in ("Lu", "Lt"):
            low = ch.lower()
            if len(low) == 1:
                fold[cp] = ord(low)
    classes[ord(" ")] = _SPACE
    for ch in _STOPS:
        classes[ord(ch)] = _STOP
    return classes, fold, flags


@dataclass(frozen=True)
class _Joined:
    """Code points of texts joined by ``\n``; separators belong to the text before them."""

    cps: np.ndarray  # uint32
    bmp: np.ndarray  # code points clipped to the BMP, for table look-ups
    line: np.ndarray  # text index of each position
    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Joined:
        # surrogatepass: text read with surrogateescape (cleaner.io) holds lone surrogates
        cps = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"),
                            dtype=np.uint32)
        sep = cps == 10
        line = np.cumsum(sep, dtype=np.int32) - sep
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        starts = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        return cls(cps, np.minimum(cps, 0xFFFF), line, starts, lengths)

    def room(self) -> np.ndarray:
        """Characters left in its text from each position on (0 on separators)."""
        ends = (self.starts + self.lengths).astype(np.int32)
        return np.asarray(ends[self.line] - np.arange(len(self.cps), dtype=np.int32))

    def per_line(self, mask: np.ndarray) -> np.ndarray:
        """Count of ``mask`` positions per text."""
        return np.bincount(self.line[mask], minlength=len(self.starts))

    def has(self, seq: str) -> np.ndarray:
        """Whether each text contains ``seq`` (exact code points)."""
        hit = self.cps == ord(seq[0])
        for k, ch in enumerate(seq[1:], 1):
            hit[:-k] &= self.cps[k:] == ord(ch)
            hit[len(hit) - k:] = False
        return self.per_line(hit) > 0


_SALT = [np.uint32((0x9E3779B9 * (k + 1)) & 0xFFFFFFFF) for k in range(8)]
_GOLDEN = np.uint32(0x9E3779B1)  # Fibonacci hashing: the top bits of h * golden ratio
_PRIME = np.uint32(0x01000193)  # FNV-1a prime


def _hashed(wins: Sequence[str]) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray,
                                          np.ndarray]:
    """Per n-gram size: the hashed column of the n-gram starting at each position of the
    marked windows joined, and whether it lies inside one window; plus the window of each
    position and the number of n-grams per window.

    32-bit arithmetic on purpose: it vectorizes, 64-bit multiplication does not."""
    _, fold, _ = _tables()
    j = _Joined.of([f"\x02{w}\x03" for w in wins])
    total = len(j.cps)
    c = np.where(j.cps < 0x10000, fold[j.bmp], j.cps)
    room = j.room()
    shift = np.uint32(32 - HASH_BITS)
    per_size = []
    h = c.copy()
    with np.errstate(over="ignore"):
        for k in range(max(NGRAM_SIZES)):
            if k:
                h = (h[:-1] * _PRIME) ^ c[k:]
            if k + 1 in NGRAM_SIZES:
                col = ((h ^ _SALT[k]) * _GOLDEN) >> shift
                per_size.append((col, room[: total - k] >= k + 1))
    marked = j.lengths[:, None] - np.array(NGRAM_SIZES)[None, :] + 1
    return per_size, j.line, np.maximum(marked, 0).sum(axis=1)


def ngram_matrix(wins: Sequence[str]) -> sp.csr_matrix:
    """Hashed character n-grams of each window (counts), rows scaled by 1/sqrt(n-grams)."""
    import scipy.sparse as sp  # for training only: inference uses ngram_score

    n = len(wins)
    if n == 0:
        return sp.csr_matrix((0, N_HASH), dtype=np.float64)
    per_size, line, counts = _hashed(wins)
    rows = np.concatenate([line[: len(col)][valid] for col, valid in per_size])
    cols = np.concatenate([col[valid] for col, valid in per_size])
    scale = 1.0 / np.sqrt(np.maximum(counts, 1))
    return sp.csr_matrix((scale[rows], (rows, cols)), shape=(n, N_HASH))


def ngram_score(wins: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """``ngram_matrix(wins) @ weights`` without building the matrix (the fast path)."""
    n = len(wins)
    if n == 0:
        return np.zeros(0)
    per_size, line, counts = _hashed(wins)
    padded = np.append(weights, 0.0).astype(np.float32)  # the last slot scores nothing
    total = np.zeros(len(line), dtype=np.float32)
    for col, valid in per_size:
        col[~valid] = N_HASH
        total[: len(col)] += padded[col]
    return np.asarray(np.bincount(line, weights=total, minlength=n)
                      / np.sqrt(np.maximum(counts, 1)))


class Schema:
    """The names of a feature matrix's columns, in the order trained models read them.

    Features are computed as name -> column and stacked here, and read back by name, so the
    position of a column is written down once: in the schema.
    """

    def __init__(self, *names: str) -> None:
        self.names = names
        self._position = {name: k for k, name in enumerate(names)}
        if len(self._position) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"feature names given twice: {twice}")

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Column of the feature ``name``."""
        try:
            return self._position[name]
        except KeyError:
            raise ValueError(f"no feature column named {name!r}") from None

    def indices(self, names: Iterable[str]) -> list[int]:
        """Columns of the features ``names``, in the order given."""
        return [self.index(name) for name in names]

    def columns(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """The columns of a matrix of this schema by name (views, not copies)."""
        return {name: matrix[:, k] for k, name in enumerate(self.names)}

    def stack(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """A float64 matrix of ``columns`` in schema order; the names must be exactly the
        schema's, so a feature computed but not listed (or listed but not computed) fails
        here rather than silently shifting the columns after it."""
        if columns.keys() != self._position.keys():
            missing = [name for name in self.names if name not in columns]
            extra = [name for name in columns if name not in self._position]
            raise ValueError(f"feature columns do not match the schema: missing {missing}, "
                             f"not in the schema {extra}")
        return np.column_stack([columns[name] for name in self.names]).astype(np.float64,
                                                                               copy=False)


SHAPE = Schema(
    "log_len", "log_words", "upper", "lower", "other_letter", "digit", "space", "stop",
    "punct", "currency", "symbol", "separators", "cap_words",
    "ends_stop", "ends_colon", "ends_digit", "ends_close", "starts_upper", "starts_digit",
    "starts_bullet", "starts_enum", "all_caps",
    "has_url", "has_email", "has_handle", "has_date", "has_time", "has_copyright",
)


def shape_matrix(lines: Sequence[str], wins: Sequence[str]) -> np.ndarray:
    """Shape features of each line, from its window (length from the whole line)."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(SHAPE)))
    classes, _, flag_table = _tables()
    j = _Joined.of(wins)
    cps, line, starts, wlen = j.cps, j.line, j.starts, j.lengths
    total = len(cps)
    cls = np.where(cps < 0x10000, classes[j.bmp], _SYMBOL)
    flags = np.where(cps < 0x10000, flag_table[j.bmp], 0)
    cls[starts[1:] - 1] = _SPACE  # the separators end words
    counts = np.bincount(line * _N_CLASSES + cls, minlength=n * _N_CLASSES)
    counts = counts.reshape(n, _N_CLASSES).astype(np.float64)
    counts[:-1, _SPACE] -= 1
    full_len = np.fromiter(map(len, lines), dtype=np.float64, count=n)
    wl = np.maximum(wlen, 1).astype(np.float64)

    is_space = cls == _SPACE
    word_start = ~is_space
    word_start[1:] &= is_space[:-1]
    words_win = j.per_line(word_start).astype(np.float64)
    words = words_win * full_len / wl
    cap_words = j.per_line(word_start & (cls == _UPPER)) / np.maximum(words_win, 1)
    separators = j.per_line((flags & _SEP_BIT) > 0)

    last = starts + wlen - 1
    last_cp = cps[last]
    first_cls, last_cls = cls[starts], cls[last]
    second_cp = cps[np.minimum(starts + 1, total - 1)]
    letters = counts[:, _UPPER] + counts[:, _LOWER]
    wordy = (cls <= _DIGIT)  # the letter and digit classes come first
    digit = cls == _DIGIT
    at = cps == ord("@")
    after_word = np.zeros(total, dtype=bool)
    after_word[1:] = wordy[:-1]
    before_word = np.zeros(total, dtype=bool)
    before_word[:-1] = wordy[1:]
    seps = (flags & _DATE_BIT) > 0

    def follows(mask: np.ndarray, k: int) -> np.ndarray:
        out = np.zeros(total, dtype=bool)
        out[:-k] = mask[k:]
        return out

    date = digit & follows(seps, 1) & follows(digit, 2) & (
        (follows(seps, 3) & follows(digit, 4)) | (follows(digit, 3) & follows(seps, 4)
                                                  & follows(digit, 5)))
    clock = digit & follows(cps == ord(":"), 1) & follows(digit, 2) & follows(digit, 3) & ~follows(
        digit, 4)
    url = j.has("://") | j.has("www.")
    for tld in _TLDS:
        url |= j.has(tld)
    return SHAPE.stack({
        "log_len": np.log1p(full_len),
        "log_words": np.log1p(words),
        "upper": counts[:, _UPPER] / wl,
        "lower": counts[:, _LOWER] / wl,
        "other_letter": counts[:, _OTHER_LETTER] / wl,
        "digit": counts[:, _DIGIT] / wl,
        "space": counts[:, _SPACE] / wl,
        "stop": counts[:, _STOP] / wl,
        "punct": counts[:, _PUNCT] / wl,
        "currency": counts[:, _CURRENCY] / wl,
        "symbol": counts[:, _SYMBOL] / wl,
        "separators": separators / wl,
        "cap_words": cap_words,
        "ends_stop": last_cls == _STOP,
        "ends_colon": last_cp == ord(":"),
        "ends_digit": last_cls == _DIGIT,
        "ends_close": (flags[last] & _CLOSE_BIT) > 0,
        "starts_upper": first_cls == _UPPER,
        "starts_digit": first_cls == _DIGIT,
        "starts_bullet": ((flags[starts] & _BULLET_BIT) > 0)
                         & ((second_cp == ord(" ")) | (wlen == 1)),
        "starts_enum": (first_cls == _DIGIT) & np.isin(second_cp, [ord("."), ord(")")]),
        "all_caps": (counts[:, _UPPER] >= 2) & (counts[:, _LOWER] == 0) & (letters > 0),
        "has_url": url,
        "has_email": j.per_line(at & after_word & before_word) > 0,
        "has_handle": j.per_line((at | (cps == ord("#"))) & ~after_word & before_word) > 0,
        "has_date": j.per_line(date) > 0,
        "has_time": j.per_line(clock) > 0,
        "has_copyright": j.per_line((flags & _COPY_BIT) > 0) > 0,
    })


# Features of the lines up to two above and below that the second stage also reads.
_NEARBY_OFFSETS = (-2, -1, 1, 2)
_NEARBY_FEATURES = ("log_len", "ends_stop", "log_repeats", "starts_bullet", "digit")

CONTEXT = Schema(
    *SHAPE.names,
    "log_repeats", "blank_before", "blank_after", "log_ruled_before", "log_ruled_after",
    "rel_pos", "rel_chars", "log_rank",
    "log_rank_end",
    *(f"score{k:+d}" for k in range(-NEIGHBOURS, NEIGHBOURS + 1) if k),
    "score", "score_block_mean", "score_win5_mean", "score_win5_max", "score_win5_min",
    *(f"{name}{k:+d}" for k in _NEARBY_OFFSETS for name in _NEARBY_FEATURES),
    "log_short_run", "log_short_run_pos", "log_block_size", "log_block_pos",
    "log_numeric_run", "log_dist_prose_before", "log_dist_prose_after", "prose_before_share",
    "prose_after_share",
    "doc_log_lines", "doc_log_chars", "doc_short_share", "doc_stop_share", "doc_score_mean",
    "doc_score_pos_share", "doc_blank_share", "doc_log_max_len", "doc_prose_char_share",
    "doc_repeat_share", "doc_ruled_share",
)
_FAR = 64  # distance given when there is no prose line on that side


def context_matrix(batch: Batch, shape: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Second-stage features: the line's shape, where it sits, and its neighbourhood.

    ``score`` is the first stage's logit per line. Missing neighbours (at the edges of a
    document) read as empty lines with score 0; the rank features say how far the edge is.
    """
    n = batch.size
    if n == 0:
        return np.zeros((0, len(CONTEXT)))
    doc = batch.doc
    first = _first_of_doc(doc)
    doc_of_row = np.cumsum(first) - 1
    doc_start = np.flatnonzero(first)
    rank = np.arange(n) - doc_start[doc_of_row]
    n_in_doc = np.bincount(doc, minlength=batch.n_docs)[doc]
    column = SHAPE.columns(shape)  # grows into the context features
    log_len = column["log_len"]
    length = np.expm1(log_len)
    ends_stop = column["ends_stop"]

    cum_len = np.cumsum(length)
    chars_doc = np.bincount(doc, weights=length, minlength=batch.n_docs)
    chars_before = cum_len - length - (cum_len - length)[doc_start][doc_of_row]
    column |= {
        "log_repeats": np.log(batch.repeats),
        "blank_before": batch.gap_before > 0,
        "blank_after": batch.gap_after > 0,
        "log_ruled_before": np.log1p(batch.ruled_before),
        "log_ruled_after": np.log1p(batch.ruled_after),
        "rel_pos": rank / np.maximum(n_in_doc - 1, 1),
        "rel_chars": chars_before / np.maximum(chars_doc[doc], 1),
        "log_rank": np.log1p(rank),
        "log_rank_end": np.log1p(n_in_doc - 1 - rank),
    }
    column |= {f"score{k:+d}": _shift(score, k, doc)
               for k in range(-NEIGHBOURS, NEIGHBOURS + 1) if k}
    block_first = first | (batch.gap_before > 0)
    block = np.cumsum(block_first) - 1
    block_size = np.bincount(block)
    block_start = np.flatnonzero(block_first)
    column |= {
        "score": score,
        "score_block_mean": (np.bincount(block, weights=score) / block_size)[block],
        "score_win5_mean": _window_mean(score, doc, 2),
        "score_win5_max": _window_reduce(score, doc, 2, np.maximum),
        "score_win5_min": _window_reduce(score, doc, 2, np.minimum),
    }
    column |= {f"{name}{k:+d}": _shift(column[name], k, doc)
               for k in _NEARBY_OFFSETS for name in _NEARBY_FEATURES}
    short = length <= SHORT_CHARS
    numeric = column["digit"] >= 0.3
    prose = (length >= LONG_CHARS) | ((ends_stop > 0) & (length >= SHORT_CHARS * 1.5))
    prose_doc = np.bincount(doc, weights=prose, minlength=batch.n_docs)[doc]
    prose_cum = np.cumsum(prose)
    prose_before = prose_cum - prose - (prose_cum - prose)[doc_start][doc_of_row]
    short_run, short_run_pos = _run(short, first)
    column |= {
        "log_short_run": np.log1p(short_run),
        "log_short_run_pos": np.log1p(short_run_pos),
        "log_block_size": np.log1p(block_size[block]),
        "log_block_pos": np.log1p(np.arange(n) - block_start[block]),
        "log_numeric_run": np.log1p(_run(numeric, first)[0]),
        "log_dist_prose_before": np.log1p(_distance(prose, doc, before=True)),
        "log_dist_prose_after": np.log1p(_distance(prose, doc, before=False)),
        "prose_before_share": prose_before / np.maximum(prose_doc, 1),
        "prose_after_share": (prose_doc - prose_before - prose) / np.maximum(prose_doc, 1),
    }
    per_doc = np.bincount(doc, minlength=batch.n_docs).astype(np.float64)

    def doc_mean(values: np.ndarray) -> np.ndarray:
        means = np.bincount(doc, weights=values, minlength=batch.n_docs) / np.maximum(per_doc, 1)
        return np.asarray(means[doc])

    max_len = np.zeros(batch.n_docs)
    np.maximum.at(max_len, doc, log_len)
    prose_chars = np.bincount(doc, weights=length * prose, minlength=batch.n_docs)
    column |= {
        "doc_log_lines": np.log1p(per_doc[doc]),
        "doc_log_chars": np.log1p(chars_doc[doc]),
        "doc_short_share": doc_mean(short.astype(np.float64)),
        "doc_stop_share": doc_mean(ends_stop),
        "doc_score_mean": doc_mean(score),
        "doc_score_pos_share": doc_mean((score > 0).astype(np.float64)),
        "doc_blank_share": doc_mean((batch.gap_before > 0).astype(np.float64)),
        "doc_log_max_len": max_len[doc],
        "doc_prose_char_share": (prose_chars / np.maximum(chars_doc, 1))[doc],
        "doc_repeat_share": doc_mean((batch.repeats > 1) * 1.0),
        "doc_ruled_share": (batch.ruled_in_doc / np.maximum(batch.ruled_in_doc + per_doc, 1))[doc],
    }
    return CONTEXT.stack(column)


def _shift(values: np.ndarray, k: int, doc: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """``values`` of the line ``k`` places further (k > 0) or back; ``fill`` outside the doc."""
    n = len(values)
    values = values.astype(np.float64, copy=False)
    if k == 0:
        return np.array(values)
    out = np.full(n, fill)
    if abs(k) >= n:
        return out
    if k > 0:
        out[:-k] = np.where(doc[k:] == doc[:-k], values[k:], fill)
    else:
        out[-k:] = np.where(doc[:k] == doc[-k:], values[:k], fill)
    return out


def _window_mean(values: np.ndarray, doc: np.ndarray, half: int) -> np.ndarray:
    """Mean of ``values`` over the line and up to ``half`` lines each side in its doc."""
    ones = np.ones(len(values))
    total = sum(_shift(values, k, doc) for k in range(-half, half + 1))
    count = sum(_shift(ones, k, doc) for k in range(-half, half + 1))
    return np.asarray(total / count)


def _window_reduce(values: np.ndarray, doc: np.ndarray, half: int,
                   op: np.ufunc) -> np.ndarray:
    """``op`` (maximum, minimum) over the line and up to ``half`` lines each side."""
    out = values.astype(np.float64, copy=True)
    for k in range(-half, half + 1):
        if k:
            out = op(out, _shift(values, k, doc, fill=np.nan))
            out = np.where(np.isnan(out), values, out)
    return out


def _run(flag: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length of the run of equal ``flag`` values each line is in (0 where the flag is off),
    and the line's position in it; runs never cross documents."""
    n = len(flag)
    starts = first.copy()
    starts[1:] |= flag[1:] != flag[:-1]
    run = np.cumsum(starts) - 1
    size = np.bincount(run)[run]
    pos = np.arange(n) - np.flatnonzero(starts)[run]
    return np.where(flag, size, 0), np.where(flag, pos, 0)


def _distance(flag: np.ndarray, doc: np.ndarray, *, before: bool) -> np.ndarray:
    """Lines to the nearest flagged line before (or after) each line, at most :data:`_FAR`."""
    n = len(flag)
    pos = np.arange(n)
    if before:
        seen = np.maximum.accumulate(np.where(flag, pos, -1))
        ok = (seen >= 0) & (doc[np.maximum(seen, 0)] == doc)
        dist = pos - seen
    else:
        seen = np.minimum.accumulate(np.where(flag, pos, n)[::-1])[::-1]
        ok = (seen < n) & (doc[np.minimum(seen, n - 1)] == doc)
        dist = seen - pos
    return np.where(ok, np.minimum(dist, _FAR), _FAR).astype(np.float64)


STAGE3 = Schema(
    *(f"p{k:+d}" for k in range(-4, 5)),
    "p_win3_mean", "p_win3_max", "p_win3_min", "p_win5_mean", "p_win5_max", "p_win5_min",
    "p_win9_mean", "p_block_mean", "p_doc_mean",
)

# The names alone, for code that only counts or lists the columns (training reports, tests).
SHAPE_NAMES, CONTEXT_NAMES, STAGE3_NAMES = SHAPE.names, CONTEXT.names, STAGE3.names


def neighbour_matrix(batch: Batch, score: np.ndarray) -> np.ndarray:
    """Third-stage features: the second stage's logits around each line, so a line is read
    with the decisions of its block (a promotion box goes as a whole, a lone heading stays)."""
    doc = batch.doc
    if batch.size == 0:
        return np.zeros((0, len(STAGE3)))
    first = _first_of_doc(doc)
    block = np.cumsum(first | (batch.gap_before > 0)) - 1
    per_doc = np.bincount(doc, minlength=batch.n_docs)
    column = {f"p{k:+d}": _shift(score, k, doc) for k in range(-4, 5)}
    for half, width in ((1, 3), (2, 5)):
        column |= {
            f"p_win{width}_mean": _window_mean(score, doc, half),
            f"p_win{width}_max": _window_reduce(score, doc, half, np.maximum),
            f"p_win{width}_min": _window_reduce(score, doc, half, np.minimum),
        }
    column |= {
        "p_win9_mean": _window_mean(score, doc, 4),
        "p_block_mean": (np.bincount(block, weights=score) / np.bincount(block))[block],
        "p_doc_mean": (np.bincount(doc, weights=score, minlength=batch.n_docs)
                       / np.maximum(per_doc, 1))[doc],
    }
    return STAGE3.stack(column)
