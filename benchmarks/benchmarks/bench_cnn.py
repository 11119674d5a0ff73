"""3x3 'same' convolutions of typical CNN layers, float32, beside PyTorch."""

from __future__ import annotations

from .workloads import CNN, prepare


class CnnLayers:
    """Batch x height x width x channels -> output channels."""

    params = (list(CNN), ["stridedconv", "torch", "naive"])
    param_names = ("layer", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, layer: str, library: str) -> None:
        images, kernel = CNN[layer].inputs("float32")
        self.run = prepare(library, CNN[layer], images, kernel)

    def time_run(self, layer: str, library: str) -> None:
        self.run()

    def peakmem_run(self, layer: str, library: str) -> None:
        self.run()
