"""BLAS threads: one per engine thread while the engine's own threads run BLAS strategies.

The engine runs the chunks of a large problem on a few threads. For the strategies that
call BLAS that only pays when BLAS itself then runs on one thread: two levels of threads on
the same cores compete, and OpenBLAS's small GEMMs scale poorly across threads anyway
(measured on 2 cores: 32x56x56x64 -> 64 3x3, 52 -> 38 ms; 339x32x32x3 -> 16, 13 -> 6.8 ms).
Setting BLAS's thread count needs threadpoolctl; without it, BLAS strategies run their
chunks one after another and leave the threads to BLAS, as before.

The thread count is process-wide: while any call is inside `single_threaded`, every BLAS
call of the process runs on one thread; the last call to leave restores the counts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_inside = 0
_saved: list[tuple[Any, int]] = []
_libraries: list[Any] | None = None


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


def available() -> bool:
    """Whether BLAS's threads can be set (threadpoolctl is installed and finds NumPy's BLAS)."""
    return bool(_blas_libraries())


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS on one thread inside the block; concurrent blocks share the setting, and the
    last one to leave restores the thread counts it found."""
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
