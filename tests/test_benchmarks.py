"""The benchmark suite computes what it claims: every peer agrees with stridedconv.

Run on small batches; PyTorch and SciPy rows are skipped when they are not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from benchmarks.workloads import CNN, LIBRARIES, SEED, prepare


def _available(library: str) -> bool:
    module = {"torch": "torch", "scipy": "scipy"}.get(library)
    return module is None or importlib.util.find_spec(module) is not None


CASES = [(name, spec.with_batch(3)) for name, spec in SEED.items()]
CASES += [(name, spec.with_batch(1)) for name, spec in CNN.items()]


@pytest.mark.parametrize("library", [lib for lib in LIBRARIES if lib != "stridedconv"])
@pytest.mark.parametrize(("name", "workload"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize("dtype", ["float64", "uint8"])
def test_peers_agree(library: str, name: str, workload: object, dtype: str) -> None:
    if not _available(library):
        pytest.skip(f"{library} is not installed")
    if library == "scipy" and name in CNN:
        pytest.skip("SciPy is no peer for CNN layers: one ndimage call per output channel")
    if dtype == "uint8" and (workload.kind == "gray" or name in CNN):  # type: ignore[attr-defined]
        pytest.skip("uint8 is benchmarked on the colour workloads only")
    images, kernel = workload.inputs(dtype)  # type: ignore[attr-defined]
    expected = prepare("stridedconv", workload, images, kernel)()  # type: ignore[arg-type]
    result = prepare(library, workload, images, kernel)()  # type: ignore[arg-type]
    result = np.asarray(result)
    if library == "torch":  # NCHW tensors -> NHWC, the grayscale channel dropped
        result = np.moveaxis(result, 1, -1)
        if expected.ndim == 3:
            result = result[..., 0]
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
