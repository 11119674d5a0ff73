"""One table: each workload, stridedconv's time, PyTorch's time, their ratio, peak memory.

The ratio is the median over alternating paired runs (stridedconv, then PyTorch, then
stridedconv ...), so that a noisy neighbour on a shared machine slows both sides of a pair
alike. Each run is a fresh process that times the best of a few calls: in one process the
two libraries' idle worker threads (OpenBLAS's, PyTorch's OpenMP pool) spin and slow each
other down. Peak memory is what `tracemalloc` saw stridedconv allocate beyond its result.

Run from the repository root, in an environment with ``pip install '.[bench]'``::

    python benchmarks/compare.py            # every workload, 7 pairs each
    python benchmarks/compare.py --pairs 3 --only gray_valid bank
    python benchmarks/compare.py --only nd           # the N-d conv cases (conv1d, grouped ...)
    python benchmarks/compare.py --only pool         # pool with padding, ceil_mode, 3-D ...
    python benchmarks/compare.py --only grad         # gradients and a LeNet-5 training step
    python benchmarks/compare.py --only "grad kernel" "grad lenet5"

A word of ``--only`` that names a row, whole or without its group (``nd dilated`` or
``dilated``), selects that row alone: ``max_2x2`` is the seed workload, not also
``pool max_2x2x2_3d``. Any other word selects every row whose name contains it (``gray``,
``nd``, ``pool``), but the gradient rows (``grad input cnn 32x56x56x64-64``, ``grad lenet5
step 256`` ...) only to a word with a part ``grad``, which selects every gradient row whose
name contains each of its parts (``grad``, ``"grad kernel"``, ``"grad cnn"``): ``pool`` and
``cnn`` keep selecting the forward rows alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from benchmarks.workloads import (
    CNN,
    GRADS,
    LATENCY,
    LENET_STEP,
    ND,
    POOLS,
    SCALING,
    SEED,
    AnyWorkload,
    output_bytes,
    prepare,
)


def _seconds(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _peak_beyond_output(run: Any) -> float:
    """MiB allocated at the peak of one call, less the result it returns."""
    gc.collect()
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - output_bytes(result)) / 2**20


def _worker(library: str, row: str, calls: int) -> None:
    """Print the best time of `calls` calls (and the peak memory of one) as JSON."""
    name, dtype = row.rsplit(":", 1)
    workload = dict((n, w) for n, w, _, _ in cases(None))[name]
    arrays = workload.inputs(dtype)
    run = prepare(library, workload, *arrays)
    # Peak of the first call: later calls reuse the scratch arrays each thread keeps.
    peak = _peak_beyond_output(run) if library == "stridedconv" else 0.0
    run()  # warm up: imports, thread pools, page faults
    best = min(_seconds(run) for _ in range(calls))
    print(json.dumps({"seconds": best, "peak": peak}))


def _run(library: str, name: str, dtype: str, calls: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", library, f"{name}:{dtype}", str(calls)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def measure(
    name: str,
    workload: AnyWorkload,
    dtype: str,
    pairs: int,
    calls: int,
) -> dict[str, Any]:
    """Time `workload` in `dtype` with stridedconv and PyTorch, alternating processes."""
    ours, theirs = [], []
    for _ in range(pairs):
        ours.append(_run("stridedconv", name, dtype, calls))
        theirs.append(_run("torch", name, dtype, calls))
    return {
        "ours": statistics.median(r["seconds"] for r in ours),
        "torch": statistics.median(r["seconds"] for r in theirs),
        "ratio": statistics.median(
            a["seconds"] / b["seconds"] for a, b in zip(ours, theirs, strict=True)
        ),
        "peak": max(r["peak"] for r in ours),
        "images": workload.shape[0],
    }


Row = tuple[str, AnyWorkload, str, int]


def _picks(word: str, name: str, names: set[str]) -> bool:
    """Whether `word` selects the row `name`: by name when it names a row (see above)."""
    if word in names:
        return word in (name, name.split(" ", 1)[-1])
    if name.startswith("grad "):
        parts = word.split()
        return "grad" in parts and all(part in name for part in parts)
    return word in name


def cases(only: list[str] | None) -> list[Row]:
    """(name, workload, dtype, calls per timing) for every row of the table."""
    rows: list[Row] = []
    for name, workload in SEED.items():
        dtypes = (
            ("float32", "float64") if workload.kind == "gray" else ("float32", "float64", "uint8")
        )
        rows += [(name, workload, dtype, 1) for dtype in dtypes]
    rows += [(f"cnn {name}", workload, "float32", 1) for name, workload in CNN.items()]
    rows += [(f"nd {name}", workload, "float32", 1) for name, workload in ND.items()]
    rows += [(f"pool {name}", workload, "float32", 1) for name, workload in POOLS.items()]
    rows += [("latency 1x28x28", LATENCY, "float32", 300)]
    rows += [(f"scaling m={m}", workload, "float32", 1) for m, workload in SCALING.items()]
    rows += [(f"grad {name}", workload, "float32", 1) for name, workload in GRADS.items()]
    rows += [(f"grad lenet5 step {LENET_STEP.shape[0]}", LENET_STEP, "float32", 1)]
    if only:
        names = {row[0] for row in rows} | {row[0].split(" ", 1)[-1] for row in rows}
        rows = [row for row in rows if any(_picks(word, row[0], names) for word in only)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=7, help="alternating pairs per row")
    parser.add_argument(
        "--only", nargs="*", help="rows named by one of these, else whose name contains one"
    )
    parser.add_argument("--calls", type=int, default=3, help="calls per run; the best counts")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, row, calls = args.worker
        _worker(library, row, int(calls))
        return
    import numpy as np
    import torch

    print(
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} PyTorch "
        f"threads, NumPy {np.__version__}, PyTorch {torch.__version__}, "
        f"Python {platform.python_version()}; median of {args.pairs} paired runs, "
        f"each the best of {args.calls} calls"
    )
    print()
    print("| workload | dtype | stridedconv | PyTorch | ratio | peak beyond output |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, workload, dtype, calls in cases(args.only):
        row = measure(name, workload, dtype, args.pairs, calls * args.calls)
        unit, scale = ("us", 1e6) if row["ours"] < 1e-3 else ("ms", 1e3)
        per_image = ""
        if name.startswith("scaling"):
            per_image = f" ({row['ours'] / row['images'] * 1e6:.2f} us/image)"
        print(
            f"| {name} | {dtype} | {row['ours'] * scale:.1f} {unit}{per_image} "
            f"| {row['torch'] * scale:.1f} {unit} | {row['ratio']:.2f} "
            f"| {row['peak']:.1f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
