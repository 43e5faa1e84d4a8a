"""Guarantees that hold for any input: total, idempotent, faithful."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import Cleaner
from cleaner.normalize import normalize_text, split_lines

RULES_ONLY = Cleaner(use_model=False)

JUNK = ["Anzeige", "Tags:", "Filed under:", "Share this", "Advertisement", "© 2026 Foo GmbH"]
PROSE = ["Die Regierung reagierte am Dienstag auf die Vorwürfe.", "Trumps harte Gangart",
         "- Finanzen", "15.000€ Gold", "The talks ended without agreement.", "Live Q&A"]
LINES = st.one_of(st.sampled_from(JUNK + PROSE + ["", "  ", "\t"]), st.text(max_size=40))
DOCS = st.lists(LINES, max_size=30).map("\n".join)
# Every code point, lone surrogates included (they carry undecodable input bytes).
ALL_CHARS = st.characters(exclude_categories=())
ANY_TEXT = st.one_of(DOCS, st.text(), st.text(alphabet=ALL_CHARS))


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_cleaning_is_idempotent(text: str) -> None:
    once = RULES_ONLY.clean(text)
    assert RULES_ONLY.clean(once) == once


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_output_lines_are_an_ordered_subsequence_of_normalized_input(text: str) -> None:
    out = RULES_ONLY.clean(text)
    kept = [line for line in out.split("\n") if line]
    assert is_subsequence(kept, [line for line in normalize_text(text) if line])
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    assert "\n\n\n" not in out and not out.startswith("\n")


@settings(max_examples=200)
@given(st.text(alphabet=ALL_CHARS, max_size=200))
def test_no_exception_on_any_unicode_string_and_one_decision_per_line(text: str) -> None:
    result = RULES_ONLY.explain(text)
    assert len(result.decisions) == len(split_lines(text))


WITH_MODEL = Cleaner()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(DOCS, st.text(alphabet=ALL_CHARS, max_size=300)))
def test_with_the_model_cleaning_is_idempotent_and_faithful(text: str) -> None:
    once = WITH_MODEL.clean(text)
    assert WITH_MODEL.clean(once) == once
    kept = [line for line in once.split("\n") if line]
    assert is_subsequence(kept, [line for line in normalize_text(text) if line])
