"""The column cleaning that the pandas, datasets and datatrove helpers share: missing values
stay in place, the rest come out as the cleaner makes them, with their removed fractions."""

from __future__ import annotations

import pytest

from cleaner import Cleaner, CleanerConfig
from cleaner.columns import clean_column, clean_column_with_removed, removed_fraction

RULES_ONLY = CleanerConfig(use_model=False)
ARTICLE = "Rubio spoke on Tuesday about the border bill.\n"
FOOTER = "Tags: Senate, Florida"


def test_missing_values_stay_in_place(seed_pages: list[tuple[str, str]]) -> None:
    (first, first_clean), (second, second_clean) = seed_pages[:2]
    values = [None, first, float("nan"), second]
    assert clean_column(values, CleanerConfig()) == [
        None, first_clean, values[2], second_clean]


def test_with_removed_gives_the_same_texts(seed_pages: list[tuple[str, str]]) -> None:
    values = [page for page, _ in seed_pages] + [None]
    texts, removed = clean_column_with_removed(values, CleanerConfig())
    assert texts == clean_column(values, CleanerConfig())
    assert removed[-1] is None
    # A page scores above zero exactly when a line of it is gone from its expected output.
    lost_lines = [bool(_lines(page) - _lines(expected)) for page, expected in seed_pages]
    assert [fraction is not None and fraction > 0 for fraction in removed[:-1]] == lost_lines
    assert any(lost_lines) and not all(lost_lines)


def test_removed_fraction_is_the_share_of_characters_in_removed_lines(
        rules_only: Cleaner) -> None:
    page = f"{ARTICLE}\n{FOOTER}\n"
    result = rules_only.explain(page)
    assert result.text == ARTICLE
    kept = sum(len(line) for line in ARTICLE.splitlines() if line.strip())
    assert removed_fraction(result) == pytest.approx(len(FOOTER) / (kept + len(FOOTER)))
    assert removed_fraction(result) == result.doc_stats.char_fraction_removed


@pytest.mark.parametrize("page", ["", ARTICLE, f"  {ARTICLE}\n\n\n"],
                         ids=["empty", "clean", "only-whitespace-changes"])
def test_nothing_removed_is_zero(rules_only: Cleaner, page: str) -> None:
    assert removed_fraction(rules_only.explain(page)) == 0.0


def test_a_value_that_is_not_text_is_refused_in_one_line() -> None:
    with pytest.raises(TypeError, match="cleaner works on str, not int"):
        clean_column([ARTICLE, 7], RULES_ONLY)


def _lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines()} - {""}
