"""``Dataset.map(clean_batch, batched=True)`` cleans a text column in place, keeps every other
column and every ``None``, in one process or several. In-memory datasets: no hub, no network."""

from __future__ import annotations

import functools

import pytest

datasets = pytest.importorskip("datasets")

from cleaner.hf import clean_batch  # noqa: E402


@pytest.fixture()
def dataset(seed_pages: list[tuple[str, str]]):
    """The seed pages in a ``body`` column, a ``None`` among them, and an id column."""
    bodies: list[str | None] = [page for page, _ in seed_pages]
    bodies.insert(2, None)
    return datasets.Dataset.from_dict({"id": list(range(len(bodies))), "body": bodies})


def _expected(seed_pages: list[tuple[str, str]]) -> list[str | None]:
    cleaned: list[str | None] = [page for _, page in seed_pages]
    cleaned.insert(2, None)
    return cleaned


@pytest.mark.parametrize("num_proc", [None, 2])
def test_map_cleans_the_column_in_place(dataset, seed_pages: list[tuple[str, str]],
                                        num_proc: int | None) -> None:
    out = dataset.map(functools.partial(clean_batch, text_column="body"), batched=True,
                      batch_size=2, num_proc=num_proc)
    assert out.column_names == ["id", "body"]
    assert list(out["id"]) == list(dataset["id"])
    assert list(out["body"]) == _expected(seed_pages)


def test_map_adds_removed_fractions_and_takes_cleaner_options(dataset) -> None:
    clean = functools.partial(clean_batch, text_column="body", removed_column="removed",
                              use_model=False)
    out = dataset.map(clean, batched=True, num_proc=2)
    assert out.column_names == ["id", "body", "removed"]
    removed = list(out["removed"])
    assert removed[2] is None
    assert all(0.0 <= fraction < 1.0 for fraction in removed[:2] + removed[3:])
    assert removed[0] > 0.0  # the first seed page ends in "Archiviert unter:"
    assert list(out["body"]) == list(dataset.map(
        functools.partial(clean_batch, text_column="body", use_model=False),
        batched=True)["body"])


def test_unbatched_map_is_refused_in_one_line(dataset) -> None:
    with pytest.raises(TypeError, match=r"call ds.map\(clean_batch, batched=True\)"):
        dataset.map(functools.partial(clean_batch, text_column="body"))


def test_missing_text_column_and_existing_removed_column_are_refused(dataset) -> None:
    with pytest.raises(KeyError, match="no column 'text'"):
        dataset.map(clean_batch, batched=True)
    with pytest.raises(ValueError, match="'id' is already a column"):
        dataset.map(functools.partial(clean_batch, text_column="body", removed_column="id"),
                    batched=True)


def test_a_process_builds_one_cleaner_per_configuration(seed_pages: list[tuple[str, str]]
                                                        ) -> None:
    from cleaner.pipeline import cached_cleaner

    batch = {"text": [page for page, _ in seed_pages[:2]]}
    built = cached_cleaner.cache_info().misses
    for _ in range(3):
        clean_batch(batch, use_model=False, threshold=0.93)
    assert cached_cleaner.cache_info().misses == built + 1
    clean_batch(batch, use_model=False, threshold=0.94)
    assert cached_cleaner.cache_info().misses == built + 2
