"""The first-run demo: the seven operations of the classic exercise, on real images, with figures.

`run` cuts scikit-image's bundled sample photographs into a grayscale stack of 28x28 tiles
(MNIST's size) and an RGB stack of 32x32 tiles (the animals set's size), or loads the user's
own ``.npz`` files the way the exercise's scripts do, runs the seven scenarios, prints each
one's input and output shapes as the exercise does (``print(images.shape)`` then
``print(result.shape)``), and writes one PNG figure per scenario, input next to output, plus an
overview. ``python -m stridedconv demo`` calls it.

Only `run`, `sample_grayscale`, `sample_rgb` and the figures need the ``demo`` extra
(``pip install 'stridedconv[demo]'``); importing this module needs NumPy alone.

Examples
--------
>>> from stridedconv.demo import SCENARIOS
>>> [scenario.function for scenario in SCENARIOS]  # doctest: +NORMALIZE_WHITESPACE
['convolve_grayscale_valid', 'convolve_grayscale_same', 'convolve_grayscale_padding',
 'convolve_grayscale', 'convolve_channels', 'convolve', 'pool']
"""

from __future__ import annotations

import math
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from . import _classic as conv
from ._pooling import pool
from ._typing import Array
from ._windows import windows

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "KERNEL",
    "KERNEL_BANK",
    "KERNEL_CHANNELS",
    "SCENARIOS",
    "Scenario",
    "Tiles",
    "load_npz",
    "run",
    "sample_grayscale",
    "sample_rgb",
]

#: The exercise's grayscale kernel: ``[1, 0, -1]`` in every row (``-prewitt('x')``).
KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
#: The exercise's kernel for `convolve_channels`, shape (3, 3, 3): a sharpening kernel per
#: channel, summed over the channels.
KERNEL_CHANNELS = np.array(
    [
        [[0, 0, 0], [-1, -1, -1], [0, 0, 0]],
        [[-1, -1, -1], [5, 5, 5], [-1, -1, -1]],
        [[0, 0, 0], [-1, -1, -1], [0, 0, 0]],
    ]
)
#: The exercise's bank of three kernels for `convolve`, shape (3, 3, 3, 3).
KERNEL_BANK = np.array(
    [
        [
            [[0, 1, 1], [0, 1, 1], [0, 1, 1]],
            [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
            [[0, -1, 1], [0, -1, 1], [0, -1, 1]],
        ],
        [
            [[-1, 1, 0], [-1, 1, 0], [-1, 1, 0]],
            [[5, 0, 0], [5, 0, 0], [5, 0, 0]],
            [[-1, -1, 0], [-1, -1, 0], [-1, -1, 0]],
        ],
        [
            [[0, 1, -1], [0, 1, -1], [0, 1, -1]],
            [[-1, 0, -1], [-1, 0, -1], [-1, 0, -1]],
            [[0, -1, -1], [0, -1, -1], [0, -1, -1]],
        ],
    ]
)

#: scikit-image's bundled photographs the demo cuts into tiles, the shown one first.
GRAYSCALE_PHOTOS = ("camera", "moon", "coins", "page", "text", "brick", "grass", "gravel")
RGB_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
)
#: Rows and columns of tiles the figures show of the first photograph (its most telling part).
GRAYSCALE_BLOCK = (slice(1, 9), slice(6, 14))
RGB_BLOCK = (slice(0, 8), slice(4, 12))
#: Tiles the figures show of the user's own data: the first ones, in a square.
USER_GRID = 8


@dataclass(frozen=True)
class Tiles:
    """A stack of images and which of them the figures show.

    Attributes
    ----------
    images : ndarray, shape (m, h, w) or (m, h, w, c)
    grid : ndarray of int, shape (rows, cols)
        Indices into `images` laid out as the figures show them; -1 leaves a cell blank.
    source : str
        Where the images come from, for the figures' captions.
    """

    images: Array
    grid: Array
    source: str


@dataclass(frozen=True)
class Scenario:
    """One of the seven operations, as the exercise calls it.

    Attributes
    ----------
    number : int
        0 to 6, the exercise's order.
    function : str
        The name of the stridedconv function.
    call : str
        The call, as the exercise writes it.
    rgb : bool
        Whether it runs on the RGB tiles (else the grayscale ones).
    run : callable
        ``run(images) -> result``.
    """

    number: int
    function: str
    call: str
    rgb: bool
    run: Callable[[Array], Array]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        0,
        "convolve_grayscale_valid",
        "convolve_grayscale_valid(images, kernel)",
        False,
        lambda images: conv.convolve_grayscale_valid(images, KERNEL),
    ),
    Scenario(
        1,
        "convolve_grayscale_same",
        "convolve_grayscale_same(images, kernel)",
        False,
        lambda images: conv.convolve_grayscale_same(images, KERNEL),
    ),
    Scenario(
        2,
        "convolve_grayscale_padding",
        "convolve_grayscale_padding(images, kernel, (2, 4))",
        False,
        lambda images: conv.convolve_grayscale_padding(images, KERNEL, (2, 4)),
    ),
    Scenario(
        3,
        "convolve_grayscale",
        "convolve_grayscale(images, kernel, padding='valid', stride=(2, 2))",
        False,
        lambda images: conv.convolve_grayscale(images, KERNEL, padding="valid", stride=(2, 2)),
    ),
    Scenario(
        4,
        "convolve_channels",
        "convolve_channels(images, kernel, padding='valid')",
        True,
        lambda images: conv.convolve_channels(images, KERNEL_CHANNELS, padding="valid"),
    ),
    Scenario(
        5,
        "convolve",
        "convolve(images, kernels, padding='valid')",
        True,
        lambda images: conv.convolve(images, KERNEL_BANK, padding="valid"),
    ),
    Scenario(
        6,
        "pool",
        "pool(images, (2, 2), (2, 2), mode='avg')",
        True,
        lambda images: pool(images, (2, 2), (2, 2), mode="avg"),
    ),
)


def cut_tiles(photo: Array, size: int) -> Array:
    """Cut a photograph into non-overlapping `size` by `size` tiles, in reading order.

    Parameters
    ----------
    photo : ndarray, shape (h, w) or (h, w, c)
    size : int

    Returns
    -------
    ndarray, shape (rows * cols, size, size) or (rows * cols, size, size, c)
        ``rows = h // size`` and ``cols = w // size``; the right and bottom remainders are
        dropped.

    Examples
    --------
    >>> import numpy as np
    >>> tiles = cut_tiles(np.arange(7 * 9).reshape(7, 9), 3)
    >>> tiles.shape
    (6, 3, 3)
    >>> tiles[1]
    array([[ 3,  4,  5],
           [12, 13, 14],
           [21, 22, 23]])
    """
    view = windows(photo[None], (size, size), stride=(size, size))[0]
    rows, cols = view.shape[:2]
    tiles: Array = view.reshape(rows * cols, *view.shape[2:])
    return tiles


def _photo(name: str) -> Array:
    from skimage import data

    loader: Callable[[], Array] = getattr(data, name)
    return np.asarray(loader())


def _sample(names: Sequence[str], size: int, block: tuple[slice, slice], source: str) -> Tiles:
    photos = [_photo(name) for name in names]
    tiles = [cut_tiles(photo, size) for photo in photos]
    first = photos[0]
    indices = np.arange(len(tiles[0])).reshape(first.shape[0] // size, first.shape[1] // size)
    return Tiles(np.concatenate(tiles), indices[block], f"{source} ({names[0]} shown)")


def sample_grayscale() -> Tiles:
    """Grayscale 28x28 tiles cut from scikit-image's bundled grayscale photographs.

    Returns
    -------
    Tiles
        uint8 images of shape (1924, 28, 28), from `GRAYSCALE_PHOTOS`; the figures show a
        block of the cameraman.
    """
    return _sample(GRAYSCALE_PHOTOS, 28, GRAYSCALE_BLOCK, "scikit-image sample photographs")


def sample_rgb() -> Tiles:
    """RGB 32x32 tiles cut from scikit-image's bundled colour photographs.

    Returns
    -------
    Tiles
        uint8 images of shape (1951, 32, 32, 3), from `RGB_PHOTOS`; the figures show a block
        of the astronaut.
    """
    return _sample(RGB_PHOTOS, 32, RGB_BLOCK, "scikit-image sample photographs")


def load_npz(path: str | Path, key: str, layout: str) -> Tiles:
    """Load the array `key` of the ``.npz`` file `path`, as the exercise's scripts do.

    Parameters
    ----------
    path : str or Path
    key : str
        ``'X_train'`` for MNIST, ``'data'`` for the animals.
    layout : str
        The expected shape, ``'(m, h, w)'`` or ``'(m, h, w, c)'``.

    Returns
    -------
    Tiles
        The figures show the first 64 images.

    Raises
    ------
    ValueError
        When the file cannot be read as an ``.npz`` file, has no array `key`, or the array has
        the wrong number of axes or holds no numbers.

    Examples
    --------
    >>> import io, numpy as np
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, X_train=np.zeros((3, 28, 28)))
    >>> _ = buffer.seek(0)
    >>> load_npz(buffer, "X_train", "(m, h, w)").images.shape
    (3, 28, 28)
    """
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        msg = f"cannot read {path}: no such file"
        raise ValueError(msg) from None
    except ValueError:  # NumPy's words for "not a NumPy file": it might hold pickles
        msg = f"cannot read {path} as an .npz archive: it is not a NumPy file"
        raise ValueError(msg) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        msg = f"cannot read {path} as an .npz archive: {error}"
        raise ValueError(msg) from None
    if not hasattr(loaded, "files"):
        msg = f"{path} is a .npy file, not an .npz archive with an array {key!r}"
        raise ValueError(msg)
    with loaded as archive:
        if key not in archive.files:
            have = ", ".join(repr(name) for name in archive.files) or "none"
            msg = f"{path} has no array {key!r} (its arrays: {have})"
            raise ValueError(msg)
        try:
            images = np.asarray(archive[key])
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
            msg = f"cannot read the array {key!r} of {path}: {error}"
            raise ValueError(msg) from None
    ndim = layout.count(",") + 1
    if images.ndim != ndim or images.dtype.kind not in "buif":
        msg = (
            f"{path}: array {key!r} must be {ndim}-D numbers of shape {layout}, "
            f"got {images.dtype} of shape {images.shape}"
        )
        raise ValueError(msg)
    count = min(len(images), USER_GRID * USER_GRID)
    grid = np.full(USER_GRID * USER_GRID, -1)
    grid[:count] = np.arange(count)
    rows = max(1, math.ceil(count / USER_GRID))
    return Tiles(images, grid[: rows * USER_GRID].reshape(rows, USER_GRID), str(path))


def _display(images: Array) -> Array:
    """Map images to RGB floats in [0, 1] for display, shape (m, h, w, 3).

    Non-negative stacks are divided by their maximum; stacks with negative values are centred
    at 0 (mid grey), each channel scaled by its 99th percentile of absolute values.
    """
    values = np.asarray(images, dtype=np.float64)
    if values.ndim == 3:
        values = values[..., None]
    finite = np.where(np.isfinite(values), values, 0.0)
    if finite.size == 0:
        shown = finite
    elif finite.min() >= 0:
        top = finite.max()
        shown = finite / top if top > 0 else finite
    else:
        axes = tuple(range(finite.ndim - 1))
        scale = np.percentile(np.abs(finite), 99, axis=axes)
        scale = np.where(scale > 0, scale, 1.0)
        shown = 0.5 + 0.5 * finite / scale
    shown = np.clip(shown, 0.0, 1.0)
    if shown.shape[-1] != 3:
        shown = np.repeat(shown[..., :1], 3, axis=-1)
    return shown


def mosaic(images: Array, grid: Array, gap: int = 1) -> Array:
    """Lay out the images `grid` picks on a white canvas, `gap` pixels apart.

    Parameters
    ----------
    images : ndarray, shape (m, h, w) or (m, h, w, c)
    grid : ndarray of int, shape (rows, cols)
        Indices into `images`; -1 leaves a cell blank.
    gap : int, default 1

    Returns
    -------
    ndarray of float64, shape (rows * (h + gap) - gap, cols * (w + gap) - gap, 3)
        Values in [0, 1], as `_display` maps them.

    Examples
    --------
    >>> import numpy as np
    >>> mosaic(np.ones((4, 2, 2)), np.array([[0, 1], [2, -1]])).shape
    (5, 5, 3)
    """
    rows, cols = grid.shape
    chosen = images[np.maximum(grid.ravel(), 0)] if len(images) else images
    shown = _display(chosen) if len(images) else np.zeros((0, 1, 1, 3))
    h, w = shown.shape[1:3]
    canvas = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap, 3))
    for k, index in enumerate(grid.ravel()):
        if index >= 0:
            i, j = divmod(k, cols)
            canvas[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = shown[k]
    return canvas


def _show(axes: Axes, picture: Array, title: str, interpolation: str = "nearest") -> None:
    axes.imshow(picture, interpolation=interpolation)
    axes.set_title(title, fontsize=9)
    axes.set_axis_off()


def _figure(scenario: Scenario, tiles: Tiles, result: Array, path: Path) -> tuple[Array, Array]:
    import matplotlib.pyplot as plt

    before = mosaic(tiles.images, tiles.grid)
    after = mosaic(result, tiles.grid)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 5.2), layout="constrained")
    _show(left, before, f"input: {tiles.images.shape} {tiles.images.dtype}")
    _show(right, after, f"output: {result.shape} {result.dtype}")
    figure.suptitle(f"{scenario.number}  {scenario.call}\n{tiles.source}", fontsize=10)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return before, after


def _overview(pictures: list[tuple[Scenario, Array, Array, str, str]], path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(
        2, len(pictures), figsize=(2.0 * len(pictures), 4.4), layout="constrained"
    )
    for column, (scenario, before, after, shape_in, shape_out) in enumerate(pictures):
        title = f"{scenario.number} {scenario.function}\n{shape_in}"
        # Shrunk by about 2, nearest-neighbour sampling would drop some of the gaps.
        _show(grid[0, column], before, title, "antialiased")
        _show(grid[1, column], after, shape_out, "antialiased")
    figure.suptitle("stridedconv: the seven operations, input above output", fontsize=11)
    figure.savefig(path, dpi=56)
    plt.close(figure)


def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def _short(shape: tuple[int, ...]) -> str:
    return "(m, " + ", ".join(str(n) for n in shape[1:]) + ")"


def run(
    out: str | Path = "stridedconv-demo",
    *,
    mnist: str | Path | None = None,
    animals: str | Path | None = None,
    stream: TextIO | None = None,
) -> list[Path]:
    """Run the seven scenarios, print their shapes and write their figures into `out`.

    Parameters
    ----------
    out : str or Path, default 'stridedconv-demo'
        The folder for the figures, created if needed. Figures of the same names from an
        earlier run are replaced; nothing else in it is touched.
    mnist : str or Path, optional
        An ``.npz`` file with an array ``X_train`` of shape (m, h, w), used instead of the
        grayscale tiles.
    animals : str or Path, optional
        An ``.npz`` file with an array ``data`` of shape (m, h, w, c), used instead of the
        RGB tiles.
    stream : text file, optional
        Where to print; standard output by default.

    Returns
    -------
    list of Path
        The figures written: ``0-convolve_grayscale_valid.png`` to ``6-pool.png``, then
        ``overview.png``.

    Raises
    ------
    ImportError
        When matplotlib, or scikit-image for the built-in tiles, is not installed.
    ValueError
        When `mnist` or `animals` cannot be read (see `load_npz`) or an operation rejects them.
    """
    stream = sys.stdout if stream is None else stream
    _use_agg()
    start = time.perf_counter()
    gray = sample_grayscale() if mnist is None else load_npz(mnist, "X_train", "(m, h, w)")
    rgb = sample_rgb() if animals is None else load_npz(animals, "data", "(m, h, w, c)")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pictures: list[tuple[Scenario, Array, Array, str, str]] = []
    for scenario in SCENARIOS:
        tiles = rgb if scenario.rgb else gray
        result = scenario.run(tiles.images)
        print(f"{scenario.number}: {scenario.call}", file=stream)
        print(tiles.images.shape, file=stream)
        print(result.shape, file=stream)
        path = folder / f"{scenario.number}-{scenario.function}.png"
        before, after = _figure(scenario, tiles, result, path)
        written.append(path)
        shapes = (_short(tiles.images.shape), "-> " + _short(result.shape))
        pictures.append((scenario, before, after, *shapes))
    overview = folder / "overview.png"
    _overview(pictures, overview)
    written.append(overview)
    seconds = time.perf_counter() - start
    print(f"wrote {len(written)} figures to {folder}/ in {seconds:.1f} s", file=stream)
    return written
