"""``stridedconv check``: grade a learner's own implementations (`stridedconv.check`).

Its arguments are added to the parser by `add_check_parser`; `run_check` runs it.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="stridedconv")
>>> add_check_parser(parser.add_subparsers(dest="command"))
>>> parser.parse_args(["check", "mine.py:f", "--as", "convolve"]).like
'convolve'
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._args import UsageError

_NAMES = (
    "convolve_grayscale_valid, convolve_grayscale_same, convolve_grayscale_padding, "
    "convolve_grayscale, convolve_channels, convolve, pool, conv_forward, pool_forward, "
    "conv_backward, pool_backward"
)


def add_check_parser(commands: Any) -> None:
    """Add the ``check`` sub-command to the sub-parsers `commands`."""
    check = commands.add_parser(
        "check",
        help="check your own implementations of the course's functions",
        description=(
            "Run each of your functions in a child process on the course's example calls and "
            "on small cases hypothesis draws, compare every result with stridedconv's, and "
            "print a table (function, verdict, cause, speed) with the smallest failing case "
            "and its likely cause below it. A 'same' padding convention of your own is "
            "reported, not counted as a failure. Exit code 0 when nothing fails, 1 "
            "otherwise, 2 for a usage error. Needs the 'check' extra."
        ),
    )
    check.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="folders or files named as in the course (0-convolve_grayscale_valid.py ... "
        "6-pool.py, 0-conv_forward.py ... 3-pool_backward.py), or FILE.py:FUNCTION with --as",
    )
    check.add_argument(
        "--as",
        dest="like",
        metavar="NAME",
        help=f"the function the one PATH implements: one of {_NAMES}",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--figures",
        metavar="DIR",
        help="write, for each failing function, your output, stridedconv's and their "
        "difference on a real image (needs matplotlib)",
    )


def run_check(args: argparse.Namespace) -> int:
    """Run ``stridedconv check``; return the exit code."""
    from .._check import NAMES, ExtraMissing, TargetError, check_sources, find_targets

    try:
        if args.like is not None and args.like not in NAMES:
            msg = f"--as must be one of {', '.join(NAMES)}, got {args.like!r}"
            raise UsageError(msg)
        if args.like is not None:
            if len(args.paths) != 1:
                msg = f"--as names the function of one PATH, got {len(args.paths)} paths"
                raise UsageError(msg)
            targets = find_targets([], [f"{args.paths[0]}={args.like}"])
        else:
            targets = find_targets(args.paths)
        report = check_sources(targets)
    except TargetError as error:
        raise UsageError(str(error)) from None
    except ExtraMissing as error:
        print(error, file=sys.stderr)
        return 2
    if args.figures:
        from .._check._figures import write_figures

        for line in write_figures(report, targets, args.figures):
            print(line, file=sys.stderr)
    print(report.as_json() if args.json else report)
    return report.exit_code
