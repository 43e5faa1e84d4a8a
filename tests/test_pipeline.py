"""The Cleaner end to end with rules only: API contract, decisions, passes."""

from __future__ import annotations

import dataclasses
import gc
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cleaner import Cleaner, CleanerConfig, Stage, clean, engine
from cleaner.config import SmoothingConfig

ARTICLE = (
    "\n"
    "Mexiko verstärkt die Grenzkontrollen\n"
    "\n"
    "Die Regierung schickte am Montag weitere 10.000 Soldaten an die Nordgrenze.\n"
    "Anzeige\n"
    "Die Opposition kritisierte die Entscheidung als überstürzt.\n"
    "\n\n\n"
    "Archiviert unter:\n"
)


def test_clean_removes_rule_junk_and_stray_whitespace(rules_only: Cleaner) -> None:
    assert rules_only.clean(ARTICLE) == (
        "Mexiko verstärkt die Grenzkontrollen\n"
        "\n"
        "Die Regierung schickte am Montag weitere 10.000 Soldaten an die Nordgrenze.\n"
        "Die Opposition kritisierte die Entscheidung als überstürzt.\n")


def test_explain_gives_one_decision_per_input_line(rules_only: Cleaner) -> None:
    result = rules_only.explain(ARTICLE)
    assert [d.line_no for d in result.decisions] == list(range(1, ARTICLE.count("\n") + 2))
    by_text = {d.text: d for d in result.decisions if d.text}
    assert by_text["Anzeige"].kept is False
    assert by_text["Anzeige"].stage is Stage.RULE
    assert by_text["Anzeige"].category == "ad"
    assert by_text["Archiviert unter:"].category == "archive"
    assert by_text["Archiviert unter:"].reason == "footer.archive"
    assert all(d.stage is Stage.WHITESPACE for d in result.decisions if not d.text)
    assert [d.text for d in result.removed] == ["Anzeige", "Archiviert unter:"]


def test_explain_keeps_the_original_line_text(rules_only: Cleaner) -> None:
    decision = rules_only.explain("  Preis:\u00a0 12\u00a0€\t\r\nmehr Text.").decisions[0]
    assert decision.text == "  Preis:\u00a0 12\u00a0€\t"
    assert decision.normalized == "Preis: 12 €"


def test_clean_many_is_lazy_and_keeps_order(rules_only: Cleaner) -> None:
    seen = []

    def docs():
        for i in range(600):
            seen.append(i)
            yield f"Absatz Nummer {i} mit genug Wörtern für einen Satz.\nWerbung\n"

    results = rules_only.clean_many(docs(), batch_size=100)
    first = next(results)
    assert first == "Absatz Nummer 0 mit genug Wörtern für einen Satz.\n"
    assert len(seen) == 100, "only the first batch was read"
    rest = list(results)
    assert rest[-1].startswith("Absatz Nummer 599 ")


def test_bytes_input_says_how_to_decode(rules_only: Cleaner) -> None:
    with pytest.raises(TypeError, match=r"decode first.*surrogateescape"):
        rules_only.clean(b"Hallo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decode first"):
        clean(b"Hallo", use_model=False)  # type: ignore[arg-type]


def test_all_junk_and_empty_documents_become_empty(rules_only: Cleaner) -> None:
    assert rules_only.clean("") == ""
    assert rules_only.clean(" \n\t\n\u3000\n") == ""
    assert rules_only.clean("\nAnzeige\n\nTags:\n") == ""


def test_options_reach_the_config() -> None:
    cleaner = Cleaner(use_model=False, collapse_blank_lines=False, normalize_spaces=False)
    assert cleaner.clean("a  b\n\n\nc\n") == "a  b\n\n\nc\n"
    with pytest.raises(TypeError, match="unknown cleaner option"):
        Cleaner(threshhold=0.5)
    with pytest.raises(ValueError, match="threshold"):
        CleanerConfig(threshold=1.5)


def test_config_is_frozen_and_replaceable() -> None:
    config = CleanerConfig(use_model=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.threshold = 0.3  # type: ignore[misc]
    assert dataclasses.replace(config, threshold=0.3).threshold == 0.3
    assert CleanerConfig(rules="mine.toml").rules == ("mine.toml",)


def test_second_pass_removes_what_the_first_pass_exposes(rules_only: Cleaner) -> None:
    # "Tags:" is a tail rule: it sits 16 non-blank lines from the end until the ad lines
    # below it are removed, so only the second pass catches it.
    body = [f"Satz {i} des Artikels, lang genug, um Inhalt zu sein." for i in range(3)]
    text = "\n".join([*body, "Tags:", *(["Anzeige"] * 15)]) + "\n"
    out = rules_only.clean(text)
    assert out == "\n".join(body) + "\n"
    assert rules_only.clean(out) == out


def test_stopping_a_parallel_run_early_is_quiet(rules_only: Cleaner) -> None:
    texts = [f"Absatz {i} mit Inhalt, der bleibt.\nWerbung\n" for i in range(8)]
    results = rules_only.clean_many(texts, n_jobs=2, batch_size=1)
    assert next(results) == texts[0].replace("Werbung\n", "")
    time.sleep(1.0)  # let the workers finish tasks that will never be read
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results.close()
        del results
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_a_list_is_shared_out_so_each_worker_gets_several_batches(
        rules_only: Cleaner, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"Absatz {i} mit Inhalt, der bleibt.\nWerbung\n" for i in range(40)]
    expected = list(rules_only.clean_many(texts))
    sizes: list[int] = []
    batched = engine.batched

    def recording(*args: Any) -> Iterator[list[Any]]:
        for batch in batched(*args):
            sizes.append(len(batch))
            yield batch

    monkeypatch.setattr(engine, "batched", recording)
    assert list(rules_only.clean_many(texts, n_jobs=2, batch_size=16)) == expected
    assert sizes == [5] * 8  # four batches for each of two workers, not 16 + 16 + 8
    sizes.clear()
    assert list(rules_only.clean_many(iter(texts), n_jobs=2, batch_size=16)) == expected
    assert sizes == [16, 16, 8]  # a stream's length is unknown: batches stay as asked


def test_a_line_a_rule_decided_has_no_model_score() -> None:
    result = Cleaner().explain(ARTICLE)
    by_text = {d.text: d for d in result.decisions if d.text}
    assert by_text["Anzeige"].stage is Stage.RULE and by_text["Anzeige"].score is None
    kept = by_text["Die Opposition kritisierte die Entscheidung als überstürzt."]
    assert kept.stage is Stage.MODEL and kept.score is not None and 0.0 <= kept.score < 0.5


def test_without_a_model_kept_lines_say_rules_only(rules_only: Cleaner) -> None:
    kept = [d for d in rules_only.explain(ARTICLE).decisions if d.kept and d.text]
    assert kept and all((d.stage, d.reason, d.score) == (Stage.RULE, "rules-only", None)
                        for d in kept)


class _Suspicious:
    """A stand-in line model that calls every line longer than 40 characters junk."""

    threshold = 0.5
    smoothing = SmoothingConfig()

    def predict(self, docs: Any, memo: Any = None) -> list[Any]:
        import numpy as np

        return [np.array([np.nan if cat or not line else float(len(line) > 40)
                          for line, cat in zip(lines, cats)]) for lines, cats in docs]


def test_a_model_object_is_injected_and_judges_with_the_rules() -> None:
    cleaner = Cleaner(model=_Suspicious())
    assert cleaner.clean(ARTICLE) == "Mexiko verstärkt die Grenzkontrollen\n"
    assert {d.reason for d in cleaner.explain(ARTICLE).removed if d.stage is Stage.RULE}
    assert list(cleaner.clean_many([ARTICLE] * 3, n_jobs=2, batch_size=1)) == [
        "Mexiko verstärkt die Grenzkontrollen\n"] * 3


def test_tagged_documents_come_back_with_their_tags_and_none_in_its_place(
        rules_only: Cleaner) -> None:
    pairs = [("a", ARTICLE), ("bad", None), ("b", "Nur ein Satz.\nAnzeige\n")]
    out = list(rules_only.explain_tagged(pairs, batch_size=1))
    assert [tag for tag, _ in out] == ["a", "bad", "b"]
    assert out[1][1] is None
    assert [r.text for _, r in out if r is not None] == [rules_only.clean(ARTICLE),
                                                         "Nur ein Satz.\n"]


class _ByText:
    """A stand-in line model with a fixed P(boilerplate) per line text."""

    threshold = 0.5
    smoothing = SmoothingConfig()

    def __init__(self, probs: dict[str, float]) -> None:
        self.probs = probs

    def predict(self, docs: Any, memo: Any = None) -> list[Any]:
        import numpy as np

        return [np.array([np.nan if cat or not line else self.probs[line]
                          for line, cat in zip(lines, cats)]) for lines, cats in docs]


def test_configured_smoothing_replaces_the_model_own() -> None:
    promo = ["Jetzt das Webinar buchen und sparen!", "Nur 49 Euro für alle drei Termine.",
             "Hier geht es zur Anmeldung."]
    text = "\n".join([promo[0], "Kurz.", *promo[1:]]) + "\n"
    model = _ByText({**dict.fromkeys(promo, 0.99), "Kurz.": 0.3})
    assert Cleaner(model=model).clean(text) == ""  # the short line goes with its block
    strict = Cleaner(model=model, smoothing=SmoothingConfig(min_remove=0.5))
    assert strict.clean(text) == "Kurz.\n"
