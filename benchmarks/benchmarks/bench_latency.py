"""Per-call cost on one image, and time per image as the batch grows."""

from __future__ import annotations

from .workloads import LATENCY, SCALING, prepare


class SingleImage:
    """One 28x28 image, 3x3 'same': Python overhead, validation and geometry dominate."""

    params = (["stridedconv", "torch", "scipy", "naive"],)
    param_names = ("library",)

    def setup(self, library: str) -> None:
        images, kernel = LATENCY.inputs("float32")
        self.run = prepare(library, LATENCY, images, kernel)

    def time_run(self, library: str) -> None:
        self.run()


class Scaling:
    """Grayscale valid 3x3, float32, m images: time per image should stay flat."""

    params = (list(SCALING), ["stridedconv", "torch"])
    param_names = ("m", "library")
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, m: int, library: str) -> None:
        images, kernel = SCALING[m].inputs("float32")
        self.run = prepare(library, SCALING[m], images, kernel)

    def time_run(self, m: int, library: str) -> None:
        self.run()
