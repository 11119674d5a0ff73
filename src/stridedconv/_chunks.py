"""Chunks and threads: who computes which images of a batch, never how.

The batch is cut into chunks sized to a memory budget, and the chunks of a large batch run
on a few threads, the calling thread among them (NumPy releases the GIL inside its loops).
How an image is computed is the chooser's (`_chooser`) and the strategies' affair, and
depends on that image's problem alone: the chunks and the threads change no bit of it.
Sums over the batch (the kernel and bias gradients) add fixed parts of `parts_of` images
in order, so they too have the same bits for any batch split and thread count.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from ._blas import single_threaded
from ._chooser import forced_strategy
from ._staging import Staging

#: Working-set bytes per chunk (measured best on this project's 2-core machines). A chunk
#: holds at least one image, so the memory beyond the result is a few chunks, whatever the
#: batch size.
CHUNK_BYTES = 4 * 2**20
#: Sums over the batch (the kernel and bias gradients) add parts of as many images as fit in
#: this many bytes of working set, in batch order: a constant of its own, so that the
#: chunks' memory budget may change without changing a bit of a sum.
PART_BYTES = 4 * 2**20
#: Threads pay for themselves on large problems only: with less work in all, or in smaller
#: chunks, handing chunks to threads (and their contention for the GIL between short NumPy
#: calls) costs more than it saves; measured, ~200 us per chunk of one 28x28 image when
#: every chunk was handed to a thread of its own.
#: Forcing ``threads`` (tests) skips both limits.
PARALLEL_BYTES = 8 * 2**20
THREAD_CHUNK_BYTES = 2**20
#: Or from this many multiply-adds in all, whatever the bytes: a GEMM-heavy problem of a
#: few images (8x14x14x256 -> 256, 3x3: 0.9 G) pays for its threads even in chunks of one
#: image each, where BLAS, held to one thread, would otherwise leave a core idle.
PARALLEL_MULTIPLY_ADDS = 16 * 2**20
#: Chunks per thread when the batch is split for threads: enough that a thread rarely waits
#: for the other at the end, few enough that each chunk's fixed cost (a few dozen NumPy
#: calls) stays small. Measured on 1000 28x28 images, us per image: 1 a thread 2.8, 2 a
#: thread 2.4, 4 a thread 3.1, 8 a thread 3.4.
CHUNKS_PER_THREAD = 2


def _default_threads() -> int:
    """STRIDEDCONV_NUM_THREADS if set, else the cores this process may run on."""
    setting = os.environ.get("STRIDEDCONV_NUM_THREADS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) if cores else (os.cpu_count() or 1)


#: Threads for the chunks (BLAS held to one thread each meanwhile, see `_blas`).
THREADS = _default_threads()

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _executor(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of `threads` threads, made on first use."""
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="stridedconv")
        return _pools[threads]


def _forget_pools_after_fork() -> None:
    """In a forked child: the pools' threads did not survive the fork (only the forking
    thread does), and a lock may have been held by one of them. Start afresh."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


def parts_of(bytes_per_image: int) -> int:
    """Images per chunk of a problem whose images take `bytes_per_image` each: the size of
    the parts in which sums over the batch are added (the kernel and bias gradients), a
    function of one image's problem only."""
    return max(1, PART_BYTES // max(bytes_per_image, 1))


def for_each_chunk(
    m: int,
    bytes_per_image: int,
    staging: Staging,
    work: Callable[[slice, Staging], None],
    *,
    parallel: bool,
    calls_blas: bool = False,
    part: int | None = None,
    multiply_adds: int = 0,
) -> None:
    """Call ``work(chunk, staging)`` for every chunk of `m` images; each thread has its own
    `Staging` (buffers are reused from chunk to chunk, never shared between threads). Work
    that `calls_blas` runs with BLAS on one thread (`_blas`), on one engine thread or more.
    Given a `part`, the chunks are parts of exactly that many images (sums over the batch
    add them in order: their bits must not depend on the batch size or the threads);
    otherwise they are cut smaller to keep every thread busy. `multiply_adds`, per image,
    lets a compute-heavy problem of a few images run on threads too."""
    forced_threads = forced_strategy("threads")
    threads = int(forced_threads or THREADS) if parallel else 1
    per_image = max(bytes_per_image, 1)
    step = part or max(1, CHUNK_BYTES // per_image)
    heavy = m * multiply_adds >= PARALLEL_MULTIPLY_ADDS
    if threads > 1 and forced_threads is None and m * per_image < PARALLEL_BYTES and not heavy:
        threads = 1
    if threads > 1 and part is None:
        smallest = 1 if forced_threads or heavy else -(-THREAD_CHUNK_BYTES // per_image)
        step = min(step, max(smallest, -(-m // (CHUNKS_PER_THREAD * threads))))
    chunks = [slice(start, min(start + step, m)) for start in range(0, m, step)]
    threads = min(threads, len(chunks))
    if threads <= 1:
        with single_threaded() if calls_blas else nullcontext():
            for chunk in chunks:
                work(chunk, staging)
        return
    # The calling thread works too, and every thread takes the next chunk when it is done
    # with one: a helper is woken once per call, not once per chunk.
    pending = iter(chunks)
    lock = threading.Lock()
    failed = threading.Event()

    def drain(own: Staging) -> None:
        # errstate is per thread: IEEE results, no warnings (see `correlate`); so is BLAS's
        # thread count where OpenBLAS can set it per thread (`_blas`).
        with np.errstate(all="ignore"), single_threaded() if calls_blas else nullcontext():
            while not failed.is_set():
                with lock:
                    chunk = next(pending, None)
                if chunk is None:
                    return
                try:
                    work(chunk, own)
                except BaseException:
                    failed.set()  # the others stop after their current chunk
                    raise

    with single_threaded() if calls_blas else nullcontext():
        helpers = [
            _executor(threads - 1).submit(drain, Staging(staging.geometry))
            for _ in range(threads - 1)
        ]
        try:
            drain(staging)
        finally:
            # A helper still queued (behind another call's work) has nothing left to do:
            # cancel it rather than wait for it. Wait for the running ones before the
            # buffers go (and before BLAS gets its threads back).
            running = [helper for helper in helpers if not helper.cancel()]
            for helper in running:
                helper.exception()
    for helper in running:
        helper.result()  # re-raise a helper's error
