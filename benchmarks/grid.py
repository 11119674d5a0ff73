"""Where stridedconv stands beside PyTorch across convolution shapes: a heat map of ratios.

Each cell is ``conv(x, kernels, padding='same')`` on 32x32 float32 images, channels last,
with `c` input channels, `nc` output channels and a `k` x `k` kernel, the batch sized to
about 0.3 GFLOP; its value is stridedconv's time over PyTorch's (``conv2d`` on a zero-copy
``permute`` of the same arrays, 2 threads), the median over alternating fresh processes,
each timing the best of a few calls. Below 1 stridedconv is faster.

Run from the repository root, in an environment with ``pip install '.[bench,demo]'``::

    python benchmarks/grid.py                      # the full grid, docs/_static/grid.png
    python benchmarks/grid.py --c 1 3 --nc 6 --k 5 --out /tmp/grid.png
    python benchmarks/grid.py --strategy im2col    # one strategy forced in every cell

It prints one line per cell and the median and worst ratio, and draws the heat map.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHANNELS = (1, 3, 16, 64, 256)
OUTPUTS = (1, 3, 6, 16, 64, 256)
KERNELS = (1, 3, 5, 7, 11)
FLOP = 0.3e9
SIZE = 32


def batch(c: int, nc: int, k: int) -> int:
    """Images per call for about `FLOP` multiply-adds times two."""
    return max(1, round(FLOP / (2 * SIZE * SIZE * k * k * c * nc)))


def _best(run: object, calls: int) -> float:
    run()  # type: ignore[operator]  # warm up: imports, threads, page faults
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def _worker(library: str, c: int, nc: int, k: int, calls: int, strategy: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((batch(c, nc, k), SIZE, SIZE, c), dtype=np.float32)
    kernels = rng.standard_normal((k, k, c, nc)).astype(np.float32)
    if library == "torch":
        import torch

        torch.set_num_threads(2)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2)  # NHWC memory, as the arrays are
        wt = torch.from_numpy(np.ascontiguousarray(kernels.transpose(3, 2, 0, 1)))

        def run() -> object:
            with torch.no_grad():
                return torch.nn.functional.conv2d(xt, wt, padding="same")
    else:
        import stridedconv as sc
        from stridedconv._engine import forced

        def run() -> object:
            if strategy == "default":
                return sc.conv(x, kernels, padding="same")
            with forced(conv=strategy):
                return sc.conv(x, kernels, padding="same")

    print(json.dumps(_best(run, calls)))


def _time(library: str, c: int, nc: int, k: int, calls: int, strategy: str) -> float:
    command = [sys.executable, __file__, "--worker", library, str(c), str(nc), str(k)]
    command += [str(calls), strategy]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def measure(
    c: int, nc: int, k: int, pairs: int, calls: int, strategy: str
) -> tuple[float, float, float]:
    """(stridedconv seconds, PyTorch seconds, median ratio) of one cell."""
    ours, theirs, ratios = [], [], []
    for _ in range(pairs):
        ours.append(_time("stridedconv", c, nc, k, calls, strategy))
        theirs.append(_time("torch", c, nc, k, calls, strategy))
        ratios.append(ours[-1] / theirs[-1])
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def draw(ratios: dict[tuple[int, int, int], float], out: Path) -> None:
    """One panel per kernel size: input channels down, output channels across."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    ks = sorted({k for _, _, k in ratios})
    cs = sorted({c for c, _, _ in ratios})
    ncs = sorted({nc for _, nc, _ in ratios})
    fig, axes = plt.subplots(1, len(ks), figsize=(2.2 + 2.0 * len(ks), 3.2), squeeze=False)
    norm = LogNorm(vmin=0.25, vmax=4.0)
    image = None
    for axis, k in zip(axes[0], ks, strict=True):
        grid = np.full((len(cs), len(ncs)), np.nan)
        for (c, nc, kk), ratio in ratios.items():
            if kk == k:
                grid[cs.index(c), ncs.index(nc)] = ratio
        image = axis.imshow(grid, cmap="RdYlGn_r", norm=norm)
        for (i, j), ratio in np.ndenumerate(grid):
            if not np.isnan(ratio):
                axis.text(j, i, f"{ratio:.1f}", ha="center", va="center", fontsize=7)
        axis.set_xticks(range(len(ncs)), [str(n) for n in ncs], fontsize=7)
        axis.set_yticks(range(len(cs)), [str(n) for n in cs], fontsize=7)
        axis.set_xlabel("output channels", fontsize=8)
        axis.set_title(f"{k}x{k}", fontsize=9)
    axes[0][0].set_ylabel("input channels", fontsize=8)
    values = list(ratios.values())
    fig.suptitle(
        f"stridedconv time / PyTorch time, float32 32x32 'same' (median {np.median(values):.2f}, "
        f"worst {max(values):.2f})",
        fontsize=9,
    )
    bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    ticks = [0.25, 0.5, 1.0, 2.0, 4.0]
    bar.set_ticks(ticks, labels=[f"{tick:g}x" for tick in ticks])
    bar.minorticks_off()
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--c", type=int, nargs="*", default=CHANNELS)
    parser.add_argument("--nc", type=int, nargs="*", default=OUTPUTS)
    parser.add_argument("--k", type=int, nargs="*", default=(3, 5))
    parser.add_argument("--pairs", type=int, default=1, help="alternating pairs per cell")
    parser.add_argument("--calls", type=int, default=3, help="calls per run; the best counts")
    parser.add_argument("--strategy", default="default", help="force a conv strategy")
    parser.add_argument("--out", type=Path, default=Path("docs/_static/grid.png"))
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, c, nc, k, calls, strategy = args.worker
        _worker(library, int(c), int(nc), int(k), int(calls), strategy)
        return
    ratios = {}
    for k in args.k:
        for c in args.c:
            for nc in args.nc:
                ours, theirs, ratio = measure(c, nc, k, args.pairs, args.calls, args.strategy)
                ratios[c, nc, k] = ratio
                print(
                    f"c={c:3d} nc={nc:3d} k={k:2d} m={batch(c, nc, k):5d}  "
                    f"stridedconv {ours * 1e3:8.2f} ms  PyTorch {theirs * 1e3:8.2f} ms  "
                    f"ratio {ratio:5.2f}",
                    flush=True,
                )
    values = list(ratios.values())
    worst = max(ratios, key=ratios.__getitem__)
    print(f"median {np.median(values):.2f}, worst {max(values):.2f} at c, nc, k = {worst}")
    draw(ratios, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
