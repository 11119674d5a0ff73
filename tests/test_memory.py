"""Memory: beyond the result, a few chunks whatever the stride, dilation or padding; scratch
kept between calls is capped, can be released and turned off."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import stridedconv as sc
from stridedconv._engine import CHUNK_BYTES, forced
from stridedconv._staging import KEEP_BYTES, kept_bytes

IMAGES = np.ones((64, 28, 28, 3))
GRAY = IMAGES[..., 0].copy()
KERNELS = np.ones((3, 3, 3, 4))
HUGE = 10**6
#: One 2048x2048 float32 image (16 MiB, four chunks) and a random 15x15 kernel.
LARGE = np.ones((1, 2048, 2048), np.float32)
RANDOM_15 = np.random.default_rng(0).standard_normal((15, 15)).astype(np.float32)

# Calls whose padded input would be gigabytes (or overflow NumPy's sizes) if staged whole,
# for results of a few KiB.
CALLS: dict[str, Callable[[], Any]] = {
    "stride 10**4": lambda: sc.convolve_grayscale(GRAY, np.ones((3, 3)), "valid", 10**4),
    "stride (1, 10**7)": lambda: sc.convolve_grayscale(GRAY, np.ones((3, 3)), "valid", (1, 10**7)),
    "stride 2**62": lambda: sc.convolve(IMAGES, KERNELS, "same", 2**62),
    "stride 2**70 channels": lambda: sc.convolve_channels(IMAGES, KERNELS[..., 0], "valid", 2**70),
    "dilation and padding": lambda: sc.conv(IMAGES, KERNELS, dilation=HUGE, padding=HUGE),
    "padding and stride": lambda: sc.conv(IMAGES, KERNELS, padding=HUGE, stride=HUGE),
    "padding 10**30 circular": lambda: sc.conv(
        IMAGES, KERNELS, padding=10**30, stride=10**30, padding_mode="circular"
    ),
    "replicate, one axis dilated": lambda: sc.conv(
        IMAGES,
        KERNELS,
        dilation=(HUGE, 1),
        padding=((HUGE, HUGE), (1, 1)),
        padding_mode="replicate",
    ),
    "exact integers": lambda: sc.conv(
        IMAGES.astype(np.int64), KERNELS.astype(np.int64), padding=HUGE, stride=HUGE
    ),
    "pool stride": lambda: sc.pool(IMAGES, 2, 10**5, padding=1),
    "pool avg": lambda: sc.pool(IMAGES, 3, 2**62, "avg", padding=1, count_include_pad=False),
    "pool dilation": lambda: sc.pool(IMAGES, 3, 1, dilation=HUGE, padding="same"),
    "pool ceil_mode": lambda: sc.pool(IMAGES, 2, HUGE, "sum", ceil_mode=True),
    "windows": lambda: sc.windows(GRAY, (3, 3), 2**62),
    # Padding far wider than the image: blocks of output rows.
    "padding 2000, stride 8": lambda: sc.conv(IMAGES[:1], KERNELS, padding=2000, stride=8),
    "padding 1000": lambda: sc.conv(IMAGES[:1, ..., :1], KERNELS[:, :, :1, :1], padding=1000),
    # Gradients
    "conv_vjp padding and stride": lambda: (
        sc.conv_vjp(np.ones((64, 3, 3, 4)), IMAGES, KERNELS, padding=HUGE, stride=HUGE).x
    ),
    "conv_transpose padding and stride": lambda: sc.conv_transpose(
        np.ones((64, 3, 3, 4)), KERNELS, padding=1998, stride=2000
    ),
    "pool_vjp stride 2**62": lambda: sc.pool_vjp(np.ones((64, 1, 1, 3)), IMAGES, 2, 2**62),
    "pool_vjp padding": lambda: sc.pool_vjp(
        np.ones((64, 1, 1, 3)), IMAGES, 2, 10**5, "avg", padding=1
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_peak_beyond_the_result_is_a_few_chunks(name: str) -> None:
    sc.release_memory()  # kept scratch of earlier tests is not this call's
    tracemalloc.start()
    try:
        result = CALLS[name]()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    owned = 0 if result.base is not None else result.nbytes  # windows() is a view
    assert peak - owned < 3 * CHUNK_BYTES, f"{name}: {(peak - owned) / 2**20:.1f} MiB"


LARGE_CALLS: dict[str, Callable[[], Any]] = {
    "3x3": lambda: sc.convolve_grayscale_same(LARGE, np.ones((3, 3), np.float32)),
    "15x15, FFT": lambda: sc.convolve_grayscale_same(LARGE, RANDOM_15),
    "3 -> 8 channels": lambda: sc.convolve(
        np.broadcast_to(LARGE[..., None], (1, 2048, 2048, 3)), np.ones((3, 3, 3, 8), np.float32)
    ),
    "avg pool": lambda: sc.pool(LARGE[..., None], 3, 2, "avg", padding=1),
}


@pytest.mark.parametrize("name", list(LARGE_CALLS))
def test_an_image_larger_than_a_chunk_is_computed_in_blocks_of_rows(name: str) -> None:
    """One 2048x2048 image (16 MiB, four chunks; 48 MiB with three channels): beyond the
    result, a chunk or so per thread, not the image's size again (after a first call,
    which also makes the thread pool, the FFT's plans and the kernels' factors)."""
    call = LARGE_CALLS[name]
    call()
    sc.release_memory()
    tracemalloc.start()
    try:
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - result.nbytes < 4 * CHUNK_BYTES, f"{name}: {(peak - result.nbytes) / 2**20:.1f}"


def test_kept_scratch_is_capped_and_released() -> None:
    big = np.ones((3000, 28, 28, 3), np.float32)
    sc.convolve(big, np.ones((3, 3, 3, 8), np.float32))
    sc.pool(big, 3, 2, "avg")
    sc.convolve_grayscale_same(big[..., 0], np.ones((5, 5)))
    # Two threads at most here (the caller and one helper), each within its cap.
    assert 0 < kept_bytes() <= 2 * KEEP_BYTES
    assert sc.release_memory() > 0
    assert kept_bytes() == 0


def test_threads_that_have_ended_keep_nothing() -> None:
    images = np.ones((400, 28, 28, 3), np.float32)
    kernels = np.ones((3, 3, 3, 2), np.float32)
    while_alive: list[int] = []

    def work() -> None:
        with forced(threads=1):  # this thread's scratch only, none in the engine's helpers
            sc.convolve(images, kernels)
        while_alive.append(kept_bytes())

    sc.release_memory()
    # Each short-lived thread keeps about 4 MiB: they used to pile up without bound.
    for _ in range(40):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert len(while_alive) == 40
    assert min(while_alive) > 0
    assert kept_bytes() == 0
    assert sc.release_memory() == 0


def test_keeping_can_be_turned_off() -> None:
    script = textwrap.dedent(
        """
        import numpy as np, stridedconv as sc
        from stridedconv._staging import kept_bytes
        sc.convolve(np.ones((500, 28, 28, 3)), np.ones((3, 3, 3, 8)))
        print(kept_bytes())
        """
    )
    env = {**os.environ, "STRIDEDCONV_KEEP_MIB": "0"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "0"
