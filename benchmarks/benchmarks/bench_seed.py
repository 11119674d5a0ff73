"""The seven operations on the classic exercise's data set sizes, beside their peers."""

from __future__ import annotations

from typing import Any

from .workloads import LIBRARIES, SEED, SEED_DTYPES, prepare


class SeedWorkloads:
    """MNIST-sized grayscale (50000x28x28) and CIFAR-sized colour (10000x32x32x3) batches."""

    params = (list(SEED), list(SEED_DTYPES), list(LIBRARIES))
    param_names = ("workload", "dtype", "library")
    number = 1
    repeat = (3, 7, 60.0)
    timeout = 600

    def setup(self, workload: str, dtype: str, library: str) -> None:
        spec = SEED[workload]
        if dtype == "uint8" and spec.kind == "gray":
            raise NotImplementedError("uint8 is measured on the colour workloads")
        if library == "naive" and dtype == "float64" and spec.kind != "pool":
            raise NotImplementedError("the naive einsum is measured in float32 and uint8")
        images, kernel = spec.inputs(dtype)
        self.run = prepare(library, spec, images, kernel)

    def time_run(self, workload: str, dtype: str, library: str) -> None:
        self.run()

    def peakmem_run(self, workload: str, dtype: str, library: str) -> Any:
        self.run()
