"""``--figures DIR``: for each failing function, the learner's output, stridedconv's and their
difference on the first image of the course's example call, as ``DIR/NAME.png``.

Examples
--------
>>> import numpy as np
>>> plane(np.zeros((1, 4, 5, 3))).shape
(4, 5)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ._cases import examples
from ._report import Report
from ._runner import ChildFailure, Source, Worker
from ._specs import SPECS, arguments, expected


def plane(result: Any) -> Array:
    """The first image's first channel of a result (the first array of a tuple)."""
    array = np.asarray(result[0] if isinstance(result, tuple) else result, dtype=np.float64)
    first: Array = array[0]
    if first.ndim == 3:
        first = first[..., 0]
    return first


def write_figures(report: Report, sources: Mapping[str, Source], folder: str) -> list[str]:
    """Write a figure per failing function of `report`; return one line per figure or
    problem."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return ["--figures needs matplotlib: pip install 'stridedconv[demo]'"]
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for result in report:
        if result.verdict != "fail" or result.name not in sources:
            continue
        case = examples(result.name, m=1)[0]
        worker = Worker(sources[result.name], SPECS[result.name].params)
        try:
            args, kwargs = arguments(case)
            outcome = worker.call(args, kwargs, 20.0)
        except ChildFailure as error:
            lines.append(f"{result.name}: no figure ({error})")
            continue
        finally:
            worker.close()
        if outcome.raised is not None:
            lines.append(f"{result.name}: no figure (it raises {outcome.raised})")
            continue
        mine, theirs = plane(outcome.result), plane(expected(case))
        figure, axes = pyplot.subplots(1, 3, figsize=(9, 3.2))
        for axis, picture, title in ((axes[0], mine, "yours"), (axes[1], theirs, "stridedconv")):
            axis.imshow(picture, cmap="gray")
            axis.set_title(f"{title} {picture.shape}", fontsize=9)
        if mine.shape == theirs.shape:
            difference = mine - theirs
            limit = max(float(np.abs(difference).max()), 1e-12)
            shown = axes[2].imshow(difference, cmap="coolwarm", vmin=-limit, vmax=limit)
            figure.colorbar(shown, ax=axes[2], fraction=0.046)
            axes[2].set_title("yours - stridedconv", fontsize=9)
        else:
            axes[2].text(0.5, 0.5, "the shapes differ", ha="center", va="center")
        for axis in axes:
            axis.set_axis_off()
        figure.suptitle(f"{result.name}: {result.cause}"[:110], fontsize=9)
        figure.tight_layout()
        path = out / f"{result.name}.png"
        figure.savefig(path, dpi=100)
        pyplot.close(figure)
        lines.append(f"{result.name}: wrote {path}")
    return lines
