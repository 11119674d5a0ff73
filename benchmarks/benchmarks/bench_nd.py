"""The N-d `conv`: 1-D, 3-D, dilated, depthwise and grouped, float32, beside PyTorch."""

from __future__ import annotations

from .workloads import ND, prepare


class NdConv:
    """One `conv` call per case; PyTorch's peer is conv1d, conv2d or conv3d."""

    params = (list(ND), ["stridedconv", "torch", "naive"])
    param_names = ("case", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, case: str, library: str) -> None:
        x, kernels = ND[case].inputs("float32")
        self.run = prepare(library, ND[case], x, kernels)

    def time_run(self, case: str, library: str) -> None:
        self.run()

    def peakmem_run(self, case: str, library: str) -> None:
        self.run()
