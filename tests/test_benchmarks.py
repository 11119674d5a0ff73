"""The benchmark suite computes what it claims: every peer agrees with stridedconv.

Run on small batches; PyTorch and SciPy rows are skipped when they are not installed. The
gradient rows compare PyTorch's backward with stridedconv's gradients, the LeNet-5 step every
parameter's gradient.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from benchmarks.workloads import (
    CNN,
    GRADS,
    LENET_STEP,
    LIBRARIES,
    ND,
    POOLS,
    SEED,
    ConvWorkload,
    GradWorkload,
    PoolWorkload,
    filter_workload,
    lenet_torch_layout,
    prepare,
    prepare_filter,
)


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


ND_CASES = [(name, spec.with_batch(2)) for name, spec in ND.items()]


@pytest.mark.parametrize("library", ["torch", "naive"])
@pytest.mark.parametrize(("name", "workload"), ND_CASES, ids=[name for name, _ in ND_CASES])
def test_nd_peers_agree(library: str, name: str, workload: ConvWorkload) -> None:
    if not _available(library):
        pytest.skip(f"{library} is not installed")
    x, kernels = workload.inputs("float64")
    expected = prepare("stridedconv", workload, x, kernels)()
    assert expected.shape[:-1] == workload.shape[:-1]  # 'same', stride 1
    result = np.asarray(prepare(library, workload, x, kernels)())
    if library == "torch":  # (m, nc, s1..sd) -> (m, s1..sd, nc)
        result = np.moveaxis(result, 1, -1)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("workload", [ND["conv1d"].with_batch(1)], ids=["conv1d"])
def test_nd_scipy_is_skipped(workload: ConvWorkload) -> None:
    x, kernels = workload.inputs("float64")
    with pytest.raises(NotImplementedError):
        prepare("scipy", workload, x, kernels)


PAD_CASES = {
    "same-asymmetric-stride2": ConvWorkload((1, 7, 5, 2), (2, 3, 1, 4), "same", stride=2, groups=2),
    "full-dilated-1d": ConvWorkload((2, 9, 3), (3, 3, 2), "full", dilation=2),
    "valid-3d": ConvWorkload((1, 4, 5, 6, 2), (2, 3, 2, 2, 3), "valid", stride=2),
    "int-grouped": ConvWorkload((1, 6, 6, 4), (3, 3, 2, 6), 1, dilation=2, groups=2),
}


@pytest.mark.parametrize("workload", PAD_CASES.values(), ids=list(PAD_CASES))
def test_nd_peers_pad_as_conv(workload: ConvWorkload) -> None:
    """Paddings, strides and dimensions the ND cases (symmetric 'same', stride 1) do not reach:
    an odd total's extra sample after, 'full', 'valid', an int; PyTorch pre-pads when the
    sides differ."""
    x, kernels = workload.inputs("float64")
    expected = prepare("stridedconv", workload, x, kernels)()
    np.testing.assert_allclose(prepare("naive", workload, x, kernels)(), expected, rtol=1e-12)
    if _available("torch"):
        result = np.moveaxis(np.asarray(prepare("torch", workload, x, kernels)()), 1, -1)
        np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_nd_same_puts_the_odd_sample_after() -> None:
    assert PAD_CASES["same-asymmetric-stride2"].pads() == [(0, 1), (1, 1)]


POOL_CASES = [(name, spec.with_batch(2)) for name, spec in POOLS.items()]


@pytest.mark.parametrize("library", [lib for lib in LIBRARIES if lib != "stridedconv"])
@pytest.mark.parametrize(("name", "workload"), POOL_CASES, ids=[name for name, _ in POOL_CASES])
def test_pool_peers_agree(library: str, name: str, workload: PoolWorkload) -> None:
    if not _available(library):
        pytest.skip(f"{library} is not installed")
    x, kernel = workload.inputs("float64")
    expected = prepare("stridedconv", workload, x, kernel)()
    assert expected.shape == (2, *workload.out_shape(), workload.shape[-1])
    if library == "scipy":
        with pytest.raises(NotImplementedError):
            prepare(library, workload, x, kernel)
        return
    result = np.asarray(prepare(library, workload, x, kernel)())
    if library == "torch":  # (m, c, o1..od) -> (m, o1..od, c)
        result = np.moveaxis(result, 1, -1)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_pool_rows_are_selected_by_name() -> None:
    """`--only pool` selects the pool rows; a seed workload's name, itself a prefix of a pool
    case's, selects that workload alone."""
    import compare

    pools = {name for name, *_ in compare.cases(["pool"])}
    assert pools == {f"pool {name}" for name in POOLS}
    assert {name for name, *_ in compare.cases(["max_2x2"])} == {"max_2x2"}
    assert {name for name, *_ in compare.cases(["max_2x2x2_3d"])} == {"pool max_2x2x2_3d"}


GRAD_CASES = [(name, spec.with_batch(2)) for name, spec in GRADS.items()]


@pytest.mark.parametrize("library", [lib for lib in LIBRARIES if lib != "stridedconv"])
@pytest.mark.parametrize(("name", "workload"), GRAD_CASES, ids=[name for name, _ in GRAD_CASES])
def test_grad_peers_agree(library: str, name: str, workload: GradWorkload) -> None:
    """Each peer's gradient is stridedconv's, in float32 (the benchmarks' dtype); a peer that
    does not compute one says so."""
    if not _available(library):
        pytest.skip(f"{library} is not installed")
    x, kernels, dy = workload.inputs("float32")
    expected = prepare("stridedconv", workload, x, kernels, dy)()
    assert expected.shape == (kernels.shape if workload.kind == "kernel" else x.shape)
    if library == "scipy" or (library == "naive" and workload.kind != "kernel"):
        with pytest.raises(NotImplementedError):
            prepare(library, workload, x, kernels, dy)
        return
    result = np.asarray(prepare(library, workload, x, kernels, dy)())
    if library == "torch" and workload.kind == "kernel":  # (nc, c, kh, kw) -> (kh, kw, c, nc)
        result = result.transpose(2, 3, 1, 0)
    elif library == "torch":  # (m, c, h, w) -> (m, h, w, c)
        result = np.moveaxis(result, 1, -1)
    # float32 sums of up to 2 * 112 * 112 products, in different orders
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_lenet_step_peers_agree() -> None:
    """PyTorch's LeNet-5, given stridedconv's parameters, has stridedconv's gradients."""
    if not _available("torch"):
        pytest.skip("torch is not installed")
    step = LENET_STEP.with_batch(4)
    images, labels = step.inputs("float32")
    expected = prepare("stridedconv", step, images, labels)()
    result = prepare("torch", step, images, labels)()
    assert set(result) == set(expected) == {f"{k}{n}" for n in range(1, 6) for k in "Wb"}
    for name, gradient in expected.items():
        ours = lenet_torch_layout(name, gradient)
        np.testing.assert_allclose(
            result[name].numpy(), ours, rtol=1e-4, atol=1e-4 * np.abs(ours).max(), err_msg=name
        )
    for library in ("scipy", "naive"):
        with pytest.raises(NotImplementedError):
            prepare(library, step, images, labels)


def test_grad_rows_are_selected_by_name() -> None:
    """`--only grad` selects every gradient row and no other; the other groups' words
    (`pool`, `cnn`) select their own rows alone; a word with `grad` selects by its parts."""
    import compare

    grads = {name for name, *_ in compare.cases(["grad"])}
    assert grads == {f"grad {name}" for name in GRADS} | {"grad lenet5 step 256"}
    assert {name for name, *_ in compare.cases(["cnn"])} == {f"cnn {name}" for name in CNN}
    kernels = {name for name, *_ in compare.cases(["grad kernel cnn"])}
    assert kernels == {f"grad kernel cnn {name}" for name in list(CNN)[:3]}
    assert {name for name, *_ in compare.cases(["input gray 20000x28x28"])} == {
        "grad input gray 20000x28x28"
    }


@pytest.mark.parametrize(
    ("library", "module"), [("opencv", "cv2"), ("scipy", "scipy"), ("fft", "scipy")]
)
@pytest.mark.parametrize("kernel", [3, 15, 31])
@pytest.mark.parametrize("separable", [True, False])
@pytest.mark.parametrize("images", ["64x256x256", "16x256x256x3"])
@pytest.mark.parametrize("mode", ["zeros", "symmetric"])
def test_filtering_peers_agree(
    library: str, module: str, kernel: int, separable: bool, images: str, mode: str
) -> None:
    """Every peer computes the table's problem: grayscale and RGB, both padding modes."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    if library == "fft" and mode != "zeros":
        pytest.skip("fftconvolve pads with zeros only")
    batch, values = filter_workload(images, kernel, separable).inputs("float32")
    batch = batch[:2, :64, :64]
    expected = prepare_filter("stridedconv", batch, values, mode)()
    result = prepare_filter(library, batch, values, mode)()
    scale = np.abs(values).sum() * np.abs(batch).max()
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-5 * scale)


def test_contention_kills_its_busy_process() -> None:
    """`contention.py`'s busy loop runs inside the block and is dead after it, an error in
    the block included; a loop bounded to no time ends by itself (and is reported)."""
    import contention

    with contention.busy(None, 30.0) as process:
        assert process.poll() is None
    assert process.poll() is not None
    with pytest.raises(KeyError), contention.busy(None, 30.0) as process:
        raise KeyError("stop")
    assert process.poll() is not None
    with pytest.raises(RuntimeError, match="ended at once"), contention.busy(None, 0.0):
        pass


def test_contention_sets_and_restores_the_thread_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import contention

    monkeypatch.setenv("STRIDEDCONV_NUM_THREADS", "7")
    with contention.threads_setting("1"):
        assert os.environ["STRIDEDCONV_NUM_THREADS"] == "1"
    with contention.threads_setting("default"):
        assert "STRIDEDCONV_NUM_THREADS" not in os.environ
    assert os.environ["STRIDEDCONV_NUM_THREADS"] == "7"
