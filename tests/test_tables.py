"""Tables of figures stay, whatever the model thinks of their rows."""

from __future__ import annotations

import numpy as np

from cleaner import Cleaner, Stage
from cleaner.smoothing import smooth_lines
from cleaner.tables import table_rows

STATUS_TABLE = [
    "status_code │ period │ entries",
    "────────────┼────────────────────────┼─────────",
    "200 │ 2020-08-01 18:00:00+00 │ 4084",
    "404 │ 2020-08-01 18:00:00+00 │ 0",
    "500 │ 2020-08-01 17:59:00+00 │ 1",
]


def test_rows_with_the_same_columns_and_figures_form_a_table() -> None:
    lines = ["Die Preise im Überblick:", "Sorte | Preis je kg | Änderung",
             "Weizen | 231,50 € | +2,1 %", "Mais | 198,00 € | −0,4 %", "Raps | 452,25 € | 0 %",
             "", "Quelle: Marktbericht", *STATUS_TABLE]
    assert table_rows(lines).tolist() == [False, True, True, True, True,
                                           False, False, True, True, True, True, True]


def test_menus_and_short_runs_are_not_tables() -> None:
    menus = ["Home | News | Sport", "Politik | Wirtschaft | Kultur", "Login | Abo | Kontakt"]
    assert not table_rows(menus).any()  # no figures
    assert not table_rows(["Jahr | Umsatz", "2024 | 12,1 Mio.", ""]).any()  # two rows
    # the same columns, but a blank line between the rows
    assert not table_rows(["2023 | 10,4", "", "2024 | 12,1", "", "2025 | 13,0"]).any()
    # three columns, then two: no run of three rows with the same columns
    assert not table_rows(["a | 1 | 2", "b | 3 | 4", "c | 5"]).any()
    # a share bar repeated, or a long line of pipes, is not a row of cells
    assert not table_rows(["1 | " * 5000] * 3).any()


def test_smoothing_keeps_table_rows_it_would_remove() -> None:
    lines = ["Anzeige", "Newsletter bestellen", *STATUS_TABLE]
    probs = np.full(len(lines), 0.99)
    removed, _, table = smooth_lines(lines, probs, 0.5)
    assert removed.tolist() == [True, True] + [False] * len(STATUS_TABLE)
    assert table.tolist() == [False, False] + [True] * len(STATUS_TABLE)


def test_the_cleaner_keeps_a_table_even_at_a_threshold_that_removes_everything() -> None:
    text = "\n".join(["Die Fehlerquoten der letzten Minuten:", *STATUS_TABLE,
                      "Mehr zum Thema"]) + "\n"
    result = Cleaner(threshold=1e-6).explain(text)
    assert result.text == "\n".join(STATUS_TABLE) + "\n"
    rows = [d for d in result.decisions if d.normalized in STATUS_TABLE]
    assert all(d.kept for d in rows)
    # rows the model alone would have removed say why they stay
    assert any(d.stage is Stage.SMOOTHING and d.reason == "table" for d in rows)
