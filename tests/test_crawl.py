"""docs/crawl.py, the browser check of the built documentation, finds what it must: run on a
tiny site with one clean page and one page broken in every way it looks for."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = shutil.which("chromium")
pytest.importorskip("playwright")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")

GOOD = """<!doctype html><html><head><title>good</title></head><body>
<h1 id="top">good</h1><a href="bad.html#here">bad</a><a href="#top">top</a>
<img src="pixel.gif" alt="a pixel"></body></html>"""
BAD = """<!doctype html><html><head><title>bad</title>
<script src="https://cdn.example.invalid/lib.js"></script></head><body>
<h1 id="here">bad</h1><img src="missing.png" alt="missing">
<a href="good.html#nowhere">no such anchor</a><a href="gone.html">no such page</a>
<script>console.error("boom")</script></body></html>"""
PIXEL = bytes.fromhex(  # a 1x1 GIF
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)


def load_crawl(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    path = Path(__file__).parent.parent / "docs" / "crawl.py"
    spec = importlib.util.spec_from_file_location("crawl", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "crawl", module)  # its dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


def test_crawl_reports_every_kind_of_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "good.html").write_text(GOOD)
    (site / "bad.html").write_text(BAD)
    (site / "pixel.gif").write_bytes(PIXEL)
    crawl = load_crawl(monkeypatch)
    monkeypatch.setattr(crawl, "SCREENSHOTS", {"good.html": "good.png"})
    report = crawl.crawl(site, tmp_path / "shots", str(CHROMIUM))
    problems = "\n".join(report.problems)
    assert not [p for p in report.problems if p.startswith("good.html")], problems
    for expected in [
        "bad.html: console error: boom",
        "bad.html: request to another host: https://cdn.example.invalid/lib.js",
        "bad.html: image did not load",
        "bad.html: HTTP 404",
        "bad.html: link to a missing anchor",
        "bad.html: link to a missing page",
    ]:
        assert expected in problems, problems
    assert (tmp_path / "shots" / "good.png").stat().st_size > 0
