"""Long documents in segments: cuts, joins, and head and tail rules only at the real ends."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import Cleaner
from cleaner.normalize import split_lines
from cleaner.segment import Segment, split_segments

LINES = st.one_of(st.sampled_from(["", " ", "Anzeige", "Tags:", "Ein Satz.", "\r", "x" * 30]),
                  st.text(alphabet="ab \n\r\u2028", max_size=12))
DOCS = st.lists(LINES, max_size=40).map("\n".join)
SMALL = settings(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


def chunked(text: str, sizes: list[int]) -> list[str]:
    """``text`` in pieces of the given sizes (cycled), as a streaming reader gives it."""
    pieces, at = [], 0
    for size in sizes * (len(text) + 1):
        if at >= len(text):
            break
        pieces.append(text[at:at + size])
        at += size
    return pieces


@SMALL
@given(DOCS, st.integers(1, 60))
def test_segments_hold_the_documents_lines_exactly(text: str, limit: int) -> None:
    segments = list(split_segments([text], limit))
    assert sum(len(split_lines(s.text)) for s in segments) == len(split_lines(text))
    assert [line for s in segments for line in split_lines(s.text)] == split_lines(text)
    assert [s.first for s in segments] == [True] + [False] * (len(segments) - 1)
    assert [s.last for s in segments] == [False] * (len(segments) - 1) + [True]
    if len(text) <= limit:
        assert segments == [Segment(text)]


@SMALL
@given(DOCS, st.integers(1, 60), st.lists(st.integers(1, 25), min_size=1, max_size=4))
def test_segments_do_not_depend_on_how_the_text_is_read(text: str, limit: int,
                                                        sizes: list[int]) -> None:
    assert list(split_segments(chunked(text, sizes), limit)) == list(split_segments([text], limit))


def test_cuts_prefer_paragraph_breaks_and_keep_long_lines_whole() -> None:
    paragraph = "Ein Satz.\nNoch ein Satz.\n"  # 25 characters
    text = "\n".join([paragraph] * 8)
    segments = list(split_segments([text], 60))
    assert len(segments) > 2
    assert all(s.text.startswith("\n") for s in segments[1:]), "cut before a blank line"
    assert all(len(s.text) <= 60 for s in segments)
    long = "x" * 500
    pieces = chunked(f"Kopf.\n{long}\nEnde.\n" * 3, [7])
    assert long in [s.text for s in split_segments(pieces, 40)]
    assert [s.text for s in split_segments([f"{long}\nTags:\n"], 40)] == [long, "Tags:\n"]
    assert [s.text for s in split_segments([f"{long}\n"], 40)] == [f"{long}\n"], \
        "no empty last segment"


BODY = [f"Absatz {i}: ein Satz des Artikels, lang genug, um Inhalt zu sein." for i in range(60)]


NO_ZONES = {collapse: Cleaner(use_model=False, head_lines=0, tail_lines=0,
                              collapse_blank_lines=collapse) for collapse in (True, False)}


@SMALL
@given(DOCS, st.integers(1, 80), st.booleans())
def test_segmented_cleaning_equals_whole_cleaning_without_positional_rules(
        text: str, limit: int, collapse: bool) -> None:
    """Without head and tail zones the rules judge each line alone, so only the joins can
    make a difference, and they must not: no blank line doubled or lost, no line lost."""
    cleaner = NO_ZONES[collapse]
    whole = cleaner.explain(text)
    parts = list(cleaner.explain_segments(split_segments([text], limit)))
    assert "".join(p.text for p in parts) == whole.text
    assert sum(p.line_count for p in parts) == whole.line_count
    assert [(d.line_no, d.kept, d.reason) for p in parts for d in p.decisions if d.normalized] \
        == [(d.line_no, d.kept, d.reason) for d in whole.decisions if d.normalized]


def test_head_and_tail_rules_apply_only_at_the_documents_ends(tmp_path: Path) -> None:
    rules = tmp_path / "head.toml"
    rules.write_text('[[rule]]\nid = "mine.menu"\ncategory = "navigation"\nwhere = "head"\n'
                     'pattern = "Menü"\n', encoding="utf-8")
    footer = "Tags:\nPolitik\nMexiko\nThemen:"
    text = "\n\n".join(["Menü", *BODY[:10], footer, "Menü", *BODY[10:], footer]) + "\n"
    limit = text.index(footer) + len(footer) + 1  # the first cut falls right after it
    cleaner = Cleaner(use_model=False, rules=[rules], segment_chars=limit)
    segments = list(split_segments([text], limit))
    assert len(segments) >= 3
    assert segments[0].text.endswith(footer) and segments[1].text.startswith("\nMenü\n")
    result = cleaner.explain(text)
    assert result.segments == len(segments)
    # At the real ends: the head rule takes the menu, the tail rules the whole footer.
    # In between, only the non-positional tag rule applies: the list and "Themen:" stay.
    assert [d.reason for d in result.removed] == [
        "mine.menu", "footer.tags.body", "footer.tags", "footer.tags", "footer.tags",
        "footer.topics"]
    assert result.text == "\n\n".join([*BODY[:10], "Politik\nMexiko\nThemen:", "Menü",
                                        *BODY[10:]]) + "\n"
    assert Cleaner(use_model=False, rules=[rules]).clean(text) == result.text


def test_documents_up_to_the_limit_are_cleaned_as_before() -> None:
    text = "\n\n".join([*BODY, "Anzeige", "Tags:", "Politik"]) + "\n"
    default = Cleaner(use_model=False)
    exact = Cleaner(use_model=False, segment_chars=len(text))
    assert exact.explain(text) == default.explain(text)
    assert exact.explain(text).segments == 1
    assert Cleaner(use_model=False, segment_chars=len(text) - 1).explain(text).segments == 2


def test_explain_segments_numbers_lines_from_the_documents_start(rules_only: Cleaner) -> None:
    segments = [Segment("Erster Satz.\nAnzeige", last=False),
                Segment("\nZweiter Satz.\nAnzeige\n", first=False)]
    results = list(rules_only.explain_segments(segments))
    assert "".join(r.text for r in results) == "Erster Satz.\n\nZweiter Satz.\n"
    assert [d.line_no for r in results for d in r.removed] == [2, 5]
    assert [d.line_no for r in results for d in r.decisions] == list(range(1, 7))
