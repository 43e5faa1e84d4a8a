"""Cross-document repetition: how many pages of a shard, and of the same site, hold a line.

A line that recurs on many pages of one site (its menu, cookie notice, newsletter box,
footer) is almost never article text, while a repeated long sentence in syndicated news is.
So repetition is evidence the line model weighs (:class:`RepetitionWeights`), never a
verdict on its own.

A :class:`RepeatIndex` counts, for every distinct line key (the line case-folded, digits
folded to 0, invisible characters dropped, whitespace collapsed, hashed to 64 bits) of the
lines shorter than :data:`LONG_LINE` characters and every site (the host of a record's
URL), the documents that hold it. Each document counts once per line, however often the
line occurs in it. The index is built over the documents it will clean (or over a larger
crawl that holds them), so a line's own document is one of its counts: the evidence is
"held by N *other* documents".

Memory: the counts are three numpy columns, 20 bytes per distinct (line, site) pair, plus
16 bytes per line of the documents added since the last compaction (at most
:data:`FLUSH_ENTRIES` lines, so at most 16 MB). Beyond ``capacity`` distinct pairs, each
compaction forgets the pairs seen in one document only: a line seen just once between two
such compactions loses that count, while furniture, seen on many pages between any two
compactions, keeps its counts. :attr:`RepeatIndex.pruned` says how many compactions pruned,
and an index that never pruned holds exact counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any
from urllib.parse import urlsplit

import numpy as np
import regex

from cleaner.errors import RepeatIndexError

KEY_VERSION = 2  # how lines are folded and hashed; an index of another version is refused
INDEX_FORMAT = "cleaner-repeat-index"
DEFAULT_CAPACITY = 50_000_000  # distinct (line, site) pairs before singletons are pruned
FLUSH_ENTRIES = 1_000_000  # pending entries that trigger a compaction
LONG_LINE = 80  # characters from which a line reads as prose (see evidence_matrix)
# Counts above this weigh as this much: the training shards held at most about ten other
# pages of one site, and the weights say nothing about what a count far beyond that means.
COUNT_CAP = 10

_CHUNK = 1 << 20  # characters hashed at once: bounds the arrays of a huge document
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: spreads site hashes
# The polynomial hash of a line's code points, modulo 2**64: base and its inverse.
_BASE = 0x100000001B3
_INVERSE = pow(_BASE, -1, 1 << 64)
_NO_LINES = np.zeros(0, dtype=np.uint64)
_LINE_FEED, _CARRIAGE_RETURN, _ZERO, _BLANK = 10, 13, 48, 32
_SEPARATOR = "\u2029"  # joins texts hashed together: a line break that merges with none
_BATCH_CHARS = 1 << 18  # characters of the texts hashed together
BATCH_DOCS = 256  # documents counted together (RepeatIndex.add_many)
_DIGIT, _SPACE, _INVISIBLE, _BREAK = 1, 2, 3, 4  # what folding does to a code point


@lru_cache(maxsize=1)
def _classes() -> np.ndarray:
    """The class of every code point: a digit (``\\d``), whitespace other than a line
    break (``\\s``), invisible (``\\p{Cf}``, which wins over whitespace) or a line break
    other than the line feed; built once, from the regex package's Unicode tables."""
    table = np.zeros(0x110000, dtype=np.uint8)
    every = "".join(map(chr, range(0x110000)))
    for cls, pattern in ((_SPACE, r"\s"), (_INVISIBLE, r"\p{Cf}"), (_DIGIT, r"\d")):
        table[[m.start() for m in regex.finditer(pattern, every)]] = cls
    table[_LINE_FEED] = 0
    table[[_CARRIAGE_RETURN, 0x2028, 0x2029]] = _BREAK  # line breaks other than the LF
    return table


def folded_codes(text: str) -> np.ndarray:
    """The code points of the form under which repeats of a text's lines are counted, its
    lines (as :func:`cleaner.normalize.split_lines` cuts them) joined by line feeds:
    case-folded, digits folded to 0, invisible characters dropped, each run of whitespace
    one space, none at a line's ends. Done on the whole text at once with numpy: a
    regular expression per fold would cost several passes over it in Python's regex engine.

    >>> "".join(map(chr, folded_codes(" Newsletter\\u00a0 ABONNIEREN 2024 \\r\\n\\u200bTags")))
    'newsletter abonnieren 0000\\ntags'
    """
    if text.isascii():  # lower case is case folding there, done on the array
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        codes = codes + (codes - 65 < 26) * np.uint32(32)
    else:
        codes = np.frombuffer(text.casefold().encode("utf-32-le", "surrogatepass"),
                              dtype=np.uint32)
    cls = np.take(_classes(), codes)
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        crlf = np.flatnonzero((codes[:-1] == _CARRIAGE_RETURN) & (codes[1:] == _LINE_FEED))
        cls[crlf] = _INVISIBLE  # a CR LF is one line break, its LF's
        codes = np.where(cls == _BREAK, _LINE_FEED, codes)
    visible = cls != _INVISIBLE
    codes, space = np.where(cls == _DIGIT, _ZERO, codes)[visible], (cls == _SPACE)[visible]
    if not space.any():
        return np.asarray(codes, dtype=np.uint32)
    # A run of whitespace is one space, or none at a line's start or end.
    after_space = np.r_[True, space[:-1] | (codes[:-1] == _LINE_FEED)]
    keep = ~(space & after_space)
    codes, space = codes[keep], space[keep]
    codes[space] = _BLANK
    before_break = np.r_[codes[1:] == _LINE_FEED, True]
    return np.asarray(codes[~(space & before_break)], dtype=np.uint32)


def _hash(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1  # 0 stands for "no site"


def line_hashes(text: str) -> np.ndarray:
    """The 64-bit hash of each line's folded form (see :func:`folded_codes`); 0 for a blank
    line and for a line of :data:`LONG_LINE` characters or more, which repetition never
    weighs (see :func:`evidence_matrix`), so the index spends no memory on prose.

    All lines of a text are hashed at once with numpy: a polynomial hash of each line's
    code points (prefix sums of the code points times powers of the base's inverse, so a
    line's hash is a difference of two sums), then mixed with its length (SplitMix64's
    finalizer), which is many times faster than a cryptographic hash per line.
    """
    parts = []
    start = 0
    while len(text) - start > _CHUNK:  # cut a huge text at a line break
        cut = text.find("\n", start + _CHUNK // 2)
        if cut < 0:
            break
        end = cut - 1 if text[cut - 1] == "\r" else cut  # a CR LF stays one line break
        parts.append(_hash_lines(folded_codes(text[start:end])))
        start = cut + 1
    parts.append(_hash_lines(folded_codes(text[start:])))
    return parts[0] if len(parts) == 1 else np.asarray(np.concatenate(parts))


def line_hashes_of(texts: Sequence[str]) -> list[np.ndarray]:
    """:func:`line_hashes` of each text, hashed together in batches of about
    :data:`_BATCH_CHARS` characters: each array operation then runs once per batch, not
    once per (often short) text."""
    out: list[np.ndarray] = []
    start = 0
    while start < len(texts):
        end, size = start, 0
        while end < len(texts) and (end == start or size + len(texts[end]) <= _BATCH_CHARS):
            size += len(texts[end])
            end += 1
        batch = texts[start:end]
        counts = np.fromiter(map(_line_count, batch), dtype=np.int64, count=len(batch))
        out += np.split(line_hashes(_SEPARATOR.join(batch)), np.cumsum(counts)[:-1])
        start = end
    return out


def _line_count(text: str) -> int:
    """How many lines :func:`cleaner.normalize.split_lines` cuts ``text`` into."""
    count = text.count("\n") + 1
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        count += (text.count("\r") - text.count("\r\n") + text.count("\u2028")
                  + text.count("\u2029"))
    return count


@lru_cache(maxsize=32)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``size`` powers of the base and of its inverse, modulo 2**64."""
    powers = np.full(size, _BASE, dtype=np.uint64)
    inverse = np.full(size, _INVERSE, dtype=np.uint64)
    powers[0] = inverse[0] = 1
    return np.cumprod(powers), np.cumprod(inverse)


def _hash_lines(codes: np.ndarray) -> np.ndarray:
    if codes.size == 0:
        return np.zeros(1, dtype=np.uint64)
    breaks = np.flatnonzero(codes == _LINE_FEED)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, codes.size]
    powers, inverse = _powers(1 << (int(codes.size) - 1).bit_length())
    sums = np.zeros(codes.size + 1, dtype=np.uint64)
    np.cumsum(codes * inverse[:codes.size], out=sums[1:])
    lengths = (ends - starts).astype(np.uint64)
    h = (sums[ends] - sums[starts]) * powers[np.maximum(ends - 1, 0)]
    h += lengths * _MIX
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    h[h == 0] = 1
    h[(lengths == 0) | (lengths >= LONG_LINE)] = 0
    return np.asarray(h, dtype=np.uint64)


def site_of(url: str | None) -> str | None:
    """The site of a URL (its host, without ``www.``), or the site named outright; an
    archived page (``web.archive.org/web/<time>/<url>``) is its original site's. ``None``
    when there is none.

    >>> site_of("https://www.Example.com/news/1"), site_of("example.com")
    ('example.com', 'example.com')
    >>> site_of("https://web.archive.org/web/2019/https://www.cnn.com/x")
    'cnn.com'
    """
    if not isinstance(url, str) or not url:  # a missing URL of a column: NaN, pandas.NA
        return None
    text = url.strip()
    if "//" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if host == "web.archive.org":
        archived = parts.path.split("/", 3)
        if len(archived) == 4 and archived[1] == "web":
            return site_of(archived[3])
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


@lru_cache(maxsize=4096)
def _site_hash(site: str | None) -> int:
    return 0 if site is None else _hash(site)


@dataclass(frozen=True)
class Repeats:
    """Per line of one document: the *other* documents of the index that hold it, those of
    the document's own site among them, and the other sites that hold it (all 0 for a
    blank line or a line no other document holds). A document without a site counts as a
    site of its own: without URLs, a line repeated across documents is weighed as one
    repeated across sites, the weaker evidence."""

    site_docs: np.ndarray
    docs: np.ndarray
    sites: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)

    def counts(self, i: int) -> tuple[int, int, int]:
        """(site_docs, docs, sites) of line ``i``."""
        return int(self.site_docs[i]), int(self.docs[i]), int(self.sites[i])

    def at(self, lines: np.ndarray) -> Repeats:
        """The evidence of the lines at ``lines`` (indices; -1 stands for a line without
        any, such as the blank line a view puts between paragraphs)."""
        real = lines >= 0
        where = np.where(real, lines, 0)
        return Repeats(*(np.where(real, counts[where], 0)
                         for counts in (self.site_docs, self.docs, self.sites)))


class RepeatIndex:
    """Counts of normalized lines over a shard of documents, per site and overall.

    >>> index = RepeatIndex.build(["Intro\\nShare this", "Other text\\nShare this"],
    ...                           sites=["a.com", "a.com"])
    >>> index.repeats("Intro\\nShare this", "a.com").counts(1)
    (1, 1, 0)
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.documents = 0
        self.pruned = 0
        # The compacted table, sorted by (line, site): one row per distinct pair.
        self._line = np.zeros(0, dtype=np.uint64)
        self._site = np.zeros(0, dtype=np.uint64)
        self._count = np.zeros(0, dtype=np.uint32)
        self._pending: list[tuple[np.ndarray, int]] = []
        self._pending_entries = 0
        self._lookup: _Lookup | None = None

    # building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, texts: Iterable[str | None], sites: Iterable[str | None] | None = None,
              *, capacity: int = DEFAULT_CAPACITY) -> RepeatIndex:
        """The index of ``texts`` (``None`` is skipped), each from the site or URL at the
        same place in ``sites`` (no site for any without it)."""
        index = cls(capacity)
        pairs = zip(texts, itertools.chain(sites if sites is not None else (),
                                            itertools.repeat(None)))
        while chunk := list(itertools.islice(pairs, BATCH_DOCS)):
            batch = [(t, s) for t, s in chunk if isinstance(t, str)]
            index.add_many([t for t, _ in batch], [s for _, s in batch])
        return index

    def add_many(self, texts: Sequence[str], sites: Sequence[str | None]) -> None:
        """Count the lines of several documents, each from the site at the same place in
        ``sites``: hashed together, which is much faster than one at a time for short
        documents (best with about :data:`BATCH_DOCS` of them)."""
        for site, hashes in zip(sites, line_hashes_of(texts)):
            self._count_document(hashes, site)

    def add(self, text: str | Iterable[str], site: str | None = None) -> None:
        """Count the lines of one document from ``site`` (a site or a URL; ``None``: no
        site). ``text`` is the document, or its pieces cut between lines (the segments of a
        long one, see :mod:`cleaner.segment`), so that it need not be held whole."""
        pieces = [text] if isinstance(text, str) else text
        self._count_document(np.concatenate([line_hashes(piece) for piece in pieces]
                                            or [_NO_LINES]), site)

    def _count_document(self, hashes: np.ndarray, site: str | None) -> None:
        hashes = np.unique(hashes)
        hashes = hashes[hashes != 0]
        self.documents += 1
        self._lookup = None
        if hashes.size:
            self._pending.append((hashes, _site_hash(site_of(site))))
            self._pending_entries += hashes.size
            if self._pending_entries >= FLUSH_ENTRIES:
                self._compact()

    def merge(self, *others: RepeatIndex) -> RepeatIndex:
        """A new index holding the counts of this one and ``others`` (as if built over all
        their shards); merging several at once sorts their counts once, not once each."""
        shards = (self, *others)
        merged = RepeatIndex(max(shard.capacity for shard in shards))
        for shard in shards:
            shard._compact()
        merged._compact(tables=[(shard._line, shard._site, shard._count) for shard in shards])
        merged.documents = sum(shard.documents for shard in shards)
        merged.pruned += sum(shard.pruned for shard in shards)  # and its own, if it pruned
        return merged

    def _compact(self, tables: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]] = ()) -> None:
        """Fold the pending documents (or the given tables) into the sorted table."""
        if not tables:
            if not self._pending:
                return
            lines = [h for h, _ in self._pending]
            sites = [np.full(h.size, s, dtype=np.uint64) for h, s in self._pending]
            tables = [(self._line, self._site, self._count),
                      (np.concatenate(lines), np.concatenate(sites),
                       np.ones(sum(h.size for h in lines), dtype=np.uint32))]
        self._pending, self._pending_entries = [], 0
        line = np.concatenate([t[0] for t in tables])
        site = np.concatenate([t[1] for t in tables])
        count = np.concatenate([t[2] for t in tables])
        order = np.lexsort((site, line))
        line, site, count = line[order], site[order], count[order]
        starts = (np.flatnonzero(np.r_[True, (line[1:] != line[:-1]) | (site[1:] != site[:-1])])
                  if line.size else np.zeros(0, dtype=np.intp))
        line, site = line[starts], site[starts]
        count = np.add.reduceat(count, starts).astype(np.uint32) if count.size else count
        if line.size > self.capacity:
            keep = count > 1
            line, site, count = line[keep], site[keep], count[keep]
            self.pruned += 1
        self._line, self._site, self._count = line, site, count

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to go to another process) without the lookup tables: they are about as
        big as the counts, and the receiver builds them on first use."""
        return {**self.__dict__, "_lookup": None}

    # reading ----------------------------------------------------------------------------

    @property
    def pairs(self) -> int:
        """Distinct (line, site) pairs counted."""
        self._compact()
        return int(self._line.size)

    @property
    def nbytes(self) -> int:
        """Bytes the counts take (the lookup tables built for cleaning add about as much)."""
        self._compact()
        return int(self._line.nbytes + self._site.nbytes + self._count.nbytes)

    def repeats(self, text: str, site: str | None = None) -> Repeats:
        """The repetition evidence of each line of ``text`` (lines as
        :func:`cleaner.normalize.split_lines` cuts them), a document of ``site`` (a site or
        URL) that the index holds."""
        return self.repeats_of([text], [site])[0]

    def repeats_of(self, texts: Sequence[str], sites: Sequence[str | None]) -> list[Repeats]:
        """:meth:`repeats` of each of ``texts``, from the site at the same place in
        ``sites``, looked up together (much faster for many short texts)."""
        if self._lookup is None:
            self._compact()
            self._lookup = _Lookup.of(self._line, self._site, self._count)
        hashes = line_hashes_of(texts)
        site_of_line = np.repeat(np.array([_site_hash(site_of(s)) for s in sites],
                                          dtype=np.uint64), [h.size for h in hashes])
        found = self._lookup.repeats(np.concatenate(hashes or [_NO_LINES]), site_of_line)
        bounds = np.cumsum([h.size for h in hashes])[:-1]
        return [Repeats(*parts) for parts in zip(*(np.split(counts, bounds) for counts in
                                                   (found.site_docs, found.docs, found.sites)))]

    # files ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the index as an ``.npz`` archive of its columns (read with
        :meth:`load`; loading runs no code from the file) to a file name or a binary file
        open for writing (such as :func:`cleaner.io.atomic_output` gives)."""
        self._compact()
        meta = {"format": INDEX_FORMAT, "key_version": KEY_VERSION,
                "documents": self.documents, "pruned": self.pruned,
                "capacity": self.capacity}
        with (open(path, "wb") if isinstance(path, (str, os.PathLike))
              else contextlib.nullcontext(path)) as f:
            np.savez(f, meta=np.asarray(json.dumps(meta, sort_keys=True)), line=self._line,
                     site=self._site, count=self._count)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RepeatIndex:
        """An index written by :meth:`save`; :class:`RepeatIndexError` says why one cannot be
        used."""
        try:
            archive = np.load(path, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("an array, not an .npz archive")
            with archive:
                meta = json.loads(str(archive["meta"]))
                columns = [archive[name] for name in ("line", "site", "count")]
        except FileNotFoundError:
            raise RepeatIndexError(f"{path}: repetition index not found") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
            why = (e.strerror if isinstance(e, OSError) and e.strerror
                   else f"{type(e).__name__}: {e}" if zipfile.is_zipfile(path)
                   else "not an .npz archive")
            raise RepeatIndexError(f"{path}: not a repetition index ({why}); build one with "
                                   "`cleaner index`") from None
        _check_meta(path, meta)
        index = cls()
        try:
            index.capacity = int(meta.get("capacity", DEFAULT_CAPACITY))
            index.documents, index.pruned = int(meta["documents"]), int(meta["pruned"])
            line, site = (column.astype(np.uint64, copy=False) for column in columns[:2])
            count = columns[2].astype(np.uint32, copy=False)
            if not line.ndim == 1 or not line.shape == site.shape == count.shape:
                raise ValueError("columns of different shapes")
        except (KeyError, TypeError, ValueError) as e:
            raise RepeatIndexError(f"{path}: damaged repetition index ({type(e).__name__}: "
                                   f"{e}); rebuild it with `cleaner index`") from None
        index._line, index._site, index._count = line, site, count
        return index


def _check_meta(path: object, meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        raise RepeatIndexError(f"{path}: not a repetition index; build one with `cleaner index`")
    if meta.get("key_version") != KEY_VERSION:
        raise RepeatIndexError(f"{path}: index of line-key version {meta.get('key_version')}, "
                               f"this cleaner counts version {KEY_VERSION}; rebuild it with "
                               "`cleaner index`")


@dataclass(frozen=True)
class _Lookup:
    """The index arranged for lookups: per line its documents and sites, per (line, site)
    pair its documents."""

    lines: np.ndarray  # sorted distinct line hashes
    docs: np.ndarray
    sites: np.ndarray  # distinct sites, each document without one a site of its own
    pair_keys: np.ndarray  # sorted mixed (line, site) keys
    pair_docs: np.ndarray

    @classmethod
    def of(cls, line: np.ndarray, site: np.ndarray, count: np.ndarray) -> _Lookup:
        starts = np.flatnonzero(np.r_[True, line[1:] != line[:-1]]) if line.size else line
        lines = line[starts]
        docs = np.add.reduceat(count.astype(np.int64), starts) if line.size else line
        # A pair of a known site is one site; the documents without a site (site hash 0)
        # are one site each: nothing says they share one.
        own = np.where(site != 0, 1, count).astype(np.int64)
        sites = np.add.reduceat(own, starts) if line.size else line
        keys = _pair_key(line, site)
        order = np.argsort(keys, kind="stable")
        return cls(lines, docs.astype(np.int64), sites.astype(np.int64), keys[order],
                   count[order].astype(np.int64))

    def repeats(self, hashes: np.ndarray, site: np.ndarray) -> Repeats:
        """The evidence of lines (their hashes), each of a document of ``site`` (a site
        hash per line; 0: none)."""
        docs = _find(self.lines, self.docs, hashes)
        sites = _find(self.lines, self.sites, hashes)
        site_docs = np.where(site != 0, _find(self.pair_keys, self.pair_docs,
                                              _pair_key(hashes, site)), 0)
        # A document of a site is one of the site's documents; one without a site is a
        # site of its own, which the sites count holds.
        on_site = np.where(site != 0, site_docs > 0, docs > 0).astype(np.int64)
        present = hashes != 0
        return Repeats(site_docs=np.where(present, np.maximum(site_docs - 1, 0), 0),
                       docs=np.where(present, np.maximum(docs - 1, 0), 0),
                       sites=np.where(present, np.maximum(sites - on_site, 0), 0))


def _pair_key(line: np.ndarray, site: np.ndarray) -> np.ndarray:
    return np.asarray(np.bitwise_xor(line, site * _MIX))


def _find(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``values`` at each of ``wanted`` in the sorted ``keys``; 0 where it is absent."""
    if keys.size == 0:
        return np.zeros(wanted.size, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return np.where(keys[at] == wanted, values[at], 0)


FEATURES = ("site_docs", "docs", "sites")


def evidence_matrix(repeats: Repeats, lengths: np.ndarray) -> np.ndarray:
    """The repetition features of lines, one row each: the log counts of other documents
    of the site, other documents and other sites that hold the line. A line of
    :data:`LONG_LINE` characters or more gets none: prose repeated across pages (agency
    copy, a quotation, a page crawled twice) is never pushed out by repetition, and on the
    training data such lines added nothing that the short ones did not. Counts are capped
    at :data:`COUNT_CAP`, so a heading that recurs in every article of a large crawl weighs
    as if on ten pages and is not pushed out by sheer numbers."""
    short = (np.asarray(lengths) < LONG_LINE)[:, None]
    counts = np.column_stack([repeats.site_docs, repeats.docs, repeats.sites])
    return np.asarray(np.log1p(np.minimum(counts, COUNT_CAP)) * short)


@dataclass(frozen=True)
class RepetitionWeights:
    """How a model's score moves with the repetition evidence: ``logit(p') = logit(p) +
    evidence_matrix @ weights``. A line no other document holds (and every long line)
    keeps its score exactly."""

    weights: np.ndarray

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RepetitionWeights:
        """From a model manifest's ``"repetition"`` entry."""
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"repetition weights for features {data.get('features')}, this "
                             f"cleaner computes {list(FEATURES)}")
        weights = np.asarray(data["weights"], dtype=float)
        if weights.shape != (len(FEATURES),):
            raise ValueError(f"{weights.size} repetition weights for {len(FEATURES)} features")
        return cls(weights)

    def as_dict(self) -> dict[str, Any]:
        """For a model manifest."""
        return {"features": list(FEATURES), "weights": [round(float(w), 6)
                                                        for w in self.weights]}

    def adjust(self, probs: np.ndarray, repeats: Repeats, lengths: np.ndarray) -> np.ndarray:
        """``probs`` moved by the evidence (NaN stays NaN)."""
        from cleaner.classifier import sigmoid  # which imports this module

        values = evidence_matrix(repeats, lengths)
        moved = np.flatnonzero(values.any(axis=1) & ~np.isnan(probs))
        out = np.array(probs, dtype=float)
        if moved.size:
            p = out[moved]
            with np.errstate(divide="ignore"):
                logit = np.log(p) - np.log1p(-p)
            out[moved] = sigmoid(logit + values[moved] @ self.weights)
        return out
