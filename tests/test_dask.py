"""Cleaning on a Dask cluster gives the single-process output."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from cleaner import Cleaner
from cleaner.classifier import bundled_model_path, manifest_path
from cleaner.errors import UsageError
from cleaner.repeats import FEATURES, RepeatIndex

distributed = pytest.importorskip("distributed")
db = pytest.importorskip("dask.bag")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

from cleaner.dask import (  # noqa: E402
    clean_bag,
    clean_dataframe,
    index_bag,
    index_dataframe,
)

TEXTS = [f"Absatz {i}: die Regierung reagierte am Dienstag.\n\nAnzeige\nTags:\n" for i in range(40)]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def test_bag_on_two_workers_equals_single_process(client) -> None:
    expected = list(Cleaner(use_model=False).clean_many(TEXTS))
    bag = db.from_sequence(TEXTS, npartitions=4)
    assert clean_bag(bag, use_model=False).compute() == expected
    assert expected[0] == "Absatz 0: die Regierung reagierte am Dienstag.\n"


def test_dataframe_column_is_cleaned_and_others_kept(client) -> None:
    frame = pd.DataFrame({"id": range(len(TEXTS)), "text": TEXTS})
    out = clean_dataframe(dd.from_pandas(frame, npartitions=3), "text",
                          use_model=False).compute()
    assert out["id"].tolist() == list(range(len(TEXTS)))
    assert out["text"].tolist() == list(Cleaner(use_model=False).clean_many(TEXTS))


def test_missing_texts_in_a_column_stay_missing(client) -> None:
    texts = [TEXTS[0], None, TEXTS[1], float("nan")]
    frame = pd.DataFrame({"id": range(4), "text": texts})
    out = clean_dataframe(dd.from_pandas(frame, npartitions=2), "text",
                          use_model=False).compute()
    cleaner = Cleaner(use_model=False)
    # missing in the column's own way: None in an object column, pandas.NA in a string one
    assert out["text"].isna().tolist() == [False, True, False, True]
    assert out["text"].dropna().tolist() == [cleaner.clean(TEXTS[0]), cleaner.clean(TEXTS[1])]


# A shard as a crawl gives it: pages of two news sites, each page its own article between
# the site's menu, newsletter box and footer, an agency sentence that two sites carry, and
# pages of other sites; interleaved, so that every partition holds a few of each.
WIRE = ("The central bank left its key interest rate unchanged on Thursday, citing persistent "
        "inflation in services and a cooling labour market.")
LOCAL_TOPICS = ["den Haushalt für das kommende Jahr", "den Bau eines neuen Deiches",
                "höhere Preise für Monatskarten", "die Schließung des Krankenhauses",
                "einen Einbruch in ein Juweliergeschäft", "die Entlassung des Trainers",
                "die Sanierung der Stadtbibliothek", "neue Radwege in der Innenstadt",
                "den Streik der Müllabfuhr", "ein Konzert im Stadtpark",
                "die Wahl des neuen Bürgermeisters", "den Umbau des Bahnhofs"]
HARBOUR_TOPICS = ["the bus network", "the wheat harvest", "the museum's east wing",
                  "the ferry timetable", "the harbour bridge", "school lunches"]


def _local_page(i: int, topic: str) -> str:
    return ("Startseite | Politik | Wirtschaft | Sport | Kultur\nLokales\n"
            f"Der Stadtrat hat am {['Montag', 'Dienstag', 'Mittwoch'][i % 3]} über {topic} "
            f"beraten. Nach langer Debatte stimmten {20 + i} Mitglieder dafür, die Opposition "
            "kündigte Widerstand an.\n"
            f"Die Entscheidung über {topic} soll im Frühjahr umgesetzt werden, sagte ein "
            "Sprecher.\n\n"
            "Melden Sie sich jetzt für unseren Newsletter an und verpassen Sie keine Nachricht "
            "mehr.\nJetzt anmelden\n\nImpressum | Datenschutz | Kontakt\n"
            "© 2024 Stadtanzeiger Medien GmbH\n")


def _harbour_page(i: int, topic: str) -> str:
    return ("Home News Sport Weather Opinion\nSubscribe for $1 a week\n"
            f"Officials said on Monday that work on {topic} would start next month and cost "
            f"about {i + 3} million dollars.\n"
            + (WIRE + "\n" if i == 2 else "")
            + f"Residents have until the end of the month to comment on plans for {topic}.\n\n"
            "Get our morning briefing delivered to your inbox every weekday.\nSign up\n\n"
            "Terms of use | Privacy policy | Contact us\nCopyright 2024 Harbour Gazette\n")


def _shard() -> tuple[list[str], list[str | None]]:
    pages: list[tuple[str | None, str]] = [
        (f"https://www.stadtanzeiger.example.de/lokales/{1000 + i}.html", _local_page(i, topic))
        for i, topic in enumerate(LOCAL_TOPICS)]
    pages += [(f"https://harbourgazette.example.com/news/{i}", _harbour_page(i, topic))
              for i, topic in enumerate(HARBOUR_TOPICS)]
    pages += [("https://blog.example.org/2024/03/socken",
               "Ich stricke seit zwanzig Jahren Socken aus Schafwolle.\nHeute zeige ich euch "
               "mein Lieblingsmuster mit Zopfmuster am Schaft.\n\nKommentare (3)\n"),
              ("https://markets.example.net/rates",
               WIRE + "\nAnalysts expect the first cut in the spring.\n"),
              (None, "Sunny with a high of 24 degrees, light winds from the west in the "
                     "afternoon.\nTomorrow: clouds moving in from the coast.\n")]
    order = sorted(range(len(pages)), key=lambda k: k * 7 % len(pages))
    return [pages[k][1] for k in order], [pages[k][0] for k in order]


SHARD, URLS = _shard()
PARTITIONS = 4


@pytest.fixture(scope="module")
def weighing_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped model with repetition weights of its own, strong enough that repeats
    decide lines of the shard whatever weights the shipped manifest has. Workers load it by
    path."""
    folder = tmp_path_factory.mktemp("model")
    shutil.copy(bundled_model_path(), folder / bundled_model_path().name)
    manifest = json.loads(manifest_path(bundled_model_path()).read_text(encoding="utf-8"))
    manifest["repetition"] = {"features": list(FEATURES),
                              "weights": [4.0, 4.0, -1.0]}
    manifest_path(folder / bundled_model_path().name).write_text(json.dumps(manifest),
                                                                 encoding="utf-8")
    return str(folder / bundled_model_path().name)


def _pages(texts: list[str | None] = SHARD, urls: list[str | None] = URLS) -> pd.DataFrame:
    return pd.DataFrame({"id": range(len(texts)), "url": urls, "text": texts})


def _partition_by_partition(cleaner: Cleaner, texts: list[str],
                            urls: list[str | None] | None) -> list[str]:
    """What cleaning gives when each partition weighs only its own repeats."""
    size = -(-len(texts) // PARTITIONS)
    return [text for start in range(0, len(texts), size)
            for text in cleaner.clean_many(texts[start:start + size], repeats=True,
                                           sites=None if urls is None else
                                           urls[start:start + size])]


def test_dataframe_with_repeats_on_two_workers_equals_single_process(client,
                                                                     weighing_model) -> None:
    cleaner = Cleaner(model_path=weighing_model)
    texts = [*SHARD, None]  # a page whose text is missing stays missing, and counts nothing
    urls = [*URLS, "https://www.stadtanzeiger.example.de/lokales/leer.html"]
    expected = list(cleaner.clean_many(texts, repeats=True, sites=urls))
    frame = dd.from_pandas(_pages(texts, urls), npartitions=PARTITIONS)
    out = clean_dataframe(frame, "text", repeats=True, url_column="url", split_every=2,
                          model_path=weighing_model).compute()
    assert [None if pd.isna(text) else text for text in out["text"]] == expected
    pd.testing.assert_frame_equal(out.drop(columns="text"),
                                  frame.drop(columns="text").compute())
    # The test can tell: the shared counts decide lines that neither no counts nor each
    # partition's own counts would.
    weighed = expected[:-1]
    assert weighed != list(cleaner.clean_many(SHARD))
    assert weighed != _partition_by_partition(cleaner, SHARD, URLS)
    assert "Startseite | Politik" not in "".join(weighed)
    assert sum(WIRE in text for text in weighed) == 2


def test_bag_with_repeats_on_two_workers_equals_single_process(client, weighing_model) -> None:
    cleaner = Cleaner(model_path=weighing_model)
    expected = list(cleaner.clean_many(SHARD, repeats=True))
    bag = db.from_sequence(SHARD, npartitions=PARTITIONS)
    cleaned = clean_bag(bag, repeats=True, split_every=2, model_path=weighing_model)
    assert len(_read_by_every_cleaning_task(cleaned)) == 1  # the merged index
    assert cleaned.compute() == expected
    assert expected != _partition_by_partition(cleaner, SHARD, None)


def test_prebuilt_index_goes_to_every_partition_as_one_key(client, weighing_model) -> None:
    index = RepeatIndex.build(SHARD, URLS)
    expected = list(Cleaner(model_path=weighing_model).clean_many(SHARD, repeats=index,
                                                                  sites=URLS))
    cleaned = clean_dataframe(dd.from_pandas(_pages(), npartitions=PARTITIONS), "text",
                              repeats=index, model_path=weighing_model)
    assert [key[0] for key in _read_by_every_cleaning_task(cleaned)] == [
        key[0] for key in dict(cleaned.__dask_graph__()) if "repeat-index-" in str(key)]
    assert cleaned.compute()["text"].tolist() == expected


def _read_by_every_cleaning_task(collection) -> list:
    """The keys of the graph that all the cleaning tasks read (one per partition)."""
    graph = dict(collection.__dask_graph__())
    tasks = [task for key, task in graph.items() if "_clean_" in str(key)]
    assert len(tasks) == PARTITIONS
    return list(set.intersection(*(set(task.dependencies) for task in tasks)))


def test_index_merged_over_partitions_equals_index_over_all(client, tmp_path) -> None:
    frame = dd.from_pandas(_pages(), npartitions=PARTITIONS)
    for merged, whole in [
            (index_dataframe(frame, "text", "url", split_every=2),
             RepeatIndex.build(SHARD, URLS)),
            (index_dataframe(frame, "text", None), RepeatIndex.build(SHARD)),
            (index_bag(db.from_sequence(SHARD, npartitions=PARTITIONS), split_every=3),
             RepeatIndex.build(SHARD)),
            # partitions of blank pages merge to no lines, and still count their pages
            (index_bag(db.from_sequence(["", "\n", *SHARD[:2]], npartitions=4), split_every=2),
             RepeatIndex.build(["", "\n", *SHARD[:2]]))]:
        assert _counts(merged.compute(), tmp_path / "merged.npz") == \
            _counts(whole, tmp_path / "whole.npz")


def test_empty_bag_with_repeats_is_cleaned_to_nothing(client, weighing_model) -> None:
    assert clean_bag(db.from_sequence([], npartitions=1), repeats=True,
                     model_path=weighing_model).compute() == []


def _counts(index: RepeatIndex, path: Path) -> tuple[int, list[list[int]]]:
    """The documents an index counted and its (line, site, count) columns, as saved."""
    index.save(path)
    with np.load(path) as archive:
        return index.documents, [archive[name].tolist() for name in ("line", "site", "count")]


def test_repeats_without_weights_refused_before_counting() -> None:
    with pytest.raises(UsageError, match="repetition"):
        clean_bag(db.from_sequence(SHARD, npartitions=2), repeats=True, use_model=False)
    with pytest.raises(KeyError, match="url_column=None"):
        clean_dataframe(dd.from_pandas(_pages()[["text"]], npartitions=2), "text",
                        repeats=True, use_model=False)


def test_index_sent_to_a_worker_leaves_its_lookup_behind() -> None:
    index = RepeatIndex.build(SHARD, URLS)
    used = index.repeats(SHARD[0], URLS[0])  # builds the lookup tables
    assert len(pickle.dumps(index)) == len(pickle.dumps(index.merge()))  # a copy never used
    received = pickle.loads(pickle.dumps(index)).repeats(SHARD[0], URLS[0])
    assert [received.counts(i) for i in range(len(received))] == \
        [used.counts(i) for i in range(len(used))]
