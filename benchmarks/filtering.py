"""Image filtering beside OpenCV and SciPy: one table of times and ratios.

Grayscale float32 batches, 'same' zero padding, a Gaussian (separable) or a random (not
separable) k x k kernel. Each library runs in fresh processes, in turn (stridedconv, OpenCV,
SciPy's ``fftconvolve``, then again), each timing the best of a few calls; a cell is the
median of its runs. OpenCV filters image by image (``cv2.filter2D``, 2 threads).

Run from the repository root, in an environment with ``pip install '.[bench]'``::

    python benchmarks/filtering.py
    python benchmarks/filtering.py --images 64x256x256 --k 3 31 --rounds 3
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
    FILTER_SHAPES,
    filter_workload,
    prepare_filter,
)


def _worker(library: str, images: str, k: int, separable: bool, calls: int) -> None:
    batch, kernel = filter_workload(images, k, separable).inputs("float32")
    try:
        run = prepare_filter(library, batch, kernel)
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


def _time(library: str, images: str, k: int, separable: bool, calls: int) -> float | None:
    command = [sys.executable, __file__, "--worker", library, images, str(k), str(separable)]
    done = subprocess.run([*command, str(calls)], capture_output=True, text=True, check=True)
    value: float | None = json.loads(done.stdout.strip().splitlines()[-1])
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", nargs="*", default=list(FILTER_SHAPES))
    parser.add_argument("--k", type=int, nargs="*", default=[3, 5, 7, 15, 31])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each library per cell")
    parser.add_argument("--calls", type=int, default=3, help="calls per run; the best counts")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, images, k, separable, calls = args.worker
        _worker(library, images, int(k), separable == "True", int(calls))
        return
    print("| images | kernel | stridedconv | OpenCV | fftconvolve | vs OpenCV | vs FFT |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for images in args.images:
        for separable in (True, False):
            for k in args.k:
                if not separable and k > 15:
                    continue  # the targets: random kernels up to 15x15
                runs: dict[str, list[float]] = {library: [] for library in FILTER_LIBRARIES}
                for _ in range(args.rounds):
                    for library in FILTER_LIBRARIES:
                        seconds = _time(library, images, k, separable, args.calls)
                        if seconds is not None:
                            runs[library].append(seconds)
                ms = {lib: statistics.median(t) * 1e3 if t else None for lib, t in runs.items()}
                ours = ms["stridedconv"]
                cells = [f"{value:.1f} ms" if value else "-" for value in ms.values()]
                ratios = [
                    f"{ours / ms[peer]:.2f}" if ms[peer] else "-" for peer in ("opencv", "fft")
                ]
                kind = "Gaussian" if separable else "random"
                print(f"| {images} | {kind} {k}x{k} | {' | '.join(cells)} | {' | '.join(ratios)} |",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
