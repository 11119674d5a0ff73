"""The doctests of the command line's modules (tests/test_docs.py runs the top-level modules:
here, the package's private modules, where most of its functions live)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

from stridedconv import cli

MODULES = sorted(
    name for _, name, _ in pkgutil.iter_modules(cli.__path__, prefix="stridedconv.cli.")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
