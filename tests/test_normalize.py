"""Unicode and whitespace normalization, line by line."""

from __future__ import annotations

import pytest

from cleaner.normalize import normalize_text, split_lines


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\rb", "a\u2028b", "a\u2029b"])
def test_every_line_break_convention_ends_a_line(text: str) -> None:
    assert normalize_text(text) == ["a", "b"]


def test_split_lines_keeps_one_entry_per_line_including_the_last() -> None:
    assert split_lines("a\r\n\r\nb\n") == ["a", "", "b", ""]


@pytest.mark.parametrize("space", ["\u00a0", "\u2000", "\u2005", "\u200a", "\u202f", "\u205f",
                                   "\u3000", "\t"])
def test_unicode_spaces_and_tabs_become_one_ascii_space(space: str) -> None:
    assert normalize_text(f"{space}Preis:{space}{space}12{space}€{space}") == ["Preis: 12 €"]


def test_runs_of_spaces_collapse_and_lines_are_trimmed() -> None:
    assert normalize_text("   Der   Rohstoff-Realist   ") == ["Der Rohstoff-Realist"]


@pytest.mark.parametrize("junk", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\x00", "\x07", "\x1b",
                                  "\x7f", "\x9b"])
def test_invisible_characters_are_removed(junk: str) -> None:
    assert normalize_text(f"Kar{junk}tell") == ["Kartell"]


def test_zero_width_joiners_that_carry_meaning_are_kept() -> None:
    persian = "می\u200cخواهم"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalize_text(f"{persian} {family}") == [f"{persian} {family}"]


def test_separating_controls_become_spaces_so_words_stay_apart() -> None:
    assert normalize_text("Seite\x0cEnde\x85Schluss") == ["Seite Ende Schluss"]


def test_nfc_composes_combining_marks() -> None:
    assert normalize_text("Sheinbau\u0308m") == ["Sheinbaüm"]
    assert normalize_text("e\u200b\u0301") == ["\u00e9"], "composes after removing invisibles"


def test_each_part_can_be_switched_off() -> None:
    text = "  e\u0301\u00a0x\u200b  "
    assert normalize_text(text, nfc=False) == ["e\u0301 x"]
    assert normalize_text(text, spaces=False) == ["  \u00e9\u00a0x  "]
    assert normalize_text(text, invisible=False) == ["\u00e9 x\u200b"]
