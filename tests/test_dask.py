"""Dask arrays in, lazy dask arrays out: the same results as NumPy, nothing computed at call
time, declared dtype and chunks equal to the computed ones."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

DTYPES = (np.bool_, np.uint8, np.int16, np.int64, np.float64)


def _values(rng: np.random.Generator, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [0, 100) of `dtype`; bools half True."""
    return rng.integers(0, 2 if dtype is np.bool_ else 100, shape).astype(dtype)


def _chunking(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Random chunks along every axis: a one-sample last chunk, chunks of one, uneven."""
    chunks = []
    for n in shape:
        sizes: list[int] = []
        while sum(sizes) < n:
            sizes.append(min(draw(st.integers(1, max(n, 1))), n - sum(sizes)))
        chunks.append(tuple(sizes) or (0,))
    return tuple(chunks)


def _check(lazy: Any, expected: np.ndarray) -> None:
    assert type(lazy).__module__.startswith("dask.array")
    assert lazy.dtype == expected.dtype
    computed = lazy.compute(scheduler="threads")
    assert computed.dtype == lazy.dtype
    assert computed.shape == lazy.shape == expected.shape
    # The declared chunks are those of the computed blocks (all in one graph: one call per
    # block would optimise the whole graph again for each).
    blocks = [lazy.blocks[index] for index in np.ndindex(*lazy.numblocks)]
    computed_blocks = dask.compute(*blocks, scheduler="synchronous")
    for block, values in zip(blocks, computed_blocks, strict=True):
        assert values.shape == block.shape
    if expected.dtype.kind in "iub":
        np.testing.assert_array_equal(computed, expected, strict=True)
    else:
        # Another chunk may take another strategy, and so another order of the sums.
        np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-9)


def _conv_problem(
    data: st.DataObject, groups: tuple[int, ...], side: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A conv call, drawn: `x` (channels last, of up to 3 channels a group), kernels, and
    the keywords (stride, padding, dilation, groups, padding mode, data format), every
    axis of `side` samples at most."""
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    d = data.draw(st.integers(1, 2), label="d")
    n_groups = data.draw(st.sampled_from(groups), label="groups")
    m, c, nc = (
        data.draw(st.integers(0, 5), label="m"),
        n_groups * data.draw(st.integers(1, 3 // n_groups)),
        n_groups * data.draw(st.integers(1, 3 // n_groups)),
    )
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
    dilation = data.draw(st.integers(1, 2), label="dilation")
    # Every side pads less than the window's extent: at least that many samples suit every
    # padding mode ('reflect' pads less than the axis on each side).
    sizes = tuple(data.draw(st.integers(max(3, (k - 1) * dilation + 1), side)) for k in kernel)
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="seed"))
    x = _values(rng, dtype, (m, *sizes, c))
    kernels = rng.integers(-3, 4, (*kernel, c // n_groups, nc))
    kwargs = {
        "stride": data.draw(st.integers(1, 3), label="stride"),
        "padding": data.draw(st.sampled_from(("valid", "same", "full", 1)), label="padding"),
        "dilation": dilation,
        "groups": n_groups,
        "padding_mode": data.draw(
            st.sampled_from(("zeros", "reflect", "replicate", "circular", "symmetric", "constant"))
        ),
        "data_format": data.draw(st.sampled_from(("channels_last", "channels_first"))),
    }
    if kwargs["padding_mode"] == "constant":  # an int: integer batches stay exact
        kwargs["cval"] = data.draw(st.sampled_from((-2, 5)), label="cval")
    return x, kernels, kwargs


@given(data=st.data())
def test_conv_on_dask_equals_numpy(data: st.DataObject) -> None:
    x, kernels, kwargs = _conv_problem(data, groups=(1, 1, 2, 3), side=7)
    given_x = np.moveaxis(x, -1, 1) if kwargs["data_format"] == "channels_first" else x
    lazy_x = da.from_array(given_x, chunks=_chunking(data.draw, given_x.shape))
    _check(sc.conv(lazy_x, kernels, **kwargs), sc.conv(given_x, kernels, **kwargs))


@given(data=st.data())
def test_pool_on_dask_equals_numpy(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    x = _values(np.random.default_rng(data.draw(st.integers(0, 99))), dtype, (5, 7, 6, 2))
    kwargs = {
        "mode": data.draw(st.sampled_from(("max", "avg", "min", "sum")), label="mode"),
        "padding": data.draw(st.sampled_from((0, 1, "same")), label="padding"),
        "dilation": data.draw(st.integers(1, 2), label="dilation"),  # windows of 5 at most
        "ceil_mode": data.draw(st.booleans(), label="ceil_mode"),
        "count_include_pad": data.draw(st.booleans(), label="count_include_pad"),
        "data_format": data.draw(st.sampled_from(("channels_last", "channels_first"))),
    }
    window = data.draw(st.integers(2, 3), label="window")
    stride = data.draw(st.integers(1, 3), label="stride")
    given_x = np.moveaxis(x, -1, 1) if kwargs["data_format"] == "channels_first" else x
    lazy_x = da.from_array(given_x, chunks=_chunking(data.draw, given_x.shape))
    _check(sc.pool(lazy_x, window, stride, **kwargs), sc.pool(given_x, window, stride, **kwargs))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_pooling_bools_in_spatial_chunks_gives_bools(mode: str) -> None:
    x = np.random.default_rng(5).integers(0, 2, (2, 4, 4, 1)).astype(bool)
    lazy = sc.pool(da.from_array(x, chunks=(1, 2, 4, 1)), 2, mode=mode, padding=1)
    _check(lazy, sc.pool(x, 2, mode=mode, padding=1))


def test_the_classic_functions_take_dask_arrays() -> None:
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (7, 9, 9), dtype=np.uint8)
    rgb = rng.random((7, 9, 9, 3))
    kernel = np.array([[1, 0, -1]] * 3)
    lazy_gray, lazy_rgb = da.from_array(gray, chunks=2), da.from_array(rgb, chunks=(3, 4, 9, 3))
    for name in ("convolve_grayscale_valid", "convolve_grayscale_same"):
        function = getattr(sc, name)
        _check(function(lazy_gray, kernel), function(gray, kernel))
    _check(sc.convolve_grayscale_padding(lazy_gray, kernel, (1, 2)),
           sc.convolve_grayscale_padding(gray, kernel, (1, 2)))  # fmt: skip
    _check(sc.convolve_grayscale(lazy_gray, kernel, "valid", 2),
           sc.convolve_grayscale(gray, kernel, "valid", 2))  # fmt: skip
    bank = rng.random((3, 3, 3, 4))
    _check(sc.convolve_channels(lazy_rgb, bank[..., 0]), sc.convolve_channels(rgb, bank[..., 0]))
    _check(sc.convolve(lazy_rgb, bank, stride=2), sc.convolve(rgb, bank, stride=2))
    _check(sc.pool(lazy_rgb, (2, 2), (2, 2), "avg"), sc.pool(rgb, (2, 2), (2, 2), "avg"))
    # Small dask kernels are fine too.
    _check(sc.convolve(lazy_rgb, da.from_array(bank)), sc.convolve(rgb, bank))


def _lazy_pair(data: st.DataObject, x: np.ndarray, dy: np.ndarray) -> tuple[Any, Any]:
    """`x` and `dy` with either or both as dask arrays in random chunks."""
    lazy = data.draw(st.sampled_from(("x", "dy", "both")), label="lazy")
    if lazy != "dy":
        x = da.from_array(x, chunks=_chunking(data.draw, x.shape))
    if lazy != "x":
        dy = da.from_array(dy, chunks=_chunking(data.draw, dy.shape))
    return x, dy


@given(data=st.data())
def test_conv_gradients_on_dask_equal_numpy(data: st.DataObject) -> None:
    x, kernels, kwargs = _conv_problem(data, groups=(1, 1, 2), side=6)
    mode = kwargs.pop("padding_mode")  # conv_transpose, below, has zero padding only
    modes = {"padding_mode": mode, **({"cval": kwargs.pop("cval")} if "cval" in kwargs else {})}
    padding, dilation, c = kwargs["padding"], kwargs["dilation"], x.shape[-1]
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="seed of dy"))
    given_x = np.moveaxis(x, -1, 1) if kwargs["data_format"] == "channels_first" else x
    forward = sc.conv(given_x, kernels, **modes, **kwargs)
    dy_dtype = data.draw(st.sampled_from((np.int16, np.int64, np.float64)), label="dy dtype")
    dy = rng.integers(-3, 4, forward.shape).astype(dy_dtype)
    wrt = data.draw(st.sets(st.sampled_from(("x", "kernels", "bias")), min_size=1), label="wrt")
    expected = sc.conv_vjp(dy, given_x, kernels, **modes, wrt=sorted(wrt), **kwargs)
    lazy_x, lazy_dy = _lazy_pair(data, given_x, dy)
    grads = sc.conv_vjp(lazy_dy, lazy_x, kernels, **modes, wrt=sorted(wrt), **kwargs)
    for name, lazy, values in zip(("x", "kernels", "bias"), grads, expected, strict=True):
        if name not in wrt:
            assert lazy is None
            continue
        _check(lazy, values)
        if name == "x":  # x's batch chunks, or dy's when x is a NumPy array
            batch = lazy_x if type(lazy_x).__module__.startswith("dask.array") else lazy_dy
            assert lazy.chunks[0] == batch.chunks[0]
    # The transposed convolution of a dask `y` (zero padding), output_padding included.
    extra = 0
    if padding != "same":
        extra = data.draw(st.integers(0, max(kwargs["stride"], dilation) - 1), label="extra")
    bias = rng.integers(-3, 4, c) if data.draw(st.booleans(), label="bias") else None
    lazy_y = da.from_array(dy, chunks=_chunking(data.draw, dy.shape))
    _check(
        sc.conv_transpose(lazy_y, kernels, output_padding=extra, bias=bias, **kwargs),
        sc.conv_transpose(dy, kernels, output_padding=extra, bias=bias, **kwargs),
    )


@given(data=st.data())
def test_pool_gradients_on_dask_equal_numpy(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    m = data.draw(st.integers(0, 4), label="m")
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="seed"))
    # Few values: windows that tie are common.
    x = rng.integers(0, 3, (m, 6, 5, 2)).astype(dtype)
    kwargs = {
        "mode": data.draw(st.sampled_from(("max", "avg", "min", "sum")), label="mode"),
        "padding": data.draw(st.sampled_from((0, 1, "same")), label="padding"),
        "dilation": data.draw(st.integers(1, 2), label="dilation"),
        "ceil_mode": data.draw(st.booleans(), label="ceil_mode"),
        "count_include_pad": data.draw(st.booleans(), label="count_include_pad"),
        "data_format": data.draw(st.sampled_from(("channels_last", "channels_first"))),
        "ties": data.draw(st.sampled_from(("first", "all", "split")), label="ties"),
    }
    window = data.draw(st.integers(2, 3), label="window")
    stride = data.draw(st.integers(1, 3), label="stride")
    given_x = np.moveaxis(x, -1, 1) if kwargs["data_format"] == "channels_first" else x
    forward = {key: value for key, value in kwargs.items() if key != "ties"}
    pooled = sc.pool(given_x, window, stride, **forward)
    dy_dtype = data.draw(st.sampled_from((np.int16, np.int64, np.float64)), label="dy dtype")
    dy = rng.integers(-3, 4, pooled.shape).astype(dy_dtype)
    lazy_x, lazy_dy = _lazy_pair(data, given_x, dy)
    _check(
        sc.pool_vjp(lazy_dy, lazy_x, window, stride, **kwargs),
        sc.pool_vjp(dy, given_x, window, stride, **kwargs),
    )


def test_nothing_is_computed_at_call_time() -> None:
    def fail(block: np.ndarray) -> np.ndarray:
        raise RuntimeError("the input was computed")

    x = da.zeros((8, 6, 6, 2), chunks=2).map_blocks(fail, dtype=float)
    lazy = sc.conv(x, np.ones((3, 3, 2, 1)), padding="same")
    pooled = sc.pool(x, 2)
    assert lazy.shape == (8, 6, 6, 1)
    assert pooled.shape == (8, 3, 3, 2)
    # One task per chunk: the graph grows with the chunks, not with anything else.
    graph = dict(sc.conv(da.zeros((40, 6, 6, 2), chunks=(1, 6, 6, 2)), np.ones((3, 3, 2, 1)))
                 .__dask_graph__())  # fmt: skip
    assert len(graph) <= 2 * 40 + 2
    with pytest.raises(RuntimeError, match="the input was computed"):
        lazy.compute(scheduler="synchronous")


def _failing(shape: tuple[int, ...], chunks: int = 2) -> Any:
    """A dask array whose computation raises."""

    def fail(block: np.ndarray) -> np.ndarray:
        raise RuntimeError("the input was computed")

    return da.zeros(shape, chunks=chunks).map_blocks(fail, dtype=float)


def test_no_gradient_is_computed_at_call_time() -> None:
    x, dy, y = _failing((8, 6, 6, 2)), _failing((8, 6, 6, 3)), _failing((8, 4, 4, 3))
    numpy_x, numpy_dy = np.zeros((8, 6, 6, 2)), np.zeros((8, 6, 6, 3))
    kernels, pooled = np.ones((3, 3, 2, 3)), _failing((8, 3, 3, 2))
    b, relu = np.zeros((1, 1, 1, 3)), lambda z: np.maximum(z, 0)
    results = [
        sc.conv_transpose(y, kernels, stride=2),
        *sc.conv_vjp(dy, x, kernels, padding="same"),
        *sc.conv_vjp(dy, numpy_x, kernels, padding="same"),
        *sc.conv_vjp(numpy_dy, x, kernels, padding="same", wrt=("kernels",))[1:2],
        *(sc.pool_vjp(pooled, x, 2, mode=mode) for mode in ("max", "avg", "sum")),
        sc.pool_vjp(np.zeros((8, 3, 3, 2)), x, 2),
        sc.conv_forward(x, kernels, b, relu),
        sc.pool_forward(x, (2, 2), (2, 2)),
        *sc.conv_backward(dy, x, kernels, b),
        *sc.conv_backward(dy, numpy_x, kernels, b)[:1],  # dA_prev reads dZ only
        sc.pool_backward(pooled, x, (2, 2), (2, 2)),
        sc.pool_backward(pooled, numpy_x, (2, 2), (2, 2), mode="avg"),
    ]
    for lazy in results:
        assert type(lazy).__module__.startswith("dask.array")
        with pytest.raises(RuntimeError, match="the input was computed"):
            lazy.compute(scheduler="synchronous")
    # The input gradient of a convolution and the gradient of sum or mean pooling never
    # read x: they compute without it.
    grads = sc.conv_vjp(numpy_dy, x, kernels, padding="same", wrt="x")
    assert grads.x is not None
    np.testing.assert_array_equal(grads.x.compute(), np.zeros((8, 6, 6, 2)))
    np.testing.assert_array_equal(sc.pool_vjp(np.ones((8, 3, 3, 2)), x, 2, mode="sum"), 1.0)
    # A few tasks per chunk (dy's, x's, the gradient's, a tree of sums): the graph grows
    # with the chunks, not with anything else.
    lazy_dy = da.zeros((40, 4, 4, 3), chunks=(1, 4, 4, 3))
    grads = sc.conv_vjp(lazy_dy, np.zeros((40, 6, 6, 2)), kernels)
    assert all(len(dict(g.__dask_graph__())) <= 5 * 40 for g in grads if g is not None)


def test_the_course_functions_take_dask_arrays() -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((5, 7, 6, 3))
    w, b = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal((1, 1, 1, 4))
    lazy = da.from_array(a, chunks=(2, 4, 6, 1))
    _check(sc.conv_forward(lazy, w, b, np.tanh), sc.conv_forward(a, w, b, np.tanh))
    _check(sc.pool_forward(lazy, (2, 2), (2, 2)), sc.pool_forward(a, (2, 2), (2, 2)))
    dz = rng.standard_normal(sc.conv(a, w, padding="same").shape)
    lazy_dz = da.from_array(dz, chunks=3)
    for got, expected in zip(sc.conv_backward(lazy_dz, lazy, w, b),
                             sc.conv_backward(dz, a, w, b), strict=True):  # fmt: skip
        _check(got, expected)
    da_ = rng.standard_normal((5, 6, 5, 3))
    _check(sc.pool_backward(da.from_array(da_, chunks=2), a, (2, 2), (1, 1), "avg"),
           sc.pool_backward(da_, a, (2, 2), (1, 1), "avg"))  # fmt: skip


def test_int64_gradients_that_overflow_raise_in_the_task() -> None:
    # Each chunk's part fits in int64, their sum does not: it raises, naming dtype.
    x = da.from_array(np.full((4, 1, 1), 2**31), chunks=1)
    dy = np.full((4, 1, 1), 2**31)
    grads = sc.conv_vjp(dy, x, np.ones((1, 1, 1), int))
    assert grads.kernels is not None
    assert grads.bias is not None
    assert grads.kernels.dtype == grads.bias.dtype == np.int64
    with pytest.raises(ValueError, match="dtype='int64' cannot hold every exact value of the k"):
        grads.kernels.compute(scheduler="synchronous")
    big = da.from_array(np.full((4, 1, 1), 2**62), chunks=1)
    with pytest.raises(ValueError, match="dtype='int64' cannot hold every exact value of the b"):
        sc.conv_vjp(big, x, np.ones((1, 1, 1), int), wrt="bias").bias.compute()
    # A sum that wraps around in int64 on the way but fits in the end is exact.
    ones = da.from_array(np.ones((3, 1, 1), int), chunks=1)
    dy = np.array([1, 1, -1])[:, None, None] * 2**62
    grads = sc.conv_vjp(dy, ones, np.ones((1, 1, 1), int), wrt=("kernels", "bias"))
    assert grads.kernels is not None
    assert grads.bias is not None
    assert grads.kernels.compute().ravel().tolist() == grads.bias.compute().tolist() == [2**62]
    # A chunk whose own values could overflow int64 raises too.
    with pytest.raises(ValueError, match="dtype='int64' cannot hold every exact value of the p"):
        sc.pool_vjp(big.reshape(1, 4, 1, 1), np.zeros((1, 8, 2, 1)), (2, 2), mode="sum").compute()
    with pytest.raises(ValueError, match="dtype='int64' cannot hold every exact value of the c"):
        sc.conv_transpose(big, np.full((2, 1, 1), 2)).compute()


def test_bad_arguments_are_checked_at_call_time() -> None:
    x = da.zeros((4, 6, 6, 2), chunks=2)
    with pytest.raises(ValueError, match="kernels has 3 channels"):
        sc.conv(x, np.ones((3, 3, 3, 1)))
    with pytest.raises(TypeError, match="out must be None for a dask array"):
        sc.conv(x, np.ones((3, 3, 2, 1)), out=np.empty((4, 4, 4, 1)))
    with pytest.raises(TypeError, match="images must hold numbers"):
        sc.pool(x.astype(str), 2)


def test_exact_integers_beyond_int64_raise_in_the_task() -> None:
    x = da.from_array(np.full((2, 3, 3, 1), 2**62, np.int64), chunks=1)
    lazy = sc.conv(x, np.full((3, 3, 1, 1), 4, np.int64))
    assert lazy.dtype == np.int64
    with pytest.raises(ValueError, match="dtype='int64' cannot hold every exact value"):
        lazy.compute(scheduler="synchronous")


def test_without_dask_arrays_dask_is_not_imported() -> None:
    script = (
        "import sys, numpy as np, stridedconv as sc\n"
        "sc.conv(np.ones((2, 5, 5, 1)), np.ones((3, 3, 1, 1)))\n"
        "sc.pool(np.ones((2, 4, 4, 1)), 2)\n"
        "sc.conv_vjp(np.ones((2, 3, 3, 1)), np.ones((2, 5, 5, 1)), np.ones((3, 3, 1, 1)))\n"
        "sc.conv_transpose(np.ones((2, 3, 3, 1)), np.ones((3, 3, 1, 1)))\n"
        "sc.pool_vjp(np.ones((2, 2, 2, 1)), np.ones((2, 4, 4, 1)), 2)\n"
        "sc.pool_backward(np.ones((2, 2, 2, 1)), np.ones((2, 4, 4, 1)), (2, 2), (2, 2))\n"
        "print('dask' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_on_a_local_cluster_of_processes() -> None:
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (12, 10, 10, 1), dtype=np.uint8)
    kernels = rng.integers(-2, 3, (3, 3, 1, 2))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy_x = da.from_array(x, chunks=3)
        lazy = sc.pool(sc.conv(lazy_x, kernels, padding="same"), 2)
        # The gradients too: the tasks and the tree of sums are pickled to the workers.
        dy = rng.integers(-2, 3, (12, 10, 10, 2))
        grads = sc.conv_vjp(dy, lazy_x, kernels, padding="same")
        pooled_dy = dy[:, ::2, ::2, :1]
        routed = sc.pool_vjp(da.from_array(pooled_dy, chunks=5), lazy_x, 2)
        computed, *gradients = dask.compute(lazy, *grads, routed)
    np.testing.assert_array_equal(computed, sc.pool(sc.conv(x, kernels, padding="same"), 2))
    expected = [*sc.conv_vjp(dy, x, kernels, padding="same"), sc.pool_vjp(pooled_dy, x, 2)]
    for got, values in zip(gradients, expected, strict=True):
        np.testing.assert_array_equal(got, values, strict=True)


def test_pooling_keeps_channel_chunks_and_convolution_merges_them() -> None:
    x = np.random.default_rng(7).random((4, 8, 8, 6))
    lazy = da.from_array(x, chunks=(2, 3, 8, 2))
    pooled = sc.pool(lazy, 2, mode="avg", padding=1)
    assert pooled.chunks[-1] == (2, 2, 2)
    _check(pooled, sc.pool(x, 2, mode="avg", padding=1))
    first = sc.pool(da.from_array(np.moveaxis(x, -1, 1), chunks=(2, 4, 3, 8)), 3, 2,
                    data_format="NCHW", padding=1, mode="avg", count_include_pad=False)  # fmt: skip
    assert first.chunks[1] == (4, 2)
    _check(first, sc.pool(np.moveaxis(x, -1, 1), 3, 2, data_format="NCHW", padding=1,
                          mode="avg", count_include_pad=False))  # fmt: skip
    convolved = sc.conv(lazy, np.ones((3, 3, 6, 5)), padding="same")
    assert convolved.chunks[-1] == (5,)
    _check(convolved, sc.conv(x, np.ones((3, 3, 6, 5)), padding="same"))
