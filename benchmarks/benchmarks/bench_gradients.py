"""Gradients (issue 9), float32, beside PyTorch's backward: a convolution's input and kernel
gradients, the transposed convolution, pooling's backward, and one LeNet-5 training step."""

from __future__ import annotations

from .workloads import GRADS, LENET_STEP, prepare

CONV = [name for name, grad in GRADS.items() if not grad.kind.startswith("pool")]
POOL = [name for name, grad in GRADS.items() if grad.kind.startswith("pool")]


class ConvGradients:
    """`conv_vjp` for x or the kernels, or `conv_transpose`, of a seed workload or a CNN
    layer; PyTorch's peer is aten.convolution_backward (what autograd calls) or
    conv_transpose2d, the naive one an einsum over the windows (kernel gradient only)."""

    params = (CONV, ["stridedconv", "torch", "naive"])
    param_names = ("case", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, case: str, library: str) -> None:
        x, kernels, dy = GRADS[case].inputs("float32")
        self.run = prepare(library, GRADS[case], x, kernels, dy)

    def time_run(self, case: str, library: str) -> None:
        self.run()

    def peakmem_run(self, case: str, library: str) -> None:
        self.run()


class PoolGradients:
    """`pool_vjp`, ties 'first'; PyTorch's peer is max_pool2d_with_indices_backward, on the
    indices of a forward pass made in setup, or avg_pool2d_backward."""

    params = (POOL, ["stridedconv", "torch"])
    param_names = ("case", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, case: str, library: str) -> None:
        x, empty, dy = GRADS[case].inputs("float32")
        self.run = prepare(library, GRADS[case], x, empty, dy)

    def time_run(self, case: str, library: str) -> None:
        self.run()

    def peakmem_run(self, case: str, library: str) -> None:
        self.run()


class Lenet5Step:
    """Forward and backward of every layer of LeNet-5 on 256 images 28x28, no optimizer
    step; PyTorch's peer is the same network, channels last, and ``loss.backward()``."""

    params = (["stridedconv", "torch"],)
    param_names = ("library",)
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, library: str) -> None:
        images, labels = LENET_STEP.inputs("float32")
        self.run = prepare(library, LENET_STEP, images, labels)

    def time_run(self, library: str) -> None:
        self.run()

    def peakmem_run(self, library: str) -> None:
        self.run()
