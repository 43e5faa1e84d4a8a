"""Rule filters: the shipped rules' own examples, and the loader's validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner.errors import RuleError
from cleaner.rules import RuleSet

SHIPPED = RuleSet.load()
CASES = [(rule.id, text, True) for rule in SHIPPED.rules for text in rule.examples] + [
    (rule.id, text, False) for rule in SHIPPED.rules for text in rule.counter_examples]


def test_shipped_rules_cover_the_required_categories_and_languages() -> None:
    categories = {rule.category for rule in SHIPPED.rules}
    assert {"archive", "tags", "ad", "social", "newsletter", "related", "copyright", "consent",
            "paywall", "comments"} <= categories
    for rule in SHIPPED.rules:
        assert len(rule.examples) >= 2 and rule.counter_examples, rule.id


@pytest.mark.parametrize(("rule_id", "text", "expected"), CASES,
                         ids=[f"{c[0]}:{'ex' if c[2] else 'counter'}:{c[1][:30]}" for c in CASES])
def test_rule_examples_and_counter_examples(rule_id: str, text: str, expected: bool) -> None:
    rule = next(r for r in SHIPPED.rules if r.id == rule_id)
    assert rule.matches(text) is expected


def test_every_shipped_rule_compiles_and_leaves_empty_lines_alone() -> None:
    # Shipped patterns compile when first used; user files are checked when they load.
    assert all(not rule.matches("") for rule in SHIPPED.rules)


@pytest.mark.parametrize("line", ["Filed under:", "Archiviert unter:", "Archivado en:",
                                  "Classé sous :", "Gearchiveerd onder:", "Arquivado em:",
                                  "Tags:", "Schlagwörter:", "Tagi:", "Advertisement", "Anzeige",
                                  "Werbung", "Publicidad", "Publicité", "Pubblicità", "Reklama",
                                  "Sponsored"])
def test_markers_named_in_the_issue_are_removed_at_the_end_of_a_document(line: str) -> None:
    lines = ["Ein ganz normaler Absatz mit mehreren Wörtern und einem Punkt.", line]
    hits = SHIPPED.match(lines)
    assert hits[0] is None and hits[1] is not None, line


@pytest.mark.parametrize("line", [
    "Filed under the telescope's Cycle 3 programme, the observations took 22 hours.",
    "Die Anzeige gegen den Bürgermeister wurde am Montag zurückgezogen.",
    "Share prices fell sharply after the announcement on Tuesday.",
    "Trumps harte Gangart zeigt Wirkung",
])
def test_prose_containing_junk_words_is_never_hit(line: str) -> None:
    assert SHIPPED.match(["Erster Absatz des Artikels.", line, "Letzter Satz."])[1] is None


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_user_rules_apply_after_shipped_rules(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[phrases]
promo = ["Jetzt testen", "Try it now"]

[[rule]]
id = "mine.promo"
category = "promo"
pattern = '\\L<promo>!?'
examples = ["Jetzt testen!"]
counter_examples = ["Wir wollten es jetzt testen."]
""")
    rules = RuleSet.load([path], builtin=False)
    hits = rules.match(["Ein Absatz.", "Try it now!", "Jetzt testen"])
    assert [h.rule.id if h else None for h in hits] == [None, "mine.promo", "mine.promo"]


def test_where_limits_a_rule_to_the_head_or_tail(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[[rule]]
id = "mine.end"
category = "footer"
where = "tail"
pattern = 'Ende'
""")
    rules = RuleSet.load([path], builtin=False, tail_lines=1)
    hits = rules.match(["Ende", "", "Text.", "Ende"])
    assert [bool(h) for h in hits] == [False, False, False, True]


def test_continues_list_takes_the_tag_lines_after_a_lead_in(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[[rule]]
id = "mine.tags"
category = "tags"
continues = "list"
pattern = 'Themen:'
""")
    rules = RuleSet.load([path], builtin=False)
    lines = ["Themen:", "- Finanzen", "Politik", "", "Ein neuer Absatz beginnt hier. Er ist lang."]
    assert [bool(h) for h in rules.match(lines)] == [True, True, True, False, False]


@pytest.mark.parametrize(("body", "message"), [
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = '('\n", r"rule 'a\.b': bad pattern"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = 'x'\ncolour = 1\n",
     r"rule 'a\.b': unknown key\(s\) colour"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\n", r"rule 'a\.b': missing key\(s\) pattern"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = 'x*'\n", r"matches an empty line"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = '\\L<nowhere>'\n",
     r"no phrase list named nowhere"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = 'x'\nwhere = 'middle'\n", r"where must be"),
    ("[[rule]]\nid = 'a.b'\ncategory = 'x'\npattern = 'x'\n[[rule]]\nid = 'a.b'\n"
     "category = 'y'\npattern = 'y'\n", r"duplicate id"),
    ("[[rule]\n", r"not valid TOML"),
])
def test_bad_rule_files_are_clear_errors_naming_file_and_rule(tmp_path: Path, body: str,
                                                               message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(RuleError, match=message) as info:
        RuleSet.load([path], builtin=False)
    assert str(path) in str(info.value)


def test_missing_rule_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read rule file"):
        RuleSet.load([tmp_path / "absent.toml"], builtin=False)


def _ids(rules: RuleSet, lines: list[str]) -> list[str | None]:
    return [hit.rule.id if hit else None for hit in rules.match(lines)]


def test_first_word_index_never_skips_a_matching_rule() -> None:
    unindexed = RuleSet(SHIPPED.rules)
    lines = [text for rule in SHIPPED.rules for text in rule.examples + rule.counter_examples]
    variants = [v for line in lines for v in (line, line.upper(), line.lower(), f"• {line}",
                                              f"o {line}", f"- {line.title()}", f"12{line}",
                                              f"o 3 {line}", f"Die {line}")]
    for start in range(0, len(variants), 40):  # documents of 40 lines: every zone is used
        chunk = variants[start:start + 40]
        assert _ids(SHIPPED, chunk) == _ids(unindexed, chunk)


def test_a_line_reaches_the_rules_of_every_key_that_starts_it(tmp_path: Path) -> None:
    # "Kommentar" and "Kommentare" are both word-prefix keys: a line starting with the
    # longer one must still reach the rule keyed by the shorter one, which comes first.
    path = _write(tmp_path, """
[phrases]
short = ["Kommentar"]
long = ["Kommentare"]

[[rule]]
id = "mine.short"
category = "comments"
pattern = '\\L<short>e?'

[[rule]]
id = "mine.long"
category = "comments"
pattern = '\\L<long>n?'
""")
    rules = RuleSet.load([path], builtin=False)
    lines = ["Kommentare", "Kommentaren", "Kommentar", "Kommentator"]
    assert _ids(rules, lines) == ["mine.short", "mine.long", "mine.short", None]
    assert _ids(rules, lines) == _ids(RuleSet(rules.rules), lines)


def test_user_rule_that_backtracks_catastrophically_is_reported_not_hung(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[[rule]]
id = "mine.slow"
category = "x"
pattern = '(?:a|aa)+b'
""")
    rules = RuleSet.load([path], builtin=False, user_timeout=0.05)
    with pytest.raises(RuleError, match=r"rule 'mine\.slow' took over 0\.05 s"):
        rules.match(["a" * 60])


def test_languages_limit_the_phrase_lists() -> None:
    german = RuleSet.load(langs=["de"])
    assert german.match(["Text.", "Anzeige"])[1] is not None
    assert german.match(["Text.", "Publicidad"])[1] is None
    assert RuleSet.load(langs=["es"]).match(["Text.", "Anzeige"]) == [None, None]


def test_a_list_no_loaded_language_fills_matches_nothing(tmp_path: Path) -> None:
    # Only French fills paywall_remaining. With English alone, a rule starting with it does
    # not apply; a rule using it further on still does, and that list matches nothing there
    # (an empty list would match the empty string).
    path = _write(tmp_path, """
[phrases]
mine = ["Promo"]

[[rule]]
id = "mine.later"
category = "promo"
pattern = '\\L<mine>(?:\\s\\L<paywall_remaining>)?'

[[rule]]
id = "mine.first"
category = "promo"
pattern = '\\L<paywall_remaining>\\s\\L<mine>'
""")
    english = RuleSet.load([path], builtin=False, langs=["en"])
    assert [rule.id for rule in english.rules] == ["mine.later"]
    assert _ids(english, ["Promo", "Promo Il vous reste", "Promo "]) == ["mine.later", None, None]
    french = RuleSet.load([path], builtin=False, langs=["fr"])
    assert _ids(french, ["Promo Il vous reste", "Il vous reste Promo"]) == ["mine.later",
                                                                            "mine.first"]


def test_a_phrase_list_matches_exactly_its_phrases_however_long_or_alike(tmp_path: Path) -> None:
    # The lists are written out as a character trie: phrases that start alike share a
    # branch, one may end where another goes on, and a long one is not nested per character.
    long = "Reproduction " + "of this page " * 300 + "is prohibited"
    path = _write(tmp_path, f"""
[phrases]
mine = ["Read", "Read more", "Related", "Re: (1)", "{long}"]

[[rule]]
id = "mine.any"
category = "related"
pattern = '\\L<mine>'
""")
    rules = RuleSet.load([path], builtin=False)
    lines = ["Read", "READ MORE", "related", "Re: (1)", long, "Re", "Read mor", "Re: 1",
             long[:-1], "Relate"]
    assert [bool(h) for h in rules.match(lines)] == [True] * 5 + [False] * 5


def test_compile_all_leaves_nothing_to_compile_while_matching(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import regex

    from cleaner.rules import files

    rules = RuleSet.load(langs=["en", "de"])
    rules.compile_all()
    compiled: list[str] = []
    real = regex.compile
    monkeypatch.setattr(files.regex, "compile",
                        lambda pattern, *a, **k: compiled.append(pattern) or real(pattern, *a, **k))
    hits = rules.match(["Advertisement", "Share on Facebook", "Anzeige", "The mayor spoke.",
                        "Tags: politics, city"])
    assert [h.rule.category if h else None for h in hits][:3] == ["ad", "social", "ad"]
    assert compiled == []
