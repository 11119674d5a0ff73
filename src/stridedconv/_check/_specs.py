"""The eleven functions a learner writes: their course signatures, the arguments of one case
and stridedconv's answer to it, under this library's 'same' rule or another one.

A `Case` holds what was drawn (arrays, padding, stride, mode); `arguments` turns it into the
positional arguments of the course's signature and `expected` computes stridedconv's result.
Both take `pads`, explicit ``((top, bottom), (left, right))`` zeros that replace ``'same'``
when a learner's 'same' convention is being followed; the upstream gradient of a backward
function (``dZ``, ``dA``) is drawn from a seed in the shape the forward pass gives under the
same padding, so a backward function is always called with a gradient of the right shape.

Examples
--------
>>> import numpy as np
>>> case = Case("convolve_grayscale_same", np.ones((1, 3, 3)), np.ones((2, 2)))
>>> expected(case).tolist()
[[[4.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]]]
>>> expected(case, pads=((1, 0), (1, 0))).tolist()
[[[1.0, 2.0, 2.0], [2.0, 4.0, 4.0], [2.0, 4.0, 4.0]]]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._conv_nd import conv
from .._gradients import conv_vjp
from .._pool_gradients import pool_vjp
from .._pooling import pool
from .._typing import Array

Pads = tuple[tuple[int, int], tuple[int, int]]


def identity(z: Array) -> Array:
    """The activation the checker passes to ``conv_forward`` (picklable, unlike a lambda)."""
    return z


def relu(z: Array) -> Array:
    """The course's activation in its example calls."""
    return np.maximum(z, 0)


@dataclass(frozen=True)
class Spec:
    """One of the eleven functions: its name, file, positional parameters and what it takes."""

    name: str
    task: str
    params: tuple[str, ...]
    kind: str  # gray, channels, bank, pool, layer, layer_back, pool_back
    paddings: tuple[str, ...] = ()  # the padding forms the signature takes: same, valid, tuple
    fixed_padding: str | None = None  # the padding of 0- and 1- (valid, same)
    strides: bool = True


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("convolve_grayscale_valid", "0-convolve_grayscale_valid", ("images", "kernel"),
             "gray", fixed_padding="valid", strides=False),
        Spec("convolve_grayscale_same", "1-convolve_grayscale_same", ("images", "kernel"),
             "gray", fixed_padding="same", strides=False),
        Spec("convolve_grayscale_padding", "2-convolve_grayscale_padding",
             ("images", "kernel", "padding"), "gray", ("tuple",), strides=False),
        Spec("convolve_grayscale", "3-convolve_grayscale", ("images", "kernel", "padding",
             "stride"), "gray", ("same", "valid", "tuple")),
        Spec("convolve_channels", "4-convolve_channels", ("images", "kernel", "padding",
             "stride"), "channels", ("same", "valid", "tuple")),
        Spec("convolve", "5-convolve", ("images", "kernels", "padding", "stride"), "bank",
             ("same", "valid", "tuple")),
        Spec("pool", "6-pool", ("images", "kernel_shape", "stride", "mode"), "pool"),
        Spec("conv_forward", "0-conv_forward", ("A_prev", "W", "b", "activation", "padding",
             "stride"), "layer", ("same", "valid")),
        Spec("pool_forward", "1-pool_forward", ("A_prev", "kernel_shape", "stride", "mode"),
             "pool"),
        Spec("conv_backward", "2-conv_backward", ("dZ", "A_prev", "W", "b", "padding",
             "stride"), "layer_back", ("same", "valid")),
        Spec("pool_backward", "3-pool_backward", ("dA", "A_prev", "kernel_shape", "stride",
             "mode"), "pool_back"),
    )
}  # fmt: skip
#: The forward function whose adjoint each backward function must be.
FORWARD_OF = {"conv_backward": "conv_forward", "pool_backward": "pool_forward"}


@dataclass(frozen=True)
class Case:
    """What one call is made of; `kernel` is the kernel, bank or ``W`` (None for pooling),
    `window` the pooling window, `seed` draws ``dZ``/``dA``; `keywords` names the arguments
    passed by keyword (as the course's example calls do) and `omit` those left to their
    defaults."""

    name: str
    images: Array
    kernel: Array | None = None
    padding: Any = "valid"
    stride: tuple[int, int] = (1, 1)
    window: tuple[int, int] = (2, 2)
    mode: str = "max"
    bias: Array | None = None
    seed: int = 0
    grad_dtype: str = "float64"
    activation: Any = identity
    keywords: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    label: str = field(default="", compare=False)

    @property
    def spec(self) -> Spec:
        return SPECS[self.name]

    def replace(self, **changes: Any) -> Case:
        return dataclasses.replace(self, **changes)

    @property
    def padding_word(self) -> str:
        """'same', 'valid' or 'tuple': the padding form of this case."""
        fixed = self.spec.fixed_padding
        if fixed is not None:
            return fixed
        if self.spec.kind in ("pool", "pool_back"):
            return "valid"
        return self.padding if isinstance(self.padding, str) else "tuple"

    @property
    def kernel_hw(self) -> tuple[int, int]:
        if self.kernel is None:
            return self.window
        return int(self.kernel.shape[0]), int(self.kernel.shape[1])


def pads_of(case: Case, pads: Pads | None = None) -> Pads:
    """The zeros before and after each spatial axis that stridedconv pads for `case`, or
    `pads` in place of 'same'."""
    word = case.padding_word
    h, w = case.images.shape[1:3]
    if word == "same":
        if pads is not None:
            return pads
        from ._conventions import same_pads

        return same_pads("tf", (h, w), case.kernel_hw, case.stride)
    if word == "tuple":
        ph, pw = case.padding
        return (int(ph), int(ph)), (int(pw), int(pw))
    return (0, 0), (0, 0)


def _as_conv(case: Case) -> tuple[Array, Array]:
    """The images and kernels of `case` as `conv` takes them: (m, h, w, c), (kh, kw, c, nc)."""
    assert case.kernel is not None
    kind = case.spec.kind
    if kind == "gray":
        return case.images[..., None], case.kernel[..., None, None]
    if kind == "channels":
        return case.images, case.kernel[..., None]
    return case.images, case.kernel


def forward_shape(case: Case, pads: Pads | None = None) -> tuple[int, ...]:
    """The shape of the forward result under `pads` (of ``dZ``/``dA`` for a backward)."""
    m, h, w = case.images.shape[:3]
    (pt, pb), (pl, pr) = pads_of(case, pads)
    kh, kw = case.kernel_hw
    sh, sw = case.stride
    size = ((h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1)
    last = case.images.shape[3] if case.kernel is None else case.kernel.shape[-1]
    return (m, *size, last)


def upstream(case: Case, pads: Pads | None = None) -> Array:
    """``dZ`` or ``dA`` for a backward `case`: small integers drawn from `case.seed`."""
    shape = forward_shape(case, pads)
    rng = np.random.default_rng(case.seed)
    return rng.integers(-4, 5, size=shape).astype(case.grad_dtype)


def arguments(case: Case, pads: Pads | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional and keyword arguments of the learner's call for `case`."""
    values: dict[str, Any] = {
        "images": case.images,
        "A_prev": case.images,
        "kernel": case.kernel if case.kernel is not None else case.window,
        "kernels": case.kernel,
        "W": case.kernel,
        "b": case.bias,
        "activation": case.activation,
        "padding": case.padding,
        "stride": case.stride,
        "kernel_shape": case.window,
        "mode": case.mode,
    }
    if case.spec.kind in ("layer_back", "pool_back"):
        values["dZ"] = values["dA"] = upstream(case, pads)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name in case.spec.params:
        if name in case.omit:
            continue
        if name in case.keywords:
            kwargs[name] = values[name]
        else:
            args.append(values[name])
    return tuple(args), kwargs


def expected(case: Case, pads: Pads | None = None, *, ties: str = "all") -> Any:
    """stridedconv's result for `case`, with `pads` in place of 'same' (for backward
    functions, with the upstream gradient of that padding's shape); `ties` is the tie rule
    of max-pooling gradients."""
    kind = case.spec.kind
    padding = pads_of(case, pads)
    if kind in ("pool", "pool_back"):
        mode = case.mode
        if kind == "pool":
            return pool(case.images, case.window, case.stride, "avg" if mode == "avg" else "max")
        rule = "first" if mode == "avg" else ties
        dy = upstream(case)
        return pool_vjp(dy, case.images, case.window, case.stride, mode, ties=rule)  # type: ignore[arg-type]
    x, k = _as_conv(case)
    if kind == "layer_back":
        grads = conv_vjp(upstream(case, pads), x, k, stride=case.stride, padding=padding)
        return grads.x, grads.kernels, np.asarray(grads.bias).reshape(1, 1, 1, -1)
    bias = None if case.bias is None else case.bias.reshape(-1)
    result = conv(x, k, stride=case.stride, padding=padding, bias=bias)
    if kind == "layer":
        return case.activation(result)
    return result[..., 0] if kind in ("gray", "channels") else result
