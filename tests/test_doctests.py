"""Run the examples in the installed modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["cleaner", "cleaner.normalize", "cleaner.assemble", "cleaner.pipeline",
           "cleaner.segment"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
