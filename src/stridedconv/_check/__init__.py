"""Checking a learner's own convolution and pooling functions against stridedconv.

`check` (exported as ``stridedconv.check``) checks one function; `check_sources` checks
several, at most two child processes at once, as ``stridedconv check`` does. The modules:
``_specs`` (the eleven signatures and stridedconv's answers), ``_conventions`` ('same'
padding rules), ``_cases`` (example calls, probes, hypothesis strategies), ``_runner`` (the
child process), ``_compare``, ``_diagnose`` (the likely cause), ``_adjoint`` (a backward
function against the learner's own forward one), ``_grade`` (one function from start to
verdict), ``_report`` and ``_figures`` (``--figures``).

Examples
--------
>>> sorted(NAMES)[:2]
['conv_backward', 'conv_forward']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._module import set_module
from ._grade import Grader
from ._loading import NAMES, TargetError, find_targets, source_of
from ._report import Report, Result, Speed
from ._runner import Source
from ._specs import FORWARD_OF

__all__ = [
    "NAMES",
    "ExtraMissing",
    "Report",
    "Result",
    "Speed",
    "TargetError",
    "check",
    "check_sources",
    "find_targets",
]

#: Functions checked at once, each in its own child process.
PARALLEL = 2


class ExtraMissing(ImportError):
    """hypothesis, which the check needs, is not installed."""


def require_hypothesis() -> None:
    """Raise `ExtraMissing` naming the ``check`` extra when hypothesis is missing."""
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        msg = (
            "stridedconv check needs the 'check' extra (hypothesis is not installed): "
            "pip install 'stridedconv[check]'"
        )
        raise ExtraMissing(msg) from None


def check_sources(
    sources: Mapping[str, Source], *, parallel: int = PARALLEL, timed: bool = True
) -> Report:
    """Check the functions `sources` names (one of the eleven names to a `Source`), at most
    `parallel` (1 or 2) at once; with `timed`, time the passing ones afterwards, one at a
    time."""
    require_hypothesis()

    graders = {
        name: Grader(name, source, sources.get(FORWARD_OF.get(name, "")))
        for name, source in sources.items()
    }
    names = list(sources)
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, 2))) as pool:
        results = dict(zip(names, pool.map(lambda name: graders[name].run(), names), strict=True))
    for name, result in results.items():  # one at a time: the timings do not compete
        if timed and result.verdict in ("pass", "convention"):
            result.speed = graders[name].time_it()
    for backward, forward in FORWARD_OF.items():
        _same_rule(results.get(backward), results.get(forward))
    return Report(list(results.values()))


def _same_rule(backward: Result | None, forward: Result | None) -> None:
    """Fail a backward function whose 'same' rule is not its forward function's."""
    if backward is None or forward is None or backward.verdict not in ("pass", "convention"):
        return
    if forward.convention is None or backward.convention is None:
        return
    if backward.convention != forward.convention:
        backward.verdict, backward.key = "fail", "not-adjoint"
        backward.cause = "pads unlike its forward"
        backward.details.insert(
            0,
            f"likely cause: pads 'same' by the {backward.convention!r} rule, its own "
            f"{forward.name} by the {forward.convention!r} rule: the backward pass is not the "
            "gradient of the forward pass",
        )


@set_module("stridedconv")
def check(
    function: Callable[..., Any] | str,
    like: str | None = None,
    *,
    forward: Callable[..., Any] | str | None = None,
) -> Report:
    """Check a learner's implementation of one of the course's functions against stridedconv.

    The function runs in a child process (a crash, an endless loop or a ``plt.show()`` does
    not stop the notebook), on the course's example calls and on small cases hypothesis
    draws; every result is compared with stridedconv's function of the same name, and the
    smallest case that differs is reported with its likely cause.

    Parameters
    ----------
    function : callable or str
        The learner's function, or the path of its file, ``'5-convolve.py'`` or
        ``'mine.py:my_convolve'``. A function defined in a notebook is sent to the child as
        its source text: it may use ``np`` but no other name of the notebook.
    like : str, optional
        Which function it implements: one of ``convolve_grayscale_valid``,
        ``convolve_grayscale_same``, ``convolve_grayscale_padding``, ``convolve_grayscale``,
        ``convolve_channels``, ``convolve``, ``pool``, ``conv_forward``, ``pool_forward``,
        ``conv_backward``, ``pool_backward``. Default: the function's name.
    forward : callable or str, optional
        For ``conv_backward`` and ``pool_backward``: the learner's forward function, whose
        gradient the backward one must be (the adjoint identity), so that a backward pass
        that follows the learner's own 'same' convention is recognised as such, and one
        that pads unlike its forward pass fails. The report has both functions.

    Returns
    -------
    Report
        Prints as a table with details below it, renders as HTML in Jupyter;
        ``report.exit_code`` is 0 when nothing fails.

    Raises
    ------
    ValueError
        For a `like` that is not one of the eleven names, and a `forward` given with a
        function that is not a backward one.
    TypeError
        For a `function` that is neither callable nor a path.
    ImportError
        When hypothesis (the ``check`` extra) is not installed.

    See Also
    --------
    convolve, pool, conv_forward, conv_backward : The functions of the course's names
        that the learner's function is compared with.

    Notes
    -----
    Verdicts: *pass*; *convention* (agrees with stridedconv once its own 'same' padding
    rule is followed, e.g. the '+1' rule; not a failure); *fail* (with the smallest failing
    case and a likely cause); *error* (cannot be imported, crashes or hangs). Integer-valued
    cases are compared exactly; float ones within ``1e-5`` (float32) or ``1e-9`` (float64)
    of the largest value a result can have.

    Examples
    --------
    >>> import numpy as np
    >>> def convolve_grayscale_valid(images, kernel):
    ...     m, h, w = images.shape
    ...     kh, kw = kernel.shape
    ...     out = np.zeros((m, h - kh + 1, w - kw + 1))
    ...     for i in range(h - kh + 1):
    ...         for j in range(w - kw + 1):
    ...             out[:, i, j] = np.sum(images[:, i:i + kh, j:j + kw] * kernel, axis=(1, 2))
    ...     return out
    >>> report = check(convolve_grayscale_valid)  # doctest: +SKIP
    >>> report["convolve_grayscale_valid"].verdict  # doctest: +SKIP
    'pass'
    >>> check(convolve_grayscale_valid, like="convolution")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: like must be one of convolve_grayscale_valid, ..., got 'convolution'
    """
    source = source_of(function)
    name = like if like is not None else source.function
    if name not in NAMES:
        msg = f"like must be one of {', '.join(NAMES)}, got {name!r}"
        raise ValueError(msg)
    sources = {name: source}
    if forward is not None:
        if name not in FORWARD_OF:
            msg = f"forward is for conv_backward and pool_backward, not for {name}"
            raise ValueError(msg)
        sources = {FORWARD_OF[name]: source_of(forward), name: source}
    return check_sources(sources)
