"""The five seed documents come out exactly as expected, through the library and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS

from cleaner import clean

INPUTS = sorted((SEEDS / "input").glob("*.txt"))


def expected(path: Path) -> str:
    return (SEEDS / "expected" / path.name).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_clean_matches_expected_byte_for_byte(path: Path) -> None:
    assert clean(path.read_text(encoding="utf-8")) == expected(path)


@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_cli_matches_expected_byte_for_byte(path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "cleaner", str(path)], capture_output=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected(path).encode("utf-8")


def test_promotion_block_goes_and_headings_stay() -> None:
    path = SEEDS / "input" / "002_88cfd16ddff5b9f4.txt"
    out = clean(path.read_text(encoding="utf-8"))
    for heading in ("Trumps harte Gangart zeigt Wirkung", "Trumps Lateinamerika-Offensive",
                    "Parallele Gespräche auf Ministerebene"):
        assert f"\n{heading}\n" in out
    for junk in ("Silber-Explosion 2026", "Dominik Kettner", "15.000€ Gold", "- Politik"):
        assert junk not in out


def test_rules_alone_handle_the_archive_footers() -> None:
    for path in INPUTS:
        if not path.name.startswith("002"):
            assert clean(path.read_text(encoding="utf-8"), use_model=False) == expected(path)
