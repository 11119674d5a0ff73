"""What a check found: one `Result` per function, gathered in a `Report` that prints as a
table with details below it, renders as HTML in Jupyter and converts to JSON.

Verdicts: ``pass`` (agrees with stridedconv), ``convention`` (agrees once its own 'same'
padding convention is followed: not a failure), ``fail`` (a bug, with the smallest case
that shows it and its likely cause), ``error`` (could not be imported, crashed or hung).

Examples
--------
>>> r = Result("pool", "6-pool.py:pool", "pass", speed=Speed(0.012, 0.001, 48, False))
>>> print(Report([r]))
function  verdict  cause  speed (learner / stridedconv)
--------  -------  -----  -----------------------------
pool      pass            12.0x slower (48 images)
<BLANKLINE>
all 1 functions pass (0 by another 'same' convention)
>>> Report([r]).exit_code
0
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("pass", "convention", "fail", "error")


@dataclass(frozen=True)
class Speed:
    """The learner's and stridedconv's seconds on `batch` images; `superlinear`: the
    learner's time grows faster than the batch."""

    learner: float
    library: float
    batch: int
    superlinear: bool

    def describe(self) -> str:
        ratio = self.learner / max(self.library, 1e-9)
        text = f"{ratio:.1f}x slower" if ratio >= 1 else f"{1 / ratio:.1f}x faster"
        text += f" ({self.batch} images)"
        if self.superlinear:
            text += ", grows faster than the batch"
        return text


@dataclass
class Result:
    """The check of one function."""

    name: str
    source: str
    verdict: str
    cause: str = ""
    details: list[str] = field(default_factory=list)
    speed: Speed | None = None
    convention: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The cause as a key of `stridedconv._check._diagnose.CAUSES` ('' for a pass; 'load',
    #: 'hang' or 'crash' for an error).
    key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Report:
    """The results of a check, one per function.

    ``str(report)`` is the terminal table with details below it; in Jupyter the report
    renders as an HTML table; `as_json` gives the same for machines; `exit_code` is 0 when
    nothing failed (a 'same' convention of the learner's own is not a failure), else 1.
    """

    def __init__(self, results: list[Result]) -> None:
        self.results = results

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, name: str) -> Result:
        for result in self.results:
            if result.name == name:
                return result
        msg = f"no function {name!r} in this report; it has {[r.name for r in self.results]}"
        raise KeyError(msg)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.verdict in ("pass", "convention") for r in self.results) else 1

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (r.name, r.verdict, r.cause, r.speed.describe() if r.speed else "")
            for r in self.results
        ]

    def table(self) -> str:
        head = ("function", "verdict", "cause", "speed (learner / stridedconv)")
        rows = [head, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                 for row in rows]  # fmt: skip
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(line.rstrip() for line in lines)

    def summary(self) -> str:
        count = {v: sum(r.verdict == v for r in self.results) for v in VERDICTS}
        if self.exit_code == 0:
            return (
                f"all {len(self.results)} functions pass ({count['convention']} by another "
                "'same' convention)"
            )
        return (
            f"{count['pass']} pass, {count['convention']} pass by another 'same' convention, "
            f"{count['fail']} fail, {count['error']} could not be checked"
        )

    def __str__(self) -> str:
        parts = [self.table()]
        for r in self.results:
            lines = r.details + [f"note: {n}" for n in r.notes]
            if lines:
                parts.append(f"{r.name} ({r.source}): {r.verdict}\n  " + "\n  ".join(
                    line.replace("\n", "\n  ") for line in lines))  # fmt: skip
        parts.append(self.summary())
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return f"<Report: {self.summary()}>"

    def _repr_html_(self) -> str:
        colours = {"pass": "#1a7f37", "convention": "#9a6700", "fail": "#cf222e",
                   "error": "#cf222e"}  # fmt: skip
        cells = []
        for r in self.results:
            details = "\n".join(r.details + [f"note: {n}" for n in r.notes])
            more = f"<details><pre>{html.escape(details)}</pre></details>" if details else ""
            cells.append(
                f"<tr><td><code>{html.escape(r.name)}</code></td>"
                f'<td style="color:{colours[r.verdict]}"><b>{r.verdict}</b></td>'
                f"<td>{html.escape(r.cause)}{more}</td>"
                f"<td>{html.escape(r.speed.describe() if r.speed else '')}</td></tr>"
            )
        return (
            "<table><thead><tr><th>function</th><th>verdict</th><th>cause</th>"
            "<th>speed (learner / stridedconv)</th></tr></thead><tbody>"
            + "".join(cells)
            + f"</tbody></table><p>{html.escape(self.summary())}</p>"
        )

    def as_json(self) -> str:
        """The report as JSON: ``{"results": [...], "exit_code": 0 | 1}``."""
        data = {"results": [r.as_dict() for r in self.results], "exit_code": self.exit_code}
        return json.dumps(data, indent=2)
