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
