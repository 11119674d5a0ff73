"""The ``stridedconv`` command line: ``demo``, ``filter`` and ``pool``.

``stridedconv demo`` runs `stridedconv.demo.run`. ``stridedconv filter`` and
``stridedconv pool`` read PNG or JPEG files (grayscale or RGB) with Pillow, convolve or pool
each one with the library, and write the result as an 8-bit PNG for display and, with
``--raw``, as the exact result in a ``.npy`` file. Colour images are filtered channel by
channel by a 2-D kernel. Existing outputs are replaced only with ``--force``; inputs never.

The commands need the ``demo`` extra, ``pip install 'stridedconv[demo]'``; this module imports
matplotlib, Pillow, scikit-image and tqdm only when a command needs them.

Exit codes: 0 when every file was processed, 1 when some file could not be, 2 for a usage error
or a missing extra.

Examples
--------
>>> kernel_from_spec("gaussian:3:0.5").shape
(3, 3)
>>> to_uint8(np.array([[-1.0, 0.0], [1.0, 3.0]]))
array([[  0,  64],
       [128, 255]], dtype=uint8)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

from . import __version__, kernels
from ._convolution import convolve, convolve_channels, convolve_grayscale
from ._pooling import pool
from ._typing import Array, IntOrPair, Padding, PoolMode

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

PROG = "stridedconv"
EXTRA_HINT = "pip install 'stridedconv[demo]'"
#: The files a folder given as input contributes (by suffix, case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: The names ``--kernel`` accepts and the functions of `stridedconv.kernels` they call.
KERNEL_NAMES = kernels.BY_NAME
_KERNEL_HELP = (
    "a named kernel: sobel_x, sobel_y, prewitt[:x|y], laplacian[:4|8], box[:SIZE], "
    "gaussian[:SIZE[:SIGMA]], sharpen, emboss (defaults: box 3, gaussian 5 with sigma 1); or "
    "a .npy file holding a kernel of shape (kh, kw) (colour images: each channel alone), "
    "(kh, kw, c) (convolve_channels) or (kh, kw, c, nc) with nc 1 or 3 (convolve)"
)


class UsageError(Exception):
    """A problem with the command line or what it names: one line, exit code 2."""


class ExtraMissing(UsageError):
    """A module of the ``demo`` extra is not installed."""


def _require(command: str, *modules: str) -> list[ModuleType]:
    """Import `modules`, or raise `ExtraMissing` naming the extra to install."""
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as error:
            missing = error.name or name
            msg = (
                f"{PROG} {command} needs the 'demo' extra ({missing} is not installed): "
                f"{EXTRA_HINT}"
            )
            raise ExtraMissing(msg) from None
    return loaded


# --- kernels and arguments --------------------------------------------------------------------


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
        For an unknown name, bad arguments, or a file that is not a kernel; the message names
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
    except (TypeError, ValueError) as error:
        msg = f"--kernel {spec}: {error}"
        raise UsageError(msg) from None


def _kernel_file(path: Path) -> Array:
    try:
        kernel = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        msg = f"--kernel {path}: no such file"
        raise UsageError(msg) from None
    except (OSError, ValueError, EOFError) as error:
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


# --- images -----------------------------------------------------------------------------------


def read_image(path: Path) -> Array:
    """Read an image file with Pillow as a grayscale (h, w) or RGB (h, w, 3) array.

    Grayscale modes (8-bit, 16-bit, 32-bit, float; alpha dropped) give (h, w) arrays of their
    own dtype; every other mode (RGB, RGBA, palette, CMYK, ...) is converted to 8-bit RGB.

    Raises
    ------
    OSError
        When the file cannot be opened or decoded (Pillow's own error, or truncation).
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("1", "LA", "La"):
                return np.asarray(image.convert("L"))
            if image.mode in ("L", "I", "I;16", "F"):
                return np.array(image)
            return np.asarray(image.convert("RGB"))
    except Image.DecompressionBombError as error:
        raise OSError(str(error)) from None
    except (SyntaxError, ValueError) as error:  # some plugins' way to say "broken file"
        raise OSError(str(error)) from None


def to_uint8(result: Array) -> Array:
    """Map a result to 8 bits for display.

    A result whose values all lie in 0..255 (pooling or blurring 8-bit images) is rounded as
    it is; any other is stretched linearly from its minimum (0) to its maximum (255). NaNs
    become 0.

    Examples
    --------
    >>> to_uint8(np.array([0.4, 254.6]))
    array([  0, 255], dtype=uint8)
    >>> to_uint8(np.array([-5, 5]))
    array([  0, 255], dtype=uint8)
    """
    values = np.nan_to_num(np.asarray(result, dtype=np.float64), nan=0.0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if not (low >= 0 and high <= 255) and high > low:
        values = (values - low) * (255.0 / (high - low))
    return np.rint(np.clip(values, 0, 255)).astype(np.uint8)


def apply_filter(
    image: Array,
    kernel: Array,
    padding: Padding = "same",
    stride: IntOrPair = 1,
) -> Array:
    """Convolve one image, as ``stridedconv filter`` does.

    Parameters
    ----------
    image : ndarray, shape (h, w) or (h, w, c)
    kernel : ndarray, shape (kh, kw), (kh, kw, c) or (kh, kw, c, nc)
        (kh, kw): `convolve_grayscale` of each channel alone; (kh, kw, c):
        `convolve_channels` (a grayscale image has c = 1); (kh, kw, c, nc): `convolve`, with
        the channel axis dropped when nc = 1.
    padding, stride
        As in `stridedconv.convolve_grayscale`.

    Returns
    -------
    ndarray, shape (h', w') or (h', w', c) or (h', w', nc)

    Examples
    --------
    >>> rgb = np.zeros((5, 6, 3))
    >>> apply_filter(rgb, kernels.box(3), padding="valid").shape
    (3, 4, 3)
    """
    result: Array
    if kernel.ndim == 2:
        if image.ndim == 2:
            result = convolve_grayscale(image[None], kernel, padding, stride)[0]
        else:
            planes = np.moveaxis(image, -1, 0)
            result = np.moveaxis(convolve_grayscale(planes, kernel, padding, stride), 0, -1)
        return result
    layered = image[None] if image.ndim == 3 else image[None, ..., None]
    if kernel.ndim == 3:
        result = convolve_channels(layered, kernel, padding, stride)[0]
        return result
    result = convolve(layered, kernel, padding, stride)[0]
    return result[..., 0] if result.shape[-1] == 1 else result


def apply_pool(image: Array, size: IntOrPair, stride: IntOrPair, mode: PoolMode) -> Array:
    """Pool one image, as ``stridedconv pool`` does: each channel alone, no padding.

    Examples
    --------
    >>> apply_pool(np.arange(16).reshape(4, 4), 2, 2, "max")
    array([[ 5,  7],
           [13, 15]])
    """
    layered = image[None] if image.ndim == 3 else image[None, ..., None]
    result: Array = pool(layered, size, stride, mode)[0]
    return result[..., 0] if image.ndim == 2 else result


# --- the batch commands -----------------------------------------------------------------------


@dataclass
class _Job:
    source: Path
    picture: Path
    raw: Path | None


def _report(command: str, message: str) -> None:
    print(f"{PROG} {command}: error: {message}", file=sys.stderr, flush=True)


def _collect(command: str, inputs: Sequence[str]) -> tuple[list[Path], int]:
    """The files `inputs` name (folders: their image files, sorted); and how many failed."""
    files: list[Path] = []
    failed = 0
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                entry
                for entry in path.iterdir()
                if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                _report(command, f"{path}: the folder holds no {'/'.join(IMAGE_SUFFIXES)} files")
                failed += 1
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            _report(command, f"{path}: no such file or folder")
            failed += 1
    unique = list(dict.fromkeys(files))
    return unique, failed


def _plan(command: str, files: list[Path], out: Path, raw: bool) -> tuple[list[_Job], int]:
    """Pair each input with its outputs; refuse outputs that clash with inputs or each other."""
    inputs = {file.resolve() for file in files}
    taken: dict[Path, Path] = {}
    jobs = []
    failed = 0
    for file in files:
        picture = out / f"{file.stem}.png"
        data = out / f"{file.stem}.npy" if raw else None
        targets = [picture] if data is None else [picture, data]
        clash = next((t for t in targets if t.resolve() in inputs), None)
        if clash is not None:
            _report(
                command, f"{file}: its output {clash} is an input; inputs are never overwritten"
            )
            failed += 1
            continue
        other = next((taken[t.resolve()] for t in targets if t.resolve() in taken), None)
        if other is not None:
            _report(
                command, f"{file}: its output {picture} would also be written for {other}; skipped"
            )
            failed += 1
            continue
        taken.update((t.resolve(), file) for t in targets)
        jobs.append(_Job(file, picture, data))
    return jobs, failed


def _write(job: _Job, result: Array, force: bool) -> None:
    from PIL import Image

    mode = "wb" if force else "xb"
    with open(job.picture, mode) as stream:
        Image.fromarray(to_uint8(result)).save(stream, format="PNG")
    if job.raw is not None:
        with open(job.raw, mode) as stream:
            np.save(stream, np.ascontiguousarray(result), allow_pickle=False)


def _batch(
    command: str,
    args: argparse.Namespace,
    operation: Callable[[Array], Array],
) -> int:
    (tqdm_module,) = _require(command, "tqdm")
    _require(command, "PIL")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; expected a folder"
        raise UsageError(msg)
    files, failed = _collect(command, args.inputs)
    jobs, refused = _plan(command, files, out, args.raw)
    failed += refused
    if jobs:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            msg = f"--out {out}: cannot create the folder ({error.strerror or error})"
            raise UsageError(msg) from None
    done = 0
    bar = tqdm_module.tqdm(
        jobs, disable=None if len(jobs) > 1 else True, unit="image", file=sys.stderr
    )
    for job in bar:
        problem = _process(job, operation, args.force)
        if problem is None:
            done += 1
        else:
            bar.clear()
            _report(command, f"{job.source}: {problem}")
            bar.refresh()
            failed += 1
    bar.close()
    summary = f"{command}: wrote {done} of {done + failed} images to {out}/"
    print(summary if not failed else f"{summary}; {failed} failed (see above)")
    return 1 if failed else 0


def _process(job: _Job, operation: Callable[[Array], Array], force: bool) -> str | None:
    """Process one file; return why it failed, or None."""
    if not force:
        existing = [t for t in (job.picture, job.raw) if t is not None and t.exists()]
        if existing:
            names = " and ".join(str(t) for t in existing)
            return f"{names} already exists; use --force to replace it"
    try:
        image = read_image(job.source)
    except OSError as error:
        reason = str(error) or type(error).__name__
        if type(error).__name__ == "UnidentifiedImageError":
            reason = "not an image file Pillow can read"
        return f"cannot read the image: {reason}"
    try:
        result = operation(image)
    except (TypeError, ValueError) as error:
        return f"cannot process the {image.shape} image: {error}"
    try:
        _write(job, result, force)
    except FileExistsError as error:
        return f"{error.filename} already exists; use --force to replace it"
    except OSError as error:
        return f"cannot write {error.filename or job.picture}: {error.strerror or error}"
    return None


def _filter(args: argparse.Namespace) -> int:
    kernel = kernel_from_spec(args.kernel)
    return _batch(
        "filter", args, lambda image: apply_filter(image, kernel, args.padding, args.stride)
    )


def _pool(args: argparse.Namespace) -> int:
    stride = args.size if args.stride is None else args.stride
    return _batch("pool", args, lambda image: apply_pool(image, args.size, stride, args.mode))


def _demo(args: argparse.Namespace) -> int:
    needed = ["matplotlib"] + (["skimage"] if args.mnist is None or args.animals is None else [])
    _require("demo", *needed)
    from . import demo

    try:
        demo.run(args.out, mnist=args.mnist, animals=args.animals)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return 0


# --- the parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line that points to ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_outputs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the results (created if needed)"
    )
    command.add_argument(
        "--raw", action="store_true", help="also write the exact result as NAME.npy"
    )
    command.add_argument(
        "--force", action="store_true", help="replace existing outputs (inputs never are)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``stridedconv``, with the subcommands demo, filter and pool."""
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
    demo.set_defaults(handler=_demo)

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
        "N or NH,NW: rows and columns of zeros on each side",
    )
    _add_outputs(filter_)
    filter_.set_defaults(handler=_filter)

    pool_ = commands.add_parser(
        "pool",
        help="max or average pooling of image files",
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
    pool_.add_argument("--mode", choices=("max", "avg"), default="max", help="default: max")
    _add_outputs(pool_)
    pool_.set_defaults(handler=_pool)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> main(["pool", "no-such-image.png", "--size", "2", "--out", "pooled"])  # doctest: +SKIP
    stridedconv: error: no-such-image.png: no such file or folder
    pool: wrote 0 of 1 images to pooled/; 1 failed (see above)
    1
    """
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ExtraMissing as error:
        print(error, file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
