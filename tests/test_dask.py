"""Cleaning on a Dask cluster gives the single-process output."""

from __future__ import annotations

import pytest

from cleaner import Cleaner

distributed = pytest.importorskip("distributed")
db = pytest.importorskip("dask.bag")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

from cleaner.dask import clean_bag, clean_dataframe  # noqa: E402

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
