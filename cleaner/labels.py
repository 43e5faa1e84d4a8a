"""The labelled-document format: one tag per line, readable and diff-friendly.

A labelled document is a UTF-8 text file. Optional ``# key: value`` lines at the top carry
metadata (``lang``, ``source``, ``note``). Every other line is one line of the document:

- ``C<TAB>text``: content, must be kept;
- ``B<TAB>text``: boilerplate, must be removed;
- ``?<TAB>text``: unknown, not used for training or scoring;
- an empty line: a blank line of the document.

``cleaner --explain`` prints a table whose second column uses the same tags and whose last
column is the line, with a header line starting ``#line``. :func:`read_labelled` reads that
table too, so a user can run ``cleaner --explain doc.txt > doc.tsv``, correct the tags and
train on the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cleaner.errors import InputError

CONTENT, BOILERPLATE, UNKNOWN = "C", "B", "?"
TAGS = (CONTENT, BOILERPLATE, UNKNOWN)
EXPLAIN_HEADER = "#line\ttag\tstage\treason\tscore\ttext"
_EXPLAIN_COLUMNS = EXPLAIN_HEADER.count("\t") + 1


@dataclass
class LabelledDoc:
    """A document's lines with one tag each (``None`` for blank lines)."""

    lines: list[str]
    tags: list[str | None]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The document as plain text, lines joined with ``\\n``."""
        return "\n".join(self.lines)

    def labels(self) -> list[int | None]:
        """Tags as the dev corpus encodes them: 0 content, 1 boilerplate, None unknown."""
        return [{CONTENT: 0, BOILERPLATE: 1}.get(t or "") for t in self.tags]


def parse_labelled(text: str, name: str = "<string>") -> LabelledDoc:
    """Parse the labelled format (or ``--explain`` output); errors name the line."""
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    explain = bool(rows) and rows[0] == EXPLAIN_HEADER
    doc = LabelledDoc([], [])
    in_header = True
    for number, row in enumerate(rows, 1):
        if explain and number == 1:
            continue
        if in_header and not explain and row.startswith("#"):
            key, _, value = row[1:].partition(":")
            doc.meta[key.strip()] = value.strip()
            continue
        in_header = False
        if not row:
            doc.lines.append("")
            doc.tags.append(None)
            continue
        if explain:
            cells = row.split("\t", _EXPLAIN_COLUMNS - 1)
            if len(cells) != _EXPLAIN_COLUMNS:
                raise InputError(f"{name}:{number}: expected {_EXPLAIN_COLUMNS} columns")
            tag, line = cells[1], cells[-1]
        else:
            tag, sep, line = row.partition("\t")
            if not sep:
                raise InputError(f"{name}:{number}: expected TAG<TAB>text, got {row[:40]!r}")
        if tag == "" and not line.strip():
            doc.lines.append("")
            doc.tags.append(None)
            continue
        if tag not in TAGS:
            raise InputError(f"{name}:{number}: unknown tag {tag!r} (use C, B or ?)")
        doc.lines.append(line)
        doc.tags.append(tag)
    return doc


def read_labelled(path: str | Path) -> LabelledDoc:
    """Read one labelled file; its name is used in error messages."""
    return parse_labelled(Path(path).read_text(encoding="utf-8"), str(path))


def format_labelled(lines: Iterable[str], tags: Iterable[str | None],
                    meta: dict[str, str] | None = None) -> str:
    """Write lines and tags in the labelled format (the inverse of :func:`parse_labelled`)."""
    head = [f"# {k}: {v}" for k, v in (meta or {}).items()]
    body = ["" if tag is None and not line else f"{tag or UNKNOWN}\t{line}"
            for line, tag in zip(lines, tags)]
    return "\n".join(head + body) + "\n"
