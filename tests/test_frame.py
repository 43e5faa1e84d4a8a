"""A pandas column in, a column out: same index, name and dtype, missing texts kept."""

from __future__ import annotations

import math

import pytest

pd = pytest.importorskip("pandas")

from cleaner.frame import clean_frame, clean_series  # noqa: E402


@pytest.fixture()
def frame(seed_pages: list[tuple[str, str]]):
    """Pages under a shuffled, non-default index, with a missing text and another column."""
    texts = [page for page, _ in seed_pages[:3]]
    return pd.DataFrame({"url": ["https://a.example/1", "https://a.example/2", None,
                                 "https://a.example/3"],
                         "body": [texts[0], texts[1], None, texts[2]]},
                        index=[30, 10, 20, 40])


def test_series_keeps_index_name_and_missing_values(
        seed_pages: list[tuple[str, str]]) -> None:
    expected = [cleaned for _, cleaned in seed_pages]
    series = pd.Series([seed_pages[0][0], None, *(page for page, _ in seed_pages[1:])],
                       index=list("qwerty"), name="body", dtype=object)
    out = clean_series(series)
    assert out.index.equals(series.index)
    assert (out.name, out.dtype) == ("body", series.dtype)
    assert out["w"] is None
    assert out.drop("w").tolist() == expected


def test_series_of_the_string_dtype_keeps_it(seed_pages: list[tuple[str, str]]) -> None:
    series = pd.Series([seed_pages[0][0], pd.NA], dtype="string")
    out = clean_series(series)
    assert out.dtype == series.dtype
    assert out[0] == seed_pages[0][1]
    assert out[1] is pd.NA


def test_frame_cleans_one_column_and_adds_removed_fractions(frame,
                                                            seed_pages: list[tuple[str, str]],
                                                            ) -> None:
    out = clean_frame(frame, "body", removed_column="removed", use_model=False)
    assert out.index.equals(frame.index)
    assert out["url"].equals(frame["url"])
    assert out["body"].equals(clean_series(frame["body"], use_model=False))
    assert out.loc[20, "body"] is None or math.isnan(out.loc[20, "body"])
    assert math.isnan(out.loc[20, "removed"])
    assert out["removed"].drop(20).between(0.0, 1.0).all()
    assert out.loc[10, "removed"] > 0.0   # the seed page ends in "Filed under:"
    assert frame.loc[10, "body"] == seed_pages[1][0]   # the input frame is not changed


def test_frame_refuses_a_missing_text_column_and_an_existing_removed_column(frame) -> None:
    with pytest.raises(KeyError, match=r"no column 'text'; the columns are \['url', 'body'\]"):
        clean_frame(frame)
    with pytest.raises(ValueError, match="'url' is already a column"):
        clean_frame(frame, "body", removed_column="url")
