"""The Examples sections of every docstring run as doctests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import stridedconv

MODULES = sorted(
    name for _, name, _ in pkgutil.iter_modules(stridedconv.__path__, prefix="stridedconv.")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_name_has_examples() -> None:
    for name in stridedconv.__all__:
        doc = getattr(stridedconv, name).__doc__
        assert doc is not None
        assert "Examples\n" in doc, name
