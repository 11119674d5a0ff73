"""`pool` with PyTorch's options: padding, ceil_mode, 3-D, dilation, float32, beside PyTorch."""

from __future__ import annotations

from .workloads import POOLS, prepare


class PoolOptions:
    """One `pool` call per case; PyTorch's peer is max_pool2d, avg_pool2d or max_pool3d."""

    params = (list(POOLS), ["stridedconv", "torch", "naive"])
    param_names = ("case", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, case: str, library: str) -> None:
        x, kernel = POOLS[case].inputs("float32")
        self.run = prepare(library, POOLS[case], x, kernel)

    def time_run(self, case: str, library: str) -> None:
        self.run()

    def peakmem_run(self, case: str, library: str) -> None:
        self.run()
