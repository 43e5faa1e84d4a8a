"""Guarantees that hold for any input: total, idempotent, faithful, and the same one
document at a time as in batches. Generated documents mix prose, short lines (headings,
list items), blank lines, junk lines and random Unicode."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import Cleaner
from cleaner.normalize import normalize_text, split_lines

RULES_ONLY = Cleaner(use_model=False)

JUNK = ["Anzeige", "Tags:", "Filed under:", "Share this", "Share on Facebook", "Advertisement",
        "© 2026 Foo GmbH", "Werbung", "Mehr zum Thema"]
PROSE = ["Die Regierung reagierte am Dienstag auf die Vorwürfe.",
         "The talks ended without agreement, and both sides left the capital on Friday.",
         "La reunión terminó sin acuerdo, según fuentes del ministerio."]
SHORT = ["Trumps harte Gangart", "- Finanzen", "15.000€ Gold", "Live Q&A", "Politik", "1.", "Fazit"]
# A junk line with a varying tail, as archive footers name their category.
ARCHIVED = st.text(alphabet=st.characters(categories=["L", "Zs"]), min_size=1,
                   max_size=20).map("Archiviert unter: {}".format)
LINES = st.one_of(st.sampled_from(JUNK + PROSE + SHORT + ["", "  ", "\t"]), ARCHIVED,
                  st.text(max_size=40))
DOCS = st.lists(LINES, max_size=30).map("\n".join)
# Every code point, lone surrogates included (they carry undecodable input bytes).
ALL_CHARS = st.characters(exclude_categories=())
ANY_TEXT = st.one_of(DOCS, st.text(), st.text(alphabet=ALL_CHARS))


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_cleaning_is_idempotent(text: str) -> None:
    once = RULES_ONLY.clean(text)
    assert RULES_ONLY.clean(once) == once


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_output_lines_are_an_ordered_subsequence_of_normalized_input(text: str) -> None:
    out = RULES_ONLY.clean(text)
    kept = [line for line in out.split("\n") if line]
    assert is_subsequence(kept, [line for line in normalize_text(text) if line])
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    assert "\n\n\n" not in out and not out.startswith("\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALL_CHARS, max_size=200))
def test_no_exception_on_any_unicode_string_and_one_decision_per_line(text: str) -> None:
    result = RULES_ONLY.explain(text)
    assert len(result.decisions) == len(split_lines(text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ANY_TEXT, max_size=8), st.integers(min_value=1, max_value=4))
def test_clean_many_equals_clean_per_document(texts: list[str], batch_size: int) -> None:
    """Documents batched together do not change each other's result."""
    batched = list(RULES_ONLY.clean_many(texts, batch_size=batch_size))
    assert batched == [RULES_ONLY.clean(text) for text in texts]


WITH_MODEL = Cleaner()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(DOCS, st.text(alphabet=ALL_CHARS, max_size=300)), min_size=1,
                max_size=3))
def test_with_the_model_cleaning_is_idempotent_faithful_and_batch_free(texts: list[str]) -> None:
    batched = list(WITH_MODEL.clean_many(texts, batch_size=2))
    for text, once in zip(texts, batched, strict=True):
        assert WITH_MODEL.clean(text) == once
        assert WITH_MODEL.clean(once) == once
        kept = [line for line in once.split("\n") if line]
        assert is_subsequence(kept, [line for line in normalize_text(text) if line])
