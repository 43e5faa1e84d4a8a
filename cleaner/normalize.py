"""Unicode and whitespace normalization, and splitting a document into lines.

Everything here is a pure ``str -> str`` step that never changes which line a character
belongs to, so the normalized lines stay aligned one-to-one with the input lines and
``--explain`` can show both.

What changes (each group can be switched off in :class:`~cleaner.config.CleanerConfig`):

- ``nfc``: canonical composition (``"e\\u0301"`` becomes ``"é"``).
- ``invisible``: zero-width space U+200B, word joiner U+2060, byte-order mark U+FEFF and
  soft hyphen U+00AD are removed, and so are C0/C1 control characters. The controls that
  separate text (vertical tab, form feed, U+001C-U+001F, U+0085) become a space instead, so
  the words on either side are not glued together.
- ``spaces``: tabs and every Unicode space separator (U+00A0, U+1680, U+2000-U+200A, U+202F,
  U+205F, U+3000) become an ASCII space, runs of spaces collapse to one and lines are trimmed.

Deliberately left alone: zero-width non-joiner and joiner (U+200C, U+200D), which carry
meaning in Persian, Indic scripts and emoji sequences, and the bidirectional marks.

Line breaks: ``\\r\\n``, ``\\r``, ``\\n`` and the Unicode line and paragraph separators
(U+2028, U+2029) all end a line.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")  # every convention; see split_lines
_SPACE_RUN = re.compile(r"  +")  # a literal prefix: much faster than " {2,}"

_REMOVED = "\u200b\u2060\ufeff\u00ad"
_SEPARATING_CONTROLS = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_SPACE_SEPARATORS = ("\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                     "\u2009\u200a\u202f\u205f\u3000")


def _other_controls() -> str:
    """C0 and C1 controls except tab and line breaks (handled elsewhere)."""
    codes = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    keep = set("\t\n\r") | set(_SEPARATING_CONTROLS)
    return "".join(chr(c) for c in codes if chr(c) not in keep)


@lru_cache(maxsize=4)
def _replacer(invisible: bool, spaces: bool) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A pattern for the characters to replace and what each becomes.

    A regex substitution touches only the characters that need it, which is several times
    faster than ``str.translate`` on text where they are rare.
    """
    table: dict[str, str] = {}
    if invisible:
        table.update(dict.fromkeys(_REMOVED + _other_controls(), ""))
        table.update(dict.fromkeys(_SEPARATING_CONTROLS, " "))
    if spaces:
        table.update(dict.fromkeys(_SPACE_SEPARATORS, " "))
    if not table:
        return None
    return re.compile("[" + re.escape("".join(table)) + "]"), table


def split_lines(text: str) -> list[str]:
    """Split on every line-break convention; ``"a\\r\\nb\\n"`` gives ``["a", "b", ""]``."""
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        return LINE_BREAK.split(text)
    return text.split("\n")


def normalize_text(text: str, *, nfc: bool = True, invisible: bool = True,
                   spaces: bool = True) -> list[str]:
    """Return the normalized lines of ``text``, one per line of :func:`split_lines`.

    >>> normalize_text("Caf\\u00e9\\u00a0\\u00a0 au\\tlait \\r\\n\\u200bTags:\\u00ad ")
    ['Café au lait', 'Tags:']
    """
    replacer = _replacer(invisible, spaces)
    if replacer is not None:
        pattern, table = replacer
        text = pattern.sub(lambda m: table[m.group()], text)
    if nfc and not unicodedata.is_normalized("NFC", text):
        # after removing invisible characters, which can sit inside a sequence to compose
        text = unicodedata.normalize("NFC", text)
    if spaces:
        return [line.strip(" ") for line in split_lines(_SPACE_RUN.sub(" ", text))]
    return split_lines(text)
