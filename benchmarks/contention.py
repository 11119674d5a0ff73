"""Contention: every row of `compare.py`, quiet and beside one CPU-bound process.

Issue #18 asks that no row take more than 2.5x its quiet time when another process keeps
one of the two cores busy, ``STRIDEDCONV_NUM_THREADS=1`` included: a BLAS or engine thread
that spins while the thread it waits for is descheduled makes a 2x slowdown a 5x one. Each
row is timed, for the default threads and for ``STRIDEDCONV_NUM_THREADS=1``, quiet and then
loaded: a busy loop (``while True: pass``, pinned to one core or left to the scheduler) that
this script starts before the measurement and kills after it. Each measurement is the
median over a few fresh processes, each the best of a few calls (`compare.py`'s worker).
With ``--torch``, PyTorch is timed alike, on its own threads (``compare.py`` sets them):
``STRIDEDCONV_NUM_THREADS`` does not reach it.

Run from the repository root on an otherwise quiet machine::

    python benchmarks/contention.py                      # every row of compare.py
    python benchmarks/contention.py --only cnn grad      # rows as compare.py selects them
    python benchmarks/contention.py --unpinned --torch   # busy loop unpinned; PyTorch too
    python benchmarks/contention.py --quick              # a smoke run of a few seconds

The busy process is killed whatever happens (an error, Ctrl-C, SIGTERM), and stops by
itself after ``--busy-seconds`` in any case.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).parent))

import compare

#: The busy loop, bounded in time: it ends by itself if this script dies unable to kill it.
BUSY = """
import os, sys, time
core, seconds = int(sys.argv[1]), float(sys.argv[2])
if core >= 0:
    os.sched_setaffinity(0, {core})
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    pass
"""
#: The thread settings measured: the library's default, and one engine thread.
THREADS = ("default", "1")
#: Seconds the busy process runs before a measurement starts (to be on its core).
SETTLE = 0.2


@contextmanager
def busy(core: int | None, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    """A CPU-bound process, pinned to `core` (None: unpinned), for the duration of the
    block: killed on leaving it, and ending by itself after `seconds` anyway."""
    pinned = -1 if core is None else core
    process = subprocess.Popen([sys.executable, "-c", BUSY, str(pinned), str(seconds)])
    try:
        time.sleep(SETTLE)
        if process.poll() is not None:
            msg = f"the busy process ended at once (exit code {process.returncode})"
            raise RuntimeError(msg)
        yield process
    finally:
        process.kill()
        process.wait()


@contextmanager
def threads_setting(threads: str) -> Iterator[None]:
    """``STRIDEDCONV_NUM_THREADS`` for the worker processes started inside the block
    ('default': unset)."""
    saved = os.environ.pop("STRIDEDCONV_NUM_THREADS", None)
    if threads != "default":
        os.environ["STRIDEDCONV_NUM_THREADS"] = threads
    try:
        yield
    finally:
        os.environ.pop("STRIDEDCONV_NUM_THREADS", None)
        if saved is not None:
            os.environ["STRIDEDCONV_NUM_THREADS"] = saved


def seconds(library: str, name: str, dtype: str, calls: int, runs: int) -> float:
    """The median over `runs` fresh processes of the best of `calls` calls."""
    return statistics.median(
        compare._run(library, name, dtype, calls)["seconds"] for _ in range(runs)
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through `busy`, which kills its process


def _ms(value: float) -> str:
    """Seconds as milliseconds, three significant digits."""
    return f"{value * 1e3:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", nargs="*", help="rows as compare.py --only selects them (default: all)"
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per measurement")
    parser.add_argument("--calls", type=int, default=3, help="calls per process; the best counts")
    parser.add_argument("--core", type=int, default=0, help="the core the busy loop is pinned to")
    parser.add_argument("--unpinned", action="store_true", help="leave the busy loop unpinned")
    parser.add_argument("--torch", action="store_true", help="time PyTorch too")
    parser.add_argument(
        "--busy-seconds", type=float, default=900.0, help="the busy loop ends by itself after this"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: one small row, one process, one call"
    )
    args = parser.parse_args()
    only = args.only
    if args.quick:
        only = only or ["latency"]
        args.runs, args.calls, args.busy_seconds = 1, 1, min(args.busy_seconds, 60.0)
    rows = compare.cases(only)
    if not rows:
        parser.error(f"--only {' '.join(only or [])} selects no row of compare.py")
    core = None if args.unpinned else args.core
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    libraries = ("stridedconv", "torch") if args.torch else ("stridedconv",)

    where = "unpinned" if core is None else f"pinned to core {core}"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{platform.processor() or platform.machine()}, {cores} cores, Python "
        f"{platform.python_version()}; one busy process {where}; median of {args.runs} "
        f"processes, each the best of {args.calls} calls"
    )
    print()
    header = "| workload | dtype | threads | quiet ms | loaded ms | ratio |"
    rule = "| --- | --- | --- | ---: | ---: | ---: |"
    if args.torch:
        header += " PyTorch quiet ms | PyTorch loaded ms | PyTorch ratio |"
        rule += " ---: | ---: | ---: |"
    print(header)
    print(rule)
    worst = (0.0, "")
    for name, _, dtype, calls in rows:
        for threads in THREADS:
            cells = []
            with threads_setting(threads):
                for library in libraries:
                    quiet = seconds(library, name, dtype, calls * args.calls, args.runs)
                    with busy(core, args.busy_seconds):
                        loaded = seconds(library, name, dtype, calls * args.calls, args.runs)
                    ratio = loaded / quiet
                    cells += [_ms(quiet), _ms(loaded), f"{ratio:.2f}"]
                    if library == "stridedconv" and ratio > worst[0]:
                        worst = (ratio, f"{name} {dtype}, threads {threads}")
            print(f"| {name} | {dtype} | {threads} | {' | '.join(cells)} |", flush=True)
    print()
    print(f"Worst stridedconv ratio: {worst[0]:.2f} ({worst[1]})")


if __name__ == "__main__":
    main()
