"""The labelled fixtures: every file parses, says its language, and is listed in the README;
the rules alone never remove a line the fixtures call content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import FIXTURES

from cleaner import Cleaner
from cleaner.labels import BOILERPLATE, CONTENT, read_labelled

DOCS = sorted((FIXTURES / "docs").glob("*/*.txt"))
# Content lines a line rule cannot tell from junk without reading the document: known losses,
# so the test fails when one is fixed (strict) or when any other content line is lost.
KNOWN_LOSSES = {
    "el/social-media-dimos": "a one-word section heading 'Newsletter' in an article about "
                             "newsletters: the rule for a lone newsletter-box title takes it",
}
LISTED = re.compile(r"^\| (\w{2}/[\w-]+) \|", re.MULTILINE)


def name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", DOCS, ids=name)
def test_fixture_parses_and_names_its_language(path: Path) -> None:
    doc = read_labelled(path)
    assert doc.meta.get("lang") == path.parent.name
    assert re.fullmatch(r"[a-z]{2}", path.parent.name)
    assert doc.meta.get("note"), "say what the document exercises"
    assert CONTENT in doc.tags, "a document without content teaches nothing"
    assert all("\t" not in line for line in doc.lines)


def test_the_readme_lists_every_fixture_and_no_other() -> None:
    listed = LISTED.findall((FIXTURES / "README.md").read_text(encoding="utf-8"))
    assert sorted(listed) == sorted(name(p) for p in DOCS)
    assert len(listed) == len(set(listed))


def test_fixtures_cover_many_languages_and_both_kinds_of_document() -> None:
    docs = [read_labelled(p) for p in DOCS]
    negatives = [d for d in docs if BOILERPLATE not in d.tags]
    assert len(DOCS) >= 200
    assert len({p.parent.name for p in DOCS}) >= 25
    assert len(negatives) >= 20  # look-alikes that must come through whole


@pytest.fixture(scope="module")
def rules_cleaner() -> Cleaner:
    return Cleaner(use_model=False)


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_LOSSES[name(p)]))
    if name(p) in KNOWN_LOSSES else p for p in DOCS], ids=name)
def test_rules_never_remove_a_content_line(path: Path, rules_cleaner: Cleaner) -> None:
    doc = read_labelled(path)
    result = rules_cleaner.explain(doc.text)
    lost = [d.text for d, tag in zip(result.decisions, doc.tags)
            if tag == CONTENT and not d.kept]
    assert lost == []
