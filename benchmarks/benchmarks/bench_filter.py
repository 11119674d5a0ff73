"""Image filtering: grayscale 'same' with separable and random kernels, beside OpenCV and
SciPy's FFT convolution."""

from __future__ import annotations

from typing import Any

from .workloads import FILTER_LIBRARIES, FILTER_SHAPES, filter_workload, prepare_filter


class Filtering:
    """64 images of 256x256 and 16 of 1024x1024, float32, kernels of 3 to 31 taps a side."""

    params = (list(FILTER_SHAPES), [3, 5, 7, 15, 31], [True, False], list(FILTER_LIBRARIES))
    param_names = ("images", "kernel", "separable", "library")
    number = 1
    repeat = (3, 5, 60.0)
    timeout = 600

    def setup(self, images: str, kernel: int, separable: bool, library: str) -> None:
        if not separable and kernel > 15:
            raise NotImplementedError("random kernels are measured up to 15x15")
        workload = filter_workload(images, kernel, separable)
        batch, values = workload.inputs("float32")
        self.run = prepare_filter(library, batch, values)

    def time_run(self, images: str, kernel: int, separable: bool, library: str) -> None:
        self.run()

    def peakmem_run(self, images: str, kernel: int, separable: bool, library: str) -> Any:
        self.run()
