"""Fuzzing with hypothesis: the normalizer, the rule engine and the JSONL reader never
fail on arbitrary input, and keep their invariants. Bounded by example counts, so CI time
stays predictable."""

from __future__ import annotations

import json

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.errors import InputError
from cleaner.io import parse_record
from cleaner.normalize import normalize_text, split_lines
from cleaner.rules import RuleSet

RULES = RuleSet.load()
EVERY_CHAR = st.characters(exclude_categories=())
CONTROL_OR_ODD_SPACE = regex.compile(r"[\p{Cc}\u00a0\u2000-\u200b\u2060\ufeff\u00ad\u3000]")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=EVERY_CHAR))
def test_normalizer_invariants(text: str) -> None:
    lines = normalize_text(text)
    assert len(lines) == len(split_lines(text))
    for line in lines:
        assert line == line.strip()
        assert "  " not in line
        assert not CONTROL_OR_ODD_SPACE.search(line)
    assert normalize_text("\n".join(lines)) == lines, "normalizing twice changes nothing"


RULE_WORDS = sorted({word for rule in RULES.rules for text in rule.examples
                     for word in text.split()})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=EVERY_CHAR, max_size=80),
                          st.lists(st.sampled_from(RULE_WORDS), max_size=6).map(" ".join)),
                max_size=25))
def test_rule_engine_takes_any_lines(lines: list[str]) -> None:
    hits = RULES.match(lines)
    assert len(hits) == len(lines)
    for line, hit in zip(lines, hits):
        if hit is not None and not hit.continued:
            assert hit.rule.matches(line)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                           max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200),
                 JSON_VALUES.map(lambda v: json.dumps(v).encode()),
                 st.sampled_from([b"1" * 5000, b"[" * 100_000, b'{"text": "\\ud800"}']),
                 st.dictionaries(st.text(), JSON_VALUES).map(lambda v: json.dumps(v).encode())))
def test_jsonl_reader_returns_a_record_or_a_clear_error(raw: bytes) -> None:
    try:
        record = parse_record(raw, "in.jsonl", 7, "text")
    except InputError as e:
        assert str(e).startswith("in.jsonl:7: ")
    else:
        assert isinstance(record, dict) and isinstance(record["text"], str)
