"""Load every page of the built documentation in headless Chromium and fail on what a reader
would see broken.

    python docs/crawl.py docs/_build/html --screenshots /tmp/docs-screenshots

The site is served by `http.server` on 127.0.0.1; Chromium is Debian's (``/usr/bin/chromium``,
or ``--chromium``), driven by playwright with a fresh profile and no network beyond that
server. A page fails on a console error, a page error, a failed request or a response of
400 or more, a request to any other host (it is blocked, and reported), an image that did not
load (``naturalWidth`` 0), or a link to a page or anchor of the site that does not exist.
Four pages are photographed into the screenshots folder, which should lie outside the
repository. The exit code is 0 when every page is clean, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Route, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The pages photographed, relative to the site's root, and the names of their pictures.
SCREENSHOTS = {
    "index.html": "home.png",
    "tutorials/windows.html": "windows-tutorial.png",
    "reference/generated/stridedconv.conv.html": "api-conv.png",
    "auto_examples/plot_edges.html": "gallery-edges.png",
}
#: Every image loaded (lazy ones made eager), then the broken ones, the page's ids and links.
INSPECT = """async () => {
    const images = Array.from(document.images);
    await Promise.all(images.map((img) => {
        img.loading = "eager";
        if (img.complete) return null;
        return new Promise((done) => { img.onload = done; img.onerror = done; });
    }));
    return {
        broken: images.filter((img) => img.naturalWidth === 0).map((img) => img.src),
        ids: Array.from(document.querySelectorAll("[id], a[name]"))
            .map((el) => el.id || el.getAttribute("name")),
        links: Array.from(document.querySelectorAll("a[href]"))
            .map((a) => a.getAttribute("href")),
    };
}"""


@dataclass
class Report:
    """What went wrong, page by page, and the anchors every page holds."""

    problems: list[str] = field(default_factory=list)
    ids: dict[str, set[str]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (page, absolute URL)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 on a free port, in a thread; yield the base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages_of(root: Path) -> list[str]:
    """Every HTML page of the site, relative to its root, in a stable order."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*.html")
        if not path.relative_to(root).parts[0].startswith(("_static", "_sources", "_images"))
    )


def visit(page: Page, base: str, name: str, report: Report) -> None:
    """Load one page, wait for its images, record its problems, ids and links."""
    problems: list[str] = []
    host = urlsplit(base).netloc

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    def on_failed(request: Request) -> None:
        if urlsplit(request.url).netloc == host:
            problems.append(f"request failed: {request.url} ({request.failure})")

    def on_route(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and (
            urlsplit(url).netloc != host
        ):
            problems.append(f"request to another host: {url}")
            route.abort()
        else:
            route.continue_()

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", on_failed)
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.route("**/*", on_route)
    url = urljoin(base, name)
    response = page.goto(url, wait_until="load")
    if response is None or not response.ok:
        problems.append(f"could not load {url}")
    page.wait_for_load_state("networkidle")
    found = page.evaluate(INSPECT)
    problems += [f"image did not load: {src}" for src in found["broken"]]
    report.ids[name] = {str(i) for i in found["ids"] if i}
    for href in found["links"]:
        report.links.append((name, urljoin(url, str(href))))
    page.remove_listener("console", on_console)
    page.unroute("**/*")
    report.problems += [f"{name}: {problem}" for problem in problems]


def check_links(root: Path, base: str, report: Report) -> int:
    """Every internal link leads to a file of the site and, if it names one, an anchor that
    the target page holds; return the number of internal links checked."""
    checked = 0
    for page, url in report.links:
        if not url.startswith(base):
            continue  # another site (a reader's browser may follow it), mailto:, javascript:
        checked += 1
        address, fragment = urldefrag(url)
        target = unquote(address[len(base) :]) or "index.html"
        if target.endswith("/"):
            target += "index.html"
        if not (root / target).is_file():
            report.problems.append(f"{page}: link to a missing page: {url}")
        elif fragment and target in report.ids and unquote(fragment) not in report.ids[target]:
            report.problems.append(f"{page}: link to a missing anchor: {url}")
    return checked


def crawl(root: Path, screenshots: Path, chromium: str) -> Report:
    """Visit every page of the site at `root` and photograph the four pages."""
    report = Report()
    screenshots.mkdir(parents=True, exist_ok=True)
    names = pages_of(root)
    with (
        serve(root) as base,
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory(prefix="crawl-profile-") as profile,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        page = browser.new_page()
        for name in names:
            visit(page, base, name, report)
            if name in SCREENSHOTS:
                page.screenshot(path=str(screenshots / SCREENSHOTS[name]), full_page=False)
        missing = sorted(set(SCREENSHOTS) - set(names))
        report.problems += [f"{name}: page to photograph not built" for name in missing]
        links = check_links(root, base, report)
        browser.close()
    print(f"{len(names)} pages, {links} internal links, screenshots in {screenshots}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built HTML site (docs/_build/html)")
    parser.add_argument("--screenshots", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium's binary")
    args = parser.parse_args(argv)
    report = crawl(args.site.resolve(), args.screenshots, args.chromium)
    for problem in report.problems:
        print(problem)
    print(f"{len(report.problems)} problems")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
