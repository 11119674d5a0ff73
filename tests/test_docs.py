"""The Examples sections of every docstring run as doctests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import stridedconv

# The package itself too: the public names' `__module__` is "stridedconv" (`set_module`),
# so doctest finds their examples there, not in their private modules.
MODULES = [
    "stridedconv",
    *sorted(
        name for _, name, _ in pkgutil.iter_modules(stridedconv.__path__, prefix="stridedconv.")
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_name_has_examples() -> None:
    for name in stridedconv.__all__:
        doc = getattr(stridedconv, name).__doc__
        assert doc is not None
        assert "Examples\n" in doc, name


@pytest.mark.parametrize("section", ["## The operations", "## Gradients"])
def test_readme_examples(section: str) -> None:
    """The README's examples of these sections run as doctests (the others need files)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index(f"\n{section}\n")
    text = readme[start : readme.index("\n## ", start + 1)].replace("```", "")
    test = doctest.DocTestParser().get_doctest(text, {}, section, "README.md", 0)
    assert test.examples, section
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0
