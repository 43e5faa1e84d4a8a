"""Long documents in segments, so that memory follows the segment size, not the document's.

Cleaning holds about ten times a document's size in memory (its lines, the normalized lines,
decisions, the model's features and scores), so a 1 GB document would need some 10 GB. A
document longer than ``segment_chars`` characters (:data:`SEGMENT_CHARS` by default) is
therefore cut into segments of at most about that size, cleaned one after another and
joined again; the command line reads plain text that way too, so it never holds a whole
document.

Cuts fall on a line break, preferably one before a blank line (a paragraph break), and take
exactly that line break out, so the segments' lines are the document's lines and no line is
ever split: a line longer than the limit is a segment of its own (the model reads bounded
parts of long lines, so it costs bounded time, but the line itself is held whole).

Position counts, so each segment says whether it is the document's first or last: head
rules apply only in the first, tail rules and the model's tail smoothing only in the last.
Within a segment, the model reads the segment as it would a whole document. :class:`Joiner`
puts the segments' texts together with the blank lines between paragraphs that fell on a
cut, so they come out as if the document had been cleaned whole.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cleaner.config import SEGMENT_CHARS, SEGMENT_LINES
from cleaner.normalize import LINE_BREAK
from cleaner.types import CleanResult

if TYPE_CHECKING:
    from cleaner.repeats import Repeats

_PEEK = 256  # characters a cut may look past its window, e.g. to see a blank line

# A line break followed by a blank line (spaces only; other invisible characters do not
# count here, which at worst moves a cut to a plain line break).
_PARAGRAPH = re.compile(rf"(?:{LINE_BREAK.pattern})(?=[^\S\r\n\u2028\u2029]*[\r\n\u2028\u2029])")


@dataclass(frozen=True)
class Segment:
    """A part of a document between two cuts (or its ends); a whole document is a segment
    that is both ``first`` and ``last``."""

    text: str
    first: bool = True
    last: bool = True
    # Repetition evidence of each of its lines (see cleaner.repeats), when cleaning uses it.
    repeats: Repeats | None = dataclasses.field(default=None, compare=False, repr=False)


def split_segments(chunks: Iterable[str], limit: int = SEGMENT_CHARS,
                   max_lines: int = SEGMENT_LINES) -> Iterator[Segment]:
    """Cut the document that ``chunks`` add up to into segments of at most about ``limit``
    characters and at most ``max_lines`` lines; a document within both is one segment.

    Up to twice ``limit`` characters (plus a chunk, or one line longer than that) are held
    at once: the rest of the document stays that far ahead, so the last segment is known
    when it is yielded and is never a sliver.

    >>> [s.text for s in split_segments(["One.\\nTwo.\\n\\nThree.\\nFour.\\n"], 14)]
    ['One.\\nTwo.', '\\nThree.\\nFour.\\n']
    >>> [s.text for s in split_segments(["a\\nb\\nc\\nd\\ne"], max_lines=3)]
    ['a\\nb\\nc', 'd\\ne']
    """
    for segment in _split_chars(chunks, limit):
        yield from _split_lines(segment, max_lines)


def _split_chars(chunks: Iterable[str], limit: int) -> Iterator[Segment]:
    """:func:`split_segments` by the character bound alone."""
    held, start, first = "", 0, True
    long_line: list[str] = []  # chunks of a line longer than the limit, until it ends
    for chunk in chunks:
        if long_line and not long_line[-1].endswith("\r") and not LINE_BREAK.search(chunk):
            long_line.append(chunk)
            continue
        held, start = _concat([held[start:], *long_line, chunk]), 0
        long_line = []
        while len(held) - start > 2 * limit:
            cut = _cut(held, start, start + limit)
            if cut is None:  # all one line so far
                held, start, long_line = "", 0, [held[start:]]
                break
            yield Segment(held[start:cut[0]], first, False)
            first, start = False, cut[1]
    held, start = _concat([held[start:], *long_line]), 0
    while len(held) - start > limit:  # the end: halve what is left until it is short enough
        cut = _cut(held, start, start + (len(held) - start) // 2)
        if cut is None:
            break
        yield Segment(held[start:cut[0]], first, False)
        first, start = False, cut[1]
    yield Segment(held[start:], first, True)


def line_breaks(text: str) -> int:
    """At least the number of line breaks in ``text`` (``\\r\\n`` counts twice), at the
    speed of ``str.count``."""
    return (text.count("\n") + text.count("\r") + text.count("\u2028")
            + text.count("\u2029"))


def _split_lines(segment: Segment, max_lines: int) -> Iterator[Segment]:
    """``segment``, or when it has more than ``max_lines`` lines, its parts of about equal
    numbers of lines, at most ``max_lines`` each, cut as :func:`_split_chars` cuts."""
    text = segment.text
    if line_breaks(text) < max_lines:
        yield segment
        return
    breaks = [m.start() for m in LINE_BREAK.finditer(text)]
    parts = -(-(len(breaks) + 1) // max_lines)
    per = -(-(len(breaks) + 1) // parts)  # lines per part, the last one's possibly fewer
    start, line = 0, 0  # where the part begins, in characters and in lines
    while len(breaks) + 1 - line > per:
        cut = _cut(text, start, breaks[line + per - 1] + 1)
        if cut is None:
            break
        yield Segment(text[start:cut[0]], segment.first and start == 0, False)
        line += _count_until(breaks, line, cut[1])
        start = cut[1]
    yield Segment(text[start:], segment.first and start == 0, segment.last)


def _count_until(breaks: list[int], line: int, end: int) -> int:
    """How many of ``breaks`` from index ``line`` on start before ``end``."""
    return bisect.bisect_left(breaks, end, line) - line


def _concat(parts: list[str]) -> str:
    """Join ``parts``; a single non-empty part comes back as it is, without a copy."""
    return "".join([p for p in parts if p])


def _cut(text: str, start: int, at: int) -> tuple[int, int] | None:
    """Where to end the segment that starts at ``start``, near ``at``: the start and end of
    the last paragraph break in the second half of ``start:at``, else of its last line
    break, else of the last line break before, else of the first one after; ``None`` when
    there is none but at the very end (nothing would follow, and a ``\r`` there may be half
    of a ``\r\n``)."""
    half = start + (at - start) // 2
    found = (_last(_PARAGRAPH, text, half, at) or _last(LINE_BREAK, text, half, at)
             or _last(LINE_BREAK, text, start, half) or LINE_BREAK.search(text, at))
    if found is None:
        return None
    begin = found.start()
    if begin > start and text[begin - 1:begin + 1] == "\r\n":  # a window began inside it
        begin -= 1
    found = LINE_BREAK.match(text, begin) or found
    if found.end() == len(text):
        return None
    return found.start(), found.end()


def _last(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> re.Match[str] | None:
    """The last match of ``pattern`` that starts in ``lo:hi``; it may look a little further,
    to see a blank line or the rest of a ``\r\n``."""
    found = None
    for match in pattern.finditer(text, lo, hi + _PEEK):
        if match.start() >= hi:
            break
        found = match
    return found


class Joiner:
    """Joins the cleaned segments of one document into the text cleaning it whole gives.

    Between the last kept line of one segment and the first kept line of a later one the
    output has one blank line (without ``collapse_blank_lines``: all of them) when the input
    has blank lines between them, in whichever segments they are. A segment's own text
    drops the blank lines at its edges, so :meth:`add` is told how many there were. (The
    decisions of those blank lines keep the reason their segment gave them.)
    """

    def __init__(self, collapse_blank_lines: bool = True) -> None:
        self.collapse_blank_lines = collapse_blank_lines
        self.lines = 0  # input lines of the segments joined so far
        self._kept = False  # whether any segment so far kept a line
        self._blanks = 0  # blank lines since the last kept line

    def add(self, result: CleanResult, leading: int, trailing: int) -> CleanResult:
        """The next segment's ``result`` as a part of the document: its text follows the
        texts of the segments before, and its lines are numbered from the document's start.

        ``leading`` and ``trailing`` count the blank lines before the segment's first and
        after its last kept line; when it keeps none, all its blank lines are ``leading``.
        """
        offset, self.lines = self.lines, self.lines + result.line_count
        decisions = result.decisions if not offset else tuple(
            dataclasses.replace(d, line_no=d.line_no + offset) for d in result.decisions)
        text = result.text
        if not text:
            self._blanks += leading
        else:
            gap = self._blanks + leading if self._kept else 0
            text = "\n" * (min(gap, 1) if self.collapse_blank_lines else gap) + text
            self._kept, self._blanks = True, trailing
        return CleanResult(text, decisions, result.line_count)
