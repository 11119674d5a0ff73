"""Image filtering beside OpenCV and SciPy: one table of times and ratios.

Grayscale and RGB float32 batches, 'same', zero or 'symmetric' padding (SciPy's 'reflect',
OpenCV's BORDER_REFLECT), a Gaussian (separable) or a random (not separable) k x k kernel:
`stridedconv.correlate`, each channel alike. Each library runs in fresh processes, in turn
(stridedconv, OpenCV, ``scipy.ndimage.correlate``, SciPy's ``fftconvolve`` (zero padding
only), then again), each timing the best of a few calls; a cell is the median of its runs.
OpenCV filters image by image (``cv2.filter2D``, 2 threads); SciPy runs on one thread.

Run from the repository root, in an environment with ``pip install '.[bench]'``::

    python benchmarks/filtering.py
    python benchmarks/filtering.py --images 64x256x256 16x256x256x3 --k 3 15 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from benchmarks.workloads import (
    FILTER_LIBRARIES,
    FILTER_MODES,
    FILTER_SHAPES,
    filter_workload,
    prepare_filter,
)

#: The table's peers, by column: OpenCV, scipy.ndimage, SciPy's fftconvolve.
PEERS = {"opencv": "OpenCV", "scipy": "ndimage", "fft": "FFT"}


def _worker(library: str, images: str, k: int, separable: bool, mode: str, calls: int) -> None:
    batch, kernel = filter_workload(images, k, separable).inputs("float32")
    try:
        run = prepare_filter(library, batch, kernel, mode)
    except NotImplementedError:
        print(json.dumps(None))
        return
    run()  # warm up
    best = min(_seconds(run) for _ in range(calls))
    print(json.dumps(best))


def _seconds(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def _time(
    library: str, images: str, k: int, separable: bool, mode: str, calls: int
) -> float | None:
    command = [sys.executable, __file__, "--worker", library, images, str(k), str(separable)]
    command.append(mode)
    done = subprocess.run([*command, str(calls)], capture_output=True, text=True, check=True)
    value: float | None = json.loads(done.stdout.strip().splitlines()[-1])
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", nargs="*", default=list(FILTER_SHAPES))
    parser.add_argument("--k", type=int, nargs="*", default=[3, 5, 7, 15, 31])
    parser.add_argument("--modes", nargs="*", default=list(FILTER_MODES), choices=FILTER_MODES)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each library per cell")
    parser.add_argument("--calls", type=int, default=3, help="calls per run; the best counts")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, images, k, separable, mode, calls = args.worker
        _worker(library, images, int(k), separable == "True", mode, int(calls))
        return
    names = " | ".join(PEERS.values())
    print(f"| images | padding | kernel | stridedconv | {names} | " + " | ".join(
        f"vs {name}" for name in PEERS.values()) + " |")  # fmt: skip
    print("| --- | --- | --- | ---: |" + " ---: |" * (2 * len(PEERS)))
    for images in args.images:
        for mode in args.modes:
            for separable in (True, False):
                for k in args.k:
                    if not separable and k > 15:
                        continue  # the targets: random kernels up to 15x15
                    _row(images, mode, separable, k, args.rounds, args.calls)


def _row(images: str, mode: str, separable: bool, k: int, rounds: int, calls: int) -> None:
    """One line of the table: each library's median time, then our ratio to each peer."""
    runs: dict[str, list[float]] = {library: [] for library in FILTER_LIBRARIES}
    for _ in range(rounds):
        for library in FILTER_LIBRARIES:
            seconds = _time(library, images, k, separable, mode, calls)
            if seconds is not None:
                runs[library].append(seconds)
    ms = {lib: statistics.median(t) * 1e3 if t else None for lib, t in runs.items()}
    ours = ms["stridedconv"]
    cells = [f"{value:.1f} ms" if value else "-" for value in ms.values()]
    ratios = [f"{ours / ms[peer]:.2f}" if ours and ms[peer] else "-" for peer in PEERS]
    kind = "Gaussian" if separable else "random"
    row = [images, mode, f"{kind} {k}x{k}", *cells, *ratios]
    print(f"| {' | '.join(row)} |", flush=True)


if __name__ == "__main__":
    main()
