"""BLAS threads: one per engine thread, whenever the engine calls BLAS.

The engine runs the chunks of a large problem on a few threads, and each of them holds
BLAS to one thread meanwhile: two levels of threads on the same cores compete (measured on
2 cores: 32x56x56x64 -> 64 3x3, 52 -> 38 ms; 339x32x32x3 -> 16, 13 -> 6.8 ms), a BLAS
thread spinning beside a descheduled one stalls a call whenever another process holds a
core, and OpenBLAS's last bits change with its thread count (a GEMM split between threads
tiles its matrix differently), which must not depend on the batch size or on who calls.

OpenBLAS (0.3.27 and later) sets a thread count per calling thread
(``openblas_set_num_threads_local``): every engine thread sets its own and restores it,
and nothing else in the process changes. Where that is missing, the process-wide count is
set through threadpoolctl while any call is inside `single_threaded` (threadpoolctl lets
one Python thread, the first that sets it, control it); without threadpoolctl, BLAS
strategies run their chunks one after another and leave the threads to BLAS.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_inside = 0
_saved: list[tuple[Any, int]] = []
_libraries: list[Any] | None = None
_local_setters: list[Callable[[int], int]] | None = None


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's), found once."""
    global _libraries
    if _libraries is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _libraries = []
        else:
            _libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


def _per_thread_setters() -> list[Callable[[int], int]]:
    """``openblas_set_num_threads_local`` of every BLAS library loaded, or [] unless each
    one has it."""
    global _local_setters
    if _local_setters is None:
        setters: list[Callable[[int], int]] = []
        for library in _blas_libraries():
            dynlib = getattr(library, "dynlib", None)
            prefix = getattr(library, "_symbol_prefix", "")
            suffix = getattr(library, "_symbol_suffix", "")
            names = (
                "openblas_set_num_threads_local",
                f"{prefix}openblas_set_num_threads_local{suffix}",
            )
            found = next((getattr(dynlib, n) for n in names if hasattr(dynlib, n)), None)
            if found is None:
                setters = []
                break
            found.argtypes, found.restype = [ctypes.c_int], ctypes.c_int
            setters.append(found)
        _local_setters = setters
    return _local_setters


def available() -> bool:
    """Whether BLAS's threads can be set (threadpoolctl is installed and finds NumPy's BLAS)."""
    return bool(_blas_libraries())


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS on one thread for the calling thread inside the block (per thread where OpenBLAS
    can; else process-wide: concurrent blocks share the setting, and the last one to leave
    restores the thread counts it found)."""
    setters = _per_thread_setters()
    if setters:
        previous = [set_local(1) for set_local in setters]
        try:
            yield
        finally:
            for set_local, count in zip(setters, previous, strict=True):
                set_local(count)
        return
    global _inside
    with _lock:
        if _inside == 0:
            _saved[:] = [(library, library.num_threads) for library in _blas_libraries()]
            for library, _ in _saved:
                library.set_num_threads(1)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                for library, threads in _saved:
                    library.set_num_threads(threads)


def _reset_after_fork() -> None:
    """In a forked child no other thread is inside, and the lock may have been held."""
    global _lock, _inside
    _lock = threading.Lock()
    _inside = 0


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)
