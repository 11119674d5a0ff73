"""Image files for the command line: reading them, 8 bits for display, and safe writes."""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._typing import Array

#: The files a folder given as input contributes (by suffix, case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


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

    A result whose finite values all lie in 0..255 (pooling or blurring 8-bit images) is
    rounded as it is; any other is stretched linearly from its finite minimum (0) to its finite
    maximum (255). NaNs become 0, infinities 0 or 255.

    Examples
    --------
    >>> to_uint8(np.array([0.4, 254.6]))
    array([  0, 255], dtype=uint8)
    >>> to_uint8(np.array([-5, 5]))
    array([  0, 255], dtype=uint8)
    >>> to_uint8(np.array([-np.inf, -1e308, 1e308, np.nan]))
    array([  0,   0, 255,   0], dtype=uint8)
    """
    values = np.asarray(result, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if not (low >= 0 and high <= 255) and high > low:
        # In halves, so that a range near float64's limits (-1e308..1e308) does not overflow.
        values = (values / 2 - low / 2) * (255.0 / (high / 2 - low / 2))
    return np.rint(np.clip(np.nan_to_num(values, nan=0.0), 0, 255)).astype(np.uint8)


def write_result(result: Array, picture: Path, raw: Path | None, *, force: bool) -> None:
    """Write `result` to `picture` as an 8-bit PNG and, if `raw` is given, exactly as ``.npy``.

    Each file is written to a hidden temporary file in its folder and renamed into place only
    when all are complete, so a failure (an error while encoding, a full disk, Ctrl-C) leaves
    nothing half-written behind. An object array (an exact integer result beyond int64) is
    saved with ``allow_pickle=True``, the only way ``.npy`` holds Python ints.

    Raises
    ------
    FileExistsError
        Without `force`, when a target exists; it is left as it was.
    OSError
        When a file cannot be written; its ``filename`` is the target, not the temporary.
    """
    from PIL import Image

    def png(stream: BinaryIO) -> None:
        Image.fromarray(to_uint8(result)).save(stream, format="PNG")

    def npy(stream: BinaryIO) -> None:
        np.save(stream, np.ascontiguousarray(result), allow_pickle=result.dtype.hasobject)

    writers: list[tuple[Path, Callable[[BinaryIO], None]]] = [(picture, png)]
    if raw is not None:
        writers.append((raw, npy))
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in writers:
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
            with _naming(target), open(temporary, "xb") as stream:
                staged.append((temporary, target))
                write(stream)
        for temporary, target in staged:
            with _naming(target):
                _publish(temporary, target, force=force)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _naming(target: Path) -> Iterator[None]:
    """Make an OSError raised inside name the target instead of the temporary file."""
    try:
        yield
    except OSError as error:
        error.filename = str(target)
        raise


def _publish(temporary: Path, target: Path, *, force: bool) -> None:
    """Move the complete `temporary` file to `target`; without `force`, never over a file."""
    if force:
        os.replace(temporary, target)
        return
    try:
        # A hard link fails when the target exists, in one step: no other writer can slip in
        # between a check and the rename.
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links (FAT, some shares): check, then rename
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.replace(temporary, target)
