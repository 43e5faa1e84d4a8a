"""Cross-document repetition: the index's counts, its files, and the evidence in cleaning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import Cleaner
from cleaner import repeats as repeats_module
from cleaner.classifier import LineClassifier
from cleaner.errors import RepeatIndexError, UsageError
from cleaner.normalize import split_lines
from cleaner.repeats import (
    LONG_LINE,
    RepeatIndex,
    folded_codes,
    line_hashes,
    line_hashes_of,
    site_of,
)
from cleaner.types import REPEATED

SHARD = Path(__file__).resolve().parent.parent / "fixtures" / "repeats" / "shard.jsonl"
RECORDS = [json.loads(line) for line in SHARD.read_text(encoding="utf-8").splitlines()]
TEXTS = [r["text"] for r in RECORDS]
URLS = [r["url"] for r in RECORDS]
SITE_PAGES = [i for i, r in enumerate(RECORDS) if r["id"].startswith("harbor-")]
MENU = ["Harbor Gazette", "Home", "Local", "Business", "Sports", "Weather", "Obituaries"]


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner()


# --- keys and sites ----------------------------------------------------------------------

@settings(deadline=None)  # the first call builds the table of code point classes
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_one_hash_per_line_as_the_pipeline_splits(text: str) -> None:
    assert len(line_hashes(text)) == len(split_lines(text))


def _reference_fold(text: str) -> str:
    """What folding means, one regular expression per step."""
    text = regex.sub(r"\r\n|[\r\u2028\u2029]", "\n", text).casefold()
    text = regex.sub(r"\d", "0", regex.sub(r"\p{Cf}+", "", text))
    return "\n".join(regex.sub(r"[^\S\n]+", " ", line).strip(" ")
                     for line in text.split("\n"))


@settings(deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.lists(st.sampled_from(["a", "B", " ", "\t", "\u00a0", "\u200b", "\n", "\r\n",
                                   "7", "\u0663", "\u2028", "ß", "  "]), max_size=40).map("".join))
def test_folding_is_case_digits_invisibles_and_spaces(text: str) -> None:
    assert "".join(map(chr, folded_codes(text))) == _reference_fold(text)


_PIECES = st.lists(st.sampled_from(["Menu", "a b", "\n", "\r", "\r\n", "\u2028", "\u2029",
                                    " ", "2024", ""]), max_size=12).map("".join)


@settings(deadline=None)
@given(st.lists(_PIECES, max_size=8))
def test_texts_hashed_together_hash_as_each_alone(texts: list[str]) -> None:
    assert [h.tolist() for h in line_hashes_of(texts)] == \
        [line_hashes(text).tolist() for text in texts]


def test_hashes_fold_case_digits_and_spaces_but_not_words() -> None:
    h = line_hashes("Newsletter 2024\n  NEWSLETTER\u00a0 1999 \nNewsletter 2024!\n\n"
                    + "x" * LONG_LINE)
    assert h[0] == h[1] != h[2]
    assert h[3] == 0 and h[4] == 0  # blank, and too long to be weighed
    assert line_hashes("a\r\nb\u2028c").tolist() == line_hashes("a\nb\nc").tolist()


def test_hashes_do_not_depend_on_the_chunking_of_a_huge_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\r\n".join(f"line {chr(65 + i % 26)} {i % 7}" for i in range(500))
    whole = line_hashes(text)
    monkeypatch.setattr(repeats_module, "_CHUNK", 64)
    assert line_hashes(text).tolist() == whole.tolist()


def test_sites_of_urls() -> None:
    assert site_of("https://WWW.Harbor-Gazette.com/local/1") == "harbor-gazette.com"
    assert site_of("news.coastal-daily.net") == "news.coastal-daily.net"
    assert site_of("http://web.archive.org/web/20200101/https://www.cnn.com/a") == "cnn.com"
    assert site_of(None) is None and site_of("") is None and site_of(float("nan")) is None


# --- counts ------------------------------------------------------------------------------

def test_counts_are_other_documents_per_site_and_overall() -> None:
    index = RepeatIndex.build(TEXTS, URLS)
    lines = split_lines(TEXTS[0])
    evidence = index.repeats(TEXTS[0], URLS[0])
    others = len(SITE_PAGES) - 1
    home = lines.index("Home")
    assert evidence.counts(home) == (others, others, 0)
    title = lines.index("Ferry service to Cole Island resumes after six-week repair")
    assert evidence.counts(title) == (0, 0, 0)
    heading = lines.index("What happens next")  # in two of the site's articles
    assert evidence.counts(heading) == (1, 1, 0)
    # Documents without a site are sites of their own: their repeats are across sites.
    siteless = RepeatIndex.build(TEXTS)
    assert siteless.repeats(TEXTS[0]).counts(home) == (0, others, others)


def test_missing_texts_are_skipped_however_many_come_together() -> None:
    with_gaps = RepeatIndex.build([None] * 300 + TEXTS + [None], [None] * 300 + URLS)
    whole = RepeatIndex.build(TEXTS, URLS)
    assert with_gaps.documents == whole.documents and with_gaps.pairs == whole.pairs


def test_a_line_repeated_within_one_document_counts_once() -> None:
    index = RepeatIndex.build(["Share\nShare\nShare", "Share"], ["a.com", "b.com"])
    assert index.repeats("Share", "b.com").counts(0) == (0, 1, 1)


def test_merged_shards_equal_one_index_over_both() -> None:
    whole = RepeatIndex.build(TEXTS, URLS)
    merged = RepeatIndex.build(TEXTS[:4], URLS[:4]).merge(RepeatIndex.build(TEXTS[4:], URLS[4:]))
    assert merged.documents == whole.documents == len(TEXTS)
    assert merged.pairs == whole.pairs
    for text, url in zip(TEXTS, URLS):
        a, b = whole.repeats(text, url), merged.repeats(text, url)
        assert a.site_docs.tolist() == b.site_docs.tolist()
        assert a.docs.tolist() == b.docs.tolist() and a.sites.tolist() == b.sites.tolist()


def test_beyond_capacity_lines_seen_once_are_forgotten_and_repeats_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repeats_module, "FLUSH_ENTRIES", 60)  # about three pages
    exact = RepeatIndex.build(TEXTS, URLS)
    small = RepeatIndex.build(TEXTS, URLS, capacity=10)
    assert small.pruned > 0 and small.pairs < exact.pairs
    for text, url in zip(TEXTS, URLS):
        kept, full = small.repeats(text, url).docs, exact.repeats(text, url).docs
        assert np.all(kept <= full)
        # the menu and footer, seen on several pages between two compactions, keep their
        # full counts; the lines seen once are what goes
        assert all(k == f for k, f in zip(kept, full) if f >= len(SITE_PAGES) - 1)
    assert small.repeats(TEXTS[0], URLS[0]).docs.max() == len(SITE_PAGES) - 1


def test_saved_index_loads_with_the_same_counts(tmp_path: Path) -> None:
    index = RepeatIndex.build(TEXTS, URLS)
    index.save(tmp_path / "shard.idx")
    loaded = RepeatIndex.load(tmp_path / "shard.idx")
    assert loaded.documents == index.documents and loaded.pairs == index.pairs
    assert loaded.repeats(TEXTS[1], URLS[1]).docs.tolist() == \
        index.repeats(TEXTS[1], URLS[1]).docs.tolist()


def test_unusable_index_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(RepeatIndexError, match="not found"):
        RepeatIndex.load(tmp_path / "missing.idx")
    (tmp_path / "junk.idx").write_bytes(b"not an archive")
    with pytest.raises(RepeatIndexError, match="not a repetition index"):
        RepeatIndex.load(tmp_path / "junk.idx")
    RepeatIndex.build(TEXTS, URLS).save(tmp_path / "old.idx")
    with np.load(tmp_path / "old.idx") as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.asarray(json.dumps({**meta, "key_version": meta["key_version"] - 1}))
    with open(tmp_path / "old.idx", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(RepeatIndexError, match="rebuild it"):
        RepeatIndex.load(tmp_path / "old.idx")


# --- evidence in cleaning ----------------------------------------------------------------

def test_the_shipped_model_weighs_repetition(cleaner: Cleaner) -> None:
    assert cleaner.judge.repetition is not None


def test_a_sites_menu_goes_on_repetition_and_every_article_line_stays(cleaner: Cleaner) -> None:
    alone = list(cleaner.clean_many(TEXTS))
    results = list(cleaner.explain_many(TEXTS, repeats=True, sites=URLS))
    for i in SITE_PAGES:
        kept_alone = alone[i].split("\n")
        kept = results[i].text.split("\n")
        assert [m for m in MENU if m in kept_alone], "the model alone keeps some of the menu"
        assert not [m for m in MENU if m in kept]
        for line in kept_alone:  # the article, title, byline and headings all stay
            if line and line not in MENU and not line.startswith("Subscribe"):
                assert line in kept, line
        repeated = [d for d in results[i].decisions if d.reason == REPEATED]
        assert repeated and all(not d.kept and d.repeats for d in repeated)
        assert results[i].doc_stats.removed_by_repetition == len(repeated)


def test_long_prose_on_many_sites_is_not_pushed_out(cleaner: Cleaner) -> None:
    agency = [i for i, r in enumerate(RECORDS) if r["id"].startswith("agency-")]
    paragraph = split_lines(TEXTS[agency[0]])[2]
    assert len(paragraph) >= LONG_LINE
    many = [TEXTS[i] for i in agency] * 5  # twenty pages of four sites
    for result in cleaner.explain_many(many, repeats=True, sites=[URLS[i] for i in agency] * 5):
        assert paragraph in result.text.split("\n")
        assert all(d.repeats is None for d in result.decisions if d.text == paragraph)


def test_a_shard_without_repeats_cleans_exactly_as_without_the_option(cleaner: Cleaner) -> None:
    singles = [TEXTS[i] for i, r in enumerate(RECORDS) if r["id"] in ("harbor-1", "agency-2")]
    assert list(cleaner.clean_many(singles, repeats=True)) == list(cleaner.clean_many(singles))


def test_a_prebuilt_index_and_parallel_jobs_give_the_same_bytes(cleaner: Cleaner) -> None:
    built = list(cleaner.clean_many(TEXTS, repeats=True, sites=URLS))
    index = RepeatIndex.build(TEXTS, URLS)
    assert list(cleaner.clean_many(TEXTS, repeats=index, sites=URLS)) == built
    assert list(cleaner.clean_many(TEXTS, repeats=index, sites=URLS, n_jobs=2,
                                   batch_size=3)) == built


def test_repetition_needs_a_model_that_weighs_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="runs without one"):
        list(Cleaner(use_model=False).clean_many(TEXTS, repeats=True))
    shipped = LineClassifier.load()
    manifest = {k: v for k, v in shipped.manifest.items() if k != "repetition"}
    with pytest.raises(UsageError, match="not trained with repetition"):
        list(Cleaner(model=LineClassifier(shipped.params, manifest)).clean_many(
            TEXTS, repeats=True))
