"""The Dask front door: a dask array in, a lazy dask array out, one task per batch chunk.

`check_conv` and `check_pool` check a dask batch like any other, from its shape and dtype
alone (its values are never read at call time); `run_conv` and `run_pool` then hand the
checked problem here, and every batch chunk is computed by the same `run_conv` /
`run_pool` on NumPy blocks. The declared dtype and chunks are those of the computed blocks:
exact integer results are declared int64 and every block computes in int64 (a block whose
values could overflow it raises, naming `dtype`).

Chunks along the spatial and channel axes are merged (`rechunk`) so that each block holds
whole samples: one task per batch chunk, whatever the windows. Inside a task the engine runs
on `STRIDEDCONV_DASK_THREADS` threads (default 1) with BLAS on one thread, so that a dask
worker's threads are not oversubscribed.

Dask is imported only when a dask array is given.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ._blas import single_threaded
from ._typing import Array


def is_dask(value: object) -> bool:
    """Whether `value` is a dask array (without importing dask)."""
    return type(value).__module__.startswith("dask.array")


def _task_threads() -> int:
    setting = os.environ.get("STRIDEDCONV_DASK_THREADS", "")
    return int(setting) if setting.isdigit() and int(setting) > 0 else 1


def run_lazily(
    problem: Any,
    run: Callable[..., Array],
    result_shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    fixed: bool,
) -> Any:
    """`run(problem with x = block, dtype=...)` on every batch chunk of the problem's dask
    batch ``problem.x`` (channels last), as a dask array of `result_shape` and `dtype`
    (in the caller's layout); `fixed` passes `dtype` to every block."""
    from ._engine import forced  # the engine's threads per task

    x = problem.x.rechunk({axis: -1 for axis in range(1, problem.x.ndim)})
    threads = _task_threads()
    # The task function carries the problem without its batch: dask names the result by
    # hashing the function, which would otherwise hash the whole input graph.
    template = dataclasses.replace(problem, x=np.empty((0,) * x.ndim, x.dtype))

    def block(samples: Array) -> Array:
        with forced(threads=threads), single_threaded():
            part = dataclasses.replace(template, x=samples)
            return run(part, dtype=dtype if fixed else None)

    chunks = (x.chunks[0], *((n,) for n in result_shape[1:]))
    return x.map_blocks(
        block,
        dtype=dtype,
        chunks=chunks,
        drop_axis=list(range(len(result_shape), x.ndim)),
        new_axis=list(range(x.ndim, len(result_shape))),
        meta=np.empty((0,) * len(result_shape), dtype),
    )
