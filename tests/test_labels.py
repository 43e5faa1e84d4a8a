"""The labelled-document format and its round trip with --explain."""

from __future__ import annotations

import pytest

from cleaner.errors import InputError
from cleaner.labels import EXPLAIN_HEADER, format_labelled, parse_labelled


def test_parse_reads_metadata_tags_and_blank_lines() -> None:
    doc = parse_labelled("# lang: de\nC\tTitel\n\nB\tAnzeige\n?\tFoto: dpa\n")
    assert doc.meta == {"lang": "de"}
    assert doc.lines == ["Titel", "", "Anzeige", "Foto: dpa"]
    assert doc.tags == ["C", None, "B", "?"]
    assert doc.labels() == [0, None, 1, None]


def test_format_and_parse_round_trip() -> None:
    lines, tags = ["Titel", "", "# not a comment", "Tags:"], ["C", None, "C", "B"]
    doc = parse_labelled(format_labelled(lines, tags, {"lang": "en"}))
    assert (doc.lines, doc.tags, doc.meta) == (lines, tags, {"lang": "en"})


def test_explain_output_is_read_as_labelled_document() -> None:
    table = (f"{EXPLAIN_HEADER}\n1\tC\tmodel\t\t0.010\tTitel\n2\t\twhitespace\t\t\t\n"
             "3\tB\trule\tx\t\tTags:\n")
    doc = parse_labelled(table)
    assert doc.lines == ["Titel", "", "Tags:"]
    assert doc.tags == ["C", None, "B"]


@pytest.mark.parametrize("bad", ["X\tline\n", "no tab here\n"])
def test_errors_name_the_line(bad: str) -> None:
    with pytest.raises(InputError, match=r"doc\.txt:2"):
        parse_labelled("C\tok\n" + bad, "doc.txt")
