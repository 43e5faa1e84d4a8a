"""Shared test fixtures: paths into fixtures/ and a rules-only cleaner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cleaner import Cleaner

ROOT = Path(__file__).resolve().parent.parent
# The training tools are tested in place (they are not installed); appended, so that `cleaner`
# itself still comes from the installed package.
sys.path.append(str(ROOT))
FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture(scope="session")
def rules_only() -> Cleaner:
    """A cleaner without the line model: whitespace and rule stages only."""
    return Cleaner(use_model=False)


@pytest.fixture(scope="session")
def seed_pages() -> list[tuple[str, str]]:
    """The seed pages (news in German and English with their boilerplate), each with what
    cleaning must make of it: real input for the dataframe and dataset helpers."""
    return [(path.read_text(encoding="utf-8"),
             (SEEDS / "expected" / path.name).read_text(encoding="utf-8"))
            for path in sorted((SEEDS / "input").glob("*.txt"))]
