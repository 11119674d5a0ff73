"""The commands ``filter``, ``pool`` and ``demo``: each input file on its own, one line per
failure, and the others still processed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import conv, correlate, pool
from .._typing import Array, IntOrPair, Padding, PaddingMode, PoolMode
from .._validation import count
from ._args import PROG, UsageError, kernel_from_spec, require
from ._images import IMAGE_SUFFIXES, read_image, write_result


def apply_filter(
    image: Array,
    kernel: Array,
    padding: Padding = "same",
    stride: IntOrPair = 1,
    padding_mode: PaddingMode = "symmetric",
    cval: float = 0,
) -> Array:
    """Filter one image, as ``stridedconv filter`` does.

    Parameters
    ----------
    image : ndarray, shape (h, w) or (h, w, c)
    kernel : ndarray, shape (kh, kw), (kh, kw, c) or (kh, kw, c, nc)
        (kh, kw): every channel filtered alone (`stridedconv.correlate`); (kh, kw, c): the
        channels' correlations summed (a grayscale image has c = 1); (kh, kw, c, nc):
        `stridedconv.conv`, with the channel axis dropped when nc = 1.
    padding, stride
        As in `stridedconv.convolve_grayscale`.
    padding_mode, cval
        As in `stridedconv.correlate`: by default the image mirrored beyond its border
        (no dark frame).

    Returns
    -------
    ndarray, shape (h', w') or (h', w', c) or (h', w', nc)

    Raises
    ------
    ValueError
        For a kernel whose channels are not the image's, naming both shapes.

    Examples
    --------
    >>> import numpy as np
    >>> from stridedconv import kernels
    >>> rgb = np.zeros((5, 6, 3))
    >>> apply_filter(rgb, kernels.box(3), padding="valid").shape
    (3, 4, 3)
    """
    result: Array
    modes: dict[str, Any] = {"padding_mode": padding_mode, "cval": cval}
    if kernel.ndim == 2:
        axis = None if image.ndim == 2 else -1
        result = correlate(image[None], kernel, channel_axis=axis, padding=padding,
                           stride=stride, **modes)[0]  # fmt: skip
        return result
    channels = 1 if image.ndim == 2 else image.shape[-1]
    if kernel.ndim in (3, 4) and kernel.shape[2] != channels:
        # Said of this image, not of the one-image batch that the library gets.
        msg = (
            f"the kernel of shape {kernel.shape} is for images of "
            f"{count(kernel.shape[2], 'channel')} (its axis 2), but this image of shape "
            f"{image.shape} has {count(channels, 'channel')}"
        )
        raise ValueError(msg)
    layered = image[None] if image.ndim == 3 else image[None, ..., None]
    bank = kernel[..., None] if kernel.ndim == 3 else kernel
    result = conv(layered, bank, padding=padding, stride=stride, **modes)[0]
    return result[..., 0] if result.shape[-1] == 1 else result


def apply_pool(image: Array, size: IntOrPair, stride: IntOrPair, mode: PoolMode) -> Array:
    """Pool one image, as ``stridedconv pool`` does: each channel alone, no padding.

    Examples
    --------
    >>> import numpy as np
    >>> apply_pool(np.arange(16).reshape(4, 4), 2, 2, "max")
    array([[ 5,  7],
           [13, 15]])
    """
    layered = image[None] if image.ndim == 3 else image[None, ..., None]
    result: Array = pool(layered, size, stride, mode)[0]
    return result[..., 0] if image.ndim == 2 else result


# --- one line per problem ---------------------------------------------------------------------


def reason(error: BaseException) -> str:
    """Why `error` happened, in one line: its message, after its type unless that is plain
    (a ValueError or TypeError says what was expected and given; a MemoryError's type is news).

    Examples
    --------
    >>> reason(MemoryError("Unable to allocate 8.0 TiB"))
    'MemoryError: Unable to allocate 8.0 TiB'
    >>> reason(ValueError("stride must be positive,\\n got 0"))
    'stride must be positive, got 0'
    """
    text = " ".join(str(error).split())
    if text and isinstance(error, (ValueError, TypeError)):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def report(command: str, message: str) -> None:
    """Print one error line to stderr."""
    print(f"{PROG} {command}: error: {message}", file=sys.stderr, flush=True)


# --- the batch commands -----------------------------------------------------------------------


@dataclass
class _Job:
    source: Path
    picture: Path
    raw: Path | None


def _image_files(path: Path) -> tuple[list[Path], list[Path]]:
    """The image files `path` names: itself, or a folder's image files sorted by name; and
    the folder's other entries, skipped (subfolders, files of other kinds), sorted.

    Raises
    ------
    FileNotFoundError
        When `path` is neither a file nor a folder.
    OSError
        When it cannot be read (PermissionError for a folder that cannot be listed).
    """
    if path.is_dir():
        entries = sorted(path.iterdir())
        images = [e for e in entries if e.suffix.lower() in IMAGE_SUFFIXES and e.is_file()]
        return images, [entry for entry in entries if entry not in images]
    if path.is_file():
        return [path], []
    raise FileNotFoundError


@dataclass
class _Found:
    """What the inputs hold: image files, the folders' other entries, failed inputs."""

    files: list[Path]
    skipped: list[Path]
    failed: int


def _collect(command: str, inputs: Sequence[str]) -> _Found:
    """The files `inputs` name (folders: their image files, sorted), the folders' entries
    skipped, and how many inputs gave none (missing, unreadable, or a folder without image
    files)."""
    files: list[Path] = []
    skipped: list[Path] = []
    failed = 0
    for text in inputs:
        path = Path(text)
        try:
            found, others = _image_files(path)
        except FileNotFoundError:
            report(command, f"{path}: no such file or folder")
            failed += 1
            continue
        except OSError as error:  # an unreadable folder: the other inputs still count
            report(command, f"{path}: cannot read it: {error.strerror or reason(error)}")
            failed += 1
            continue
        if not found:
            report(command, f"{path}: the folder holds no {'/'.join(IMAGE_SUFFIXES)} files")
            failed += 1
        files.extend(found)
        skipped.extend(others)
    return _Found(list(dict.fromkeys(files)), list(dict.fromkeys(skipped)), failed)


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
            report(command, f"{file}: its output {clash} is an input; inputs are never overwritten")
            failed += 1
            continue
        other = next((taken[t.resolve()] for t in targets if t.resolve() in taken), None)
        if other is not None:
            report(
                command, f"{file}: its output {picture} would also be written for {other}; skipped"
            )
            failed += 1
            continue
        taken.update((t.resolve(), file) for t in targets)
        jobs.append(_Job(file, picture, data))
    return jobs, failed


def _batch(
    command: str,
    args: argparse.Namespace,
    operation: Callable[[Array], Array],
) -> int:
    (tqdm_module,) = require(command, "tqdm")
    require(command, "PIL")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; expected a folder"
        raise UsageError(msg)
    found = _collect(command, args.inputs)
    files, unread = found.files, found.failed
    if getattr(args, "verbose", False):
        for entry in found.skipped:
            kind = "a folder" if entry.is_dir() else "not a .png/.jpg/.jpeg file"
            print(f"{command}: skipped {entry} ({kind})", file=sys.stderr)
    jobs, failed = _plan(command, files, out, args.raw)
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
            report(command, f"{job.source}: {problem}")
            bar.refresh()
            failed += 1
    bar.close()
    print(_summary(command, done, len(files), unread, out, len(found.skipped)))
    return 1 if failed or unread else 0


def _summary(command: str, done: int, images: int, unread: int, out: Path, skipped: int = 0) -> str:
    """The closing line: images written of the image files found (nothing written claims no
    folder: it may not exist), then the failures, the inputs that gave no image apart (they
    are no image files), and the folders' entries skipped.

    Examples
    --------
    >>> _summary("pool", 2, 3, 0, Path("out"))
    'pool: wrote 2 of 3 images to out/; 1 failed (see above)'
    >>> _summary("pool", 1, 1, 2, Path("out"))
    'pool: wrote 1 of 1 image to out/; 2 inputs gave no image (see above)'
    >>> _summary("filter", 0, 0, 1, Path("out"))
    'filter: no image written; 1 input gave no image (see above)'
    >>> _summary("filter", 3, 3, 0, Path("out"), skipped=1)
    'filter: wrote 3 of 3 images to out/; skipped 1 folder entry: no image file (-v lists it)'
    """
    noun = f"image{'' if images == 1 else 's'}"
    summary = f"{command}: wrote {done} of {images} {noun} to {out}/"
    if done == 0:
        summary = f"{command}: no image written" + (f" of {images} {noun}" if images else "")
    problems = [f"{images - done} failed"] if done < images else []
    if unread:
        problems.append(f"{unread} input{'' if unread == 1 else 's'} gave no image")
    line = f"{summary}; {', '.join(problems)} (see above)" if problems else summary
    if skipped:
        entries = "entry: no image file" if skipped == 1 else "entries: no image files"
        line += (
            f"; skipped {skipped} folder {entries} (-v lists {'it' if skipped == 1 else 'them'})"
        )
    return line


def _process(job: _Job, operation: Callable[[Array], Array], force: bool) -> str | None:
    """Process one file; return why it failed, or None.

    Any Exception is this file's failure, told in one line, so that the others still run
    (KeyboardInterrupt, not an Exception, stops the run).
    """
    if not force:
        existing = [t for t in (job.picture, job.raw) if t is not None and t.exists()]
        if existing:
            names = " and ".join(str(t) for t in existing)
            verb = "exists" if len(existing) == 1 else "exist"
            return f"{names} already {verb}; use --force to replace it"
    try:
        image = read_image(job.source)
    except OSError as error:
        text = " ".join(str(error).split()) or type(error).__name__
        if type(error).__name__ == "UnidentifiedImageError":
            text = "not an image file Pillow can read"
        return f"cannot read the image: {text}"
    except Exception as error:
        return f"cannot read the image: {reason(error)}"
    try:
        result = operation(image)
    except Exception as error:  # a huge stride or padding: MemoryError, OverflowError, ...
        return f"cannot process the {image.shape} image: {reason(error)}"
    try:
        write_result(result, job.picture, job.raw, force=force)
    except FileExistsError as error:
        return f"{error.filename} already exists; use --force to replace it"
    except OSError as error:
        return f"cannot write {error.filename or job.picture}: {error.strerror or reason(error)}"
    except Exception as error:
        return f"cannot write {job.picture}: {reason(error)}"
    return None


def run_filter(args: argparse.Namespace) -> int:
    """``stridedconv filter``: filter each input with ``--kernel``."""
    kernel = kernel_from_spec(args.kernel)
    mode: PaddingMode = getattr(args, "padding_mode", "symmetric")
    cval = getattr(args, "cval", 0)
    if cval != 0 and mode != "constant":
        msg = f"--cval {cval} needs --padding-mode constant, got --padding-mode {mode}"
        raise UsageError(msg)

    def operation(image: Array) -> Array:
        return apply_filter(image, kernel, args.padding, args.stride, mode, cval)

    return _batch("filter", args, operation)


def run_pool(args: argparse.Namespace) -> int:
    """``stridedconv pool``: pool each input with ``--size`` and ``--stride``."""
    stride = args.size if args.stride is None else args.stride
    return _batch("pool", args, lambda image: apply_pool(image, args.size, stride, args.mode))


def run_demo(args: argparse.Namespace) -> int:
    """``stridedconv demo``: `stridedconv.demo.run` with the arguments."""
    needed = ["matplotlib"] + (["skimage"] if args.mnist is None or args.animals is None else [])
    require("demo", *needed)
    from .. import demo

    try:
        demo.run(args.out, mnist=args.mnist, animals=args.animals)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return 0
