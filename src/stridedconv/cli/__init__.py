"""The ``stridedconv`` command line: ``demo``, ``filter`` and ``pool``.

``stridedconv demo`` runs `stridedconv.demo.run`. ``stridedconv filter`` and
``stridedconv pool`` read PNG or JPEG files (grayscale or RGB) with Pillow, convolve or pool
each one with the library, and write the result as an 8-bit PNG for display and, with
``--raw``, as the library's result in a ``.npy`` file (an exact convolution beyond int64 is an
array of Python ints: load it with ``np.load(path, allow_pickle=True)``). Colour images are
filtered channel by channel by a 2-D kernel. Every output is written to a temporary file and
renamed into place when complete, so a failure leaves nothing half-written. Existing outputs are
replaced only with ``--force``; inputs never.

Each problem is one line on stderr, never a traceback: a file (or folder) that cannot be read,
processed or written is reported and the others are still processed.

The commands need the ``demo`` extra, ``pip install 'stridedconv[demo]'``; this package
imports matplotlib, Pillow, scikit-image and tqdm only when a command needs them. Its modules:
``_args`` (the parser and ``--kernel`` specs), ``_images`` (reading, 8-bit display, safe
writes) and ``_commands`` (the commands, file by file).

Exit codes: 0 when every file was processed, 1 when some file could not be (or an unexpected
error), 2 for a usage error or a missing extra, 130 when interrupted.

Examples
--------
>>> import numpy as np
>>> kernel_from_spec("gaussian:3:0.5").shape
(3, 3)
>>> to_uint8(np.array([[-1.0, 0.0], [1.0, 3.0]]))
array([[  0,  64],
       [128, 255]], dtype=uint8)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ._args import KERNEL_NAMES, PROG, ExtraMissing, UsageError, build_parser, kernel_from_spec
from ._check import run_check
from ._commands import apply_filter, apply_pool, reason, run_demo, run_filter, run_pool
from ._images import IMAGE_SUFFIXES, read_image, to_uint8
from ._train import run_train

__all__ = [
    "IMAGE_SUFFIXES",
    "KERNEL_NAMES",
    "apply_filter",
    "apply_pool",
    "kernel_from_spec",
    "main",
    "read_image",
    "to_uint8",
]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": run_check,
    "demo": run_demo,
    "filter": run_filter,
    "pool": run_pool,
    "train": run_train,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> main(["pool", "no-such-image.png", "--size", "2", "--out", "pooled"])  # doctest: +SKIP
    stridedconv pool: error: no-such-image.png: no such file or folder
    pool: no image written; 1 input gave no image (see above)
    1
    """
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ExtraMissing as error:
        print(error, file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug or the unforeseen: still one line, not a traceback
        print(f"{PROG} {args.command}: error: {reason(error)}", file=sys.stderr)
        return 1
