"""Run the examples in the docstrings of every installed module, so that they cannot drift
from what the code does."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cleaner

MODULES = sorted(m.name for m in pkgutil.walk_packages(cleaner.__path__, "cleaner.")
                 if not m.name.endswith("__main__"))
# The public API shows itself by example.
WITH_EXAMPLES = {"cleaner", "cleaner.pipeline", "cleaner.normalize", "cleaner.segment",
                 "cleaner.smoothing", "cleaner.tables", "cleaner.assemble", "cleaner.columns",
                 "cleaner.frame", "cleaner.hf", "cleaner.datatrove"}
# Modules of an optional extra, and the package each one's examples need.
EXTRAS = {"cleaner.frame": "pandas", "cleaner.hf": "datasets", "cleaner.datatrove": "datatrove"}


@pytest.mark.parametrize("name", ["cleaner", *MODULES])
def test_docstring_examples(name: str) -> None:
    if name in EXTRAS:
        pytest.importorskip(EXTRAS[name])
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    if name in WITH_EXAMPLES:
        assert result.attempted > 0
