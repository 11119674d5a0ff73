"""The Examples sections of every docstring, the README's snippets and every snippet of the
documentation's pages (docs/**/*.md) run as doctests."""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import os
import pkgutil
import re
from pathlib import Path

import pytest

import stridedconv

ROOT = Path(__file__).parent.parent
# The package itself too: the public names' `__module__` is "stridedconv" (`set_module`),
# so doctest finds their examples there, not in their private modules.
MODULES = [
    "stridedconv",
    *sorted(
        name for _, name, _ in pkgutil.iter_modules(stridedconv.__path__, prefix="stridedconv.")
    ),
]
#: The fenced blocks of a Markdown page: the word after the fence and the text inside.
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_name_has_examples() -> None:
    for name in stridedconv.__all__:
        doc = getattr(stridedconv, name).__doc__
        assert doc is not None
        assert "Examples\n" in doc, name


def test_version_is_the_installed_distributions() -> None:
    assert stridedconv.__version__ == importlib.metadata.version("stridedconv")


def run_snippets(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run every ``pycon`` block of a Markdown page as one doctest, in a temporary folder
    (snippets that write files write them there); return the number of examples."""
    text = path.read_text()
    # The page with everything but its pycon blocks blanked, so that failures name the
    # page's own line numbers.
    pieces, end = [], 0
    for match in FENCE.finditer(text):
        pieces.append("\n" * text[end : match.start(2)].count("\n"))
        body = match.group(2)
        pieces.append(body if match.group(1) == "pycon" else "\n" * body.count("\n"))
        end = match.end(2)
    test = doctest.DocTestParser().get_doctest(
        "".join(pieces), {"__name__": "__main__"}, path.name, str(path), 0
    )
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, path
    return len(test.examples)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_docs_page_snippets(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python snippet of a page is a doctest (``pycon``) and runs."""
    untested = [lang for lang, _ in FENCE.findall(page.read_text()) if lang in {"python", "py"}]
    assert not untested, f"{page}: write Python snippets as ```pycon doctests"
    run_snippets(page, tmp_path, monkeypatch)


def test_plots_have_unique_file_names() -> None:
    """Every picture a page draws (``.. plot::``) names its file: inside MyST's ``eval-rst``
    blocks the plot directive's counter restarts, and unnamed pictures overwrite each other."""
    names = []
    for page in PAGES:
        text = page.read_text()
        plots = len(re.findall(r"^\.\. plot::$", text, re.MULTILINE))
        found = re.findall(r"^ +:filename-prefix: (\S+)$", text, re.MULTILINE)
        assert len(found) == plots, page
        names += found
    assert len(names) == len(set(names)), names


def test_readme_snippets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python snippet of README.md runs as written."""
    assert run_snippets(ROOT / "README.md", tmp_path, monkeypatch) > 0


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150


@pytest.mark.skipif(os.name != "posix", reason="the commands are POSIX shell")
def test_readme_setup_commands_use_their_own_venvs() -> None:
    """The two set-up commands make two different virtual environments, so pasting both
    does not reuse the first."""
    readme = (ROOT / "README.md").read_text()
    venvs = re.findall(r"python3 -m venv (\S+) && \. \1/bin/activate", readme)
    assert len(venvs) >= 2
    assert len(set(venvs)) == len(venvs)
