"""Rebuilding the text from kept lines: blank-line policy."""

from __future__ import annotations

from cleaner.assemble import LEADING, RUN, TRAILING, assemble


def test_blank_runs_collapse_and_ends_are_trimmed() -> None:
    lines = ["", "", "Titel", "", "", "", "Absatz eins.", "Absatz zwei.", "", ""]
    text, dropped = assemble(lines, [False] * len(lines))
    assert text == "Titel\n\nAbsatz eins.\nAbsatz zwei.\n"
    assert dropped == [LEADING, LEADING, "", "", RUN, RUN, "", "", TRAILING, TRAILING]


def test_removing_a_line_between_blank_lines_leaves_one_blank_line() -> None:
    lines = ["Erster Absatz.", "", "Anzeige", "", "Zweiter Absatz."]
    text, _ = assemble(lines, [False, False, True, False, False])
    assert text == "Erster Absatz.\n\nZweiter Absatz.\n"


def test_removing_a_line_without_blank_lines_keeps_paragraphs_together() -> None:
    text, _ = assemble(["Eins.", "Anzeige", "Zwei."], [False, True, False])
    assert text == "Eins.\nZwei.\n"


def test_removed_footer_takes_its_blank_lines_along() -> None:
    text, dropped = assemble(["Text.", "", "Tags:", "", ""], [False, False, True, False, False])
    assert text == "Text.\n"
    assert dropped[1] == TRAILING


def test_all_junk_document_becomes_empty_string() -> None:
    assert assemble(["", "Anzeige", ""], [False, True, False])[0] == ""
    assert assemble([], [])[0] == ""


def test_blank_runs_can_be_kept() -> None:
    text, _ = assemble(["a", "", "", "b"], [False] * 4, collapse_blank_lines=False)
    assert text == "a\n\n\nb\n"
