"""Image filtering: 'same' with separable and random kernels, grayscale and RGB batches,
zero and 'symmetric' (SciPy's 'reflect') padding, beside OpenCV, scipy.ndimage.correlate and
SciPy's FFT convolution."""

from __future__ import annotations

from typing import Any

from .workloads import (
    FILTER_LIBRARIES,
    FILTER_MODES,
    FILTER_SHAPES,
    filter_workload,
    prepare_filter,
)


class Filtering:
    """64 images of 256x256 and 16 of 1024x1024 (grayscale), 16 RGB of 256x256, float32,
    kernels of 3 to 31 taps a side."""

    params = (
        list(FILTER_SHAPES),
        [3, 5, 7, 15, 31],
        [True, False],
        list(FILTER_MODES),
        list(FILTER_LIBRARIES),
    )
    param_names = ("images", "kernel", "separable", "mode", "library")
    number = 1
    repeat = (3, 5, 60.0)
    timeout = 600

    def setup(self, images: str, kernel: int, separable: bool, mode: str, library: str) -> None:
        if not separable and kernel > 15:
            raise NotImplementedError("random kernels are measured up to 15x15")
        if library == "scipy" and kernel > 15 and images == "16x1024x1024":
            raise NotImplementedError("scipy.ndimage: a minute a call, past the timeout")
        workload = filter_workload(images, kernel, separable)
        batch, values = workload.inputs("float32")
        self.run = prepare_filter(library, batch, values, mode)

    def time_run(self, images: str, kernel: int, separable: bool, mode: str, library: str) -> None:
        self.run()

    def peakmem_run(
        self, images: str, kernel: int, separable: bool, mode: str, library: str
    ) -> Any:
        self.run()
