"""Argument checks: every message names the argument, what was expected and what was given.

Each check raises before any work is done and never modifies its input.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import cast

import numpy as np

from ._typing import Array

#: dtype kinds that hold numbers: bool, signed and unsigned integers, floats, complex.
NUMERIC_KINDS = "biufc"


def as_array(value: object, name: str, what: str = "array") -> Array:
    """Return `value` as an ndarray (no copy when it already is one); `what` it must be.

    Raises
    ------
    TypeError
        For ``None``.
    ValueError
        For ragged nested sequences.
    """
    if value is None:
        msg = f"{name} must be an {what}, got None"
        raise TypeError(msg)
    try:
        return np.asarray(value)
    except ValueError as error:  # ragged nested lists
        msg = f"{name} must be a rectangular {what}, got a ragged sequence ({error})"
        raise ValueError(msg) from None


def as_numeric_array(value: object, name: str) -> Array:
    """Return `value` as an ndarray of numbers (no copy when it already is one).

    Raises
    ------
    TypeError
        For ``None`` and for arrays of objects, strings, dates or other non-numbers.
    ValueError
        For ragged nested sequences.
    """
    array = as_array(value, name, "array of numbers")
    if array.dtype.kind not in NUMERIC_KINDS:
        msg = f"{name} must hold numbers (bool, integer, float or complex), got dtype {array.dtype}"
        raise TypeError(msg)
    return array


def as_batch(value: object, name: str) -> Array:
    """`value` as `as_numeric_array` returns it, but a dask array as it is (its dtype
    checked, its values never read): the batch of an operation may be lazy."""
    if type(value).__module__.startswith("dask.array"):
        kind = value.dtype.kind  # type: ignore[attr-defined]
        if kind not in NUMERIC_KINDS:
            msg = (
                f"{name} must hold numbers (bool, integer, float or complex), "
                f"got dtype {value.dtype}"  # type: ignore[attr-defined]
            )
            raise TypeError(msg)
        return value  # type: ignore[return-value]
    return as_numeric_array(value, name)


def as_result_gradient(
    value: object, name: str, shape: tuple[int, ...], of: str, inputs: str, channels_first: bool
) -> Array:
    """`value`, a gradient with respect to the result `of` an operation, of `shape`, on
    `inputs` (named with their shapes), as a numeric array with its channels last (a dask
    array as it is, as `as_batch` takes it).

    Raises
    ------
    ValueError
        For another shape, naming both shapes.
    """
    gradient = as_batch(value, name)
    if gradient.shape != shape:
        msg = (
            f"{name} must have the shape of {of}'s result, {shape} for {inputs}, got shape "
            f"{gradient.shape}"
        )
        raise ValueError(msg)
    return np.moveaxis(gradient, 1, -1) if channels_first else gradient


def given_shape(x: Array, channels_first: bool) -> tuple[int, ...]:
    """The shape of a channels-last batch `x` as the caller gave it."""
    return (x.shape[0], x.shape[-1], *x.shape[1:-1]) if channels_first else x.shape


def check_ndim(array: Array, name: str, layout: str) -> None:
    """Check that `array` has as many axes as `layout`, e.g. ``"(m, h, w)"``, names."""
    ndim = layout.count(",") + 1
    if array.ndim != ndim:
        msg = f"{name} must be a {ndim}-D array of shape {layout}, got shape {array.shape}"
        raise ValueError(msg)


#: Where the channels axis of a batch is: after the spatial axes, or right after the batch axis.
DATA_FORMATS = ("channels_last", "channels_first")


def batch_layout(d: int, channels_first: bool = False) -> str:
    """A batch of `d` spatial axes spelled out: ``(m, h, w, c)`` for 2-D images, else
    ``(m, s1, ..., sd, c)``; channels first ``(m, c, ...)``."""
    spatial = "h, w" if d == 2 else ", ".join(f"s{i}" for i in range(1, d + 1))
    return f"(m, c, {spatial})" if channels_first else f"(m, {spatial}, c)"


def count(n: int, noun: str) -> str:
    """``'1 channel'``, ``'3 channels'``; nouns ending in "is" turn to "es" (axis, axes)."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-2]}es" if noun.endswith("is") else f"{n} {noun}s"


def rank_message(
    x_name: str,
    x_shape: tuple[int, ...],
    k_name: str,
    k_shape: tuple[int, ...],
    d: int,
    first: bool,
) -> str:
    """Why a batch of `x_shape` and kernels of `k_shape` (``d + 2`` axes, `d` spatial) do
    not go together: both shapes, both layouts, and which axis one of them lacks."""
    spatial = len(x_shape) - 2  # what the batch says, if it has its m and c axes
    k_layout = "(k1, ..., kd, c // groups, nc)" if d != 2 else "(kh, kw, c // groups, nc)"
    head = (
        f"{x_name} of shape {x_shape} and {k_name} of shape {k_shape} disagree: {k_name} "
        f"{k_layout} of {count(d, 'spatial axis')} need {x_name} of shape "
        f"{batch_layout(d, first)}"
    )
    if len(x_shape) == d + 3:
        c = x_shape[1] if first else x_shape[-1]
        guess = "their output-channel axis nc" if k_shape[-1] == c else "an axis"
        return (
            f"{head}; for {x_name} of {count(spatial, 'spatial axis')}, {k_name} lack "
            f"{guess} (one kernel: {k_name}[..., None])"
        )
    if len(x_shape) == d + 1:
        return (
            f"{head}; {x_name} lacks an axis: its batch axis m (one sample: {x_name}[None]) "
            f"or its channel axis c (one channel: {x_name}[..., None])"
        )
    return f"{head}, got {len(x_shape)} axes in {x_name}"


def check_bool(value: object, name: str) -> bool:
    """`value` as a bool; ints and strings are refused (``ceil_mode="no"`` is a bug)."""
    if not isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be True or False, got {value!r}"
        raise TypeError(msg)
    return bool(value)


def check_nonempty_axes(array: Array, name: str, shown: tuple[int, ...] | None = None) -> None:
    """Check that no axis of `array` (a kernel or a window) has length zero; `shown` is its
    shape as the caller gave it, if it differs."""
    if 0 in array.shape:
        msg = f"{name} must have no axis of length 0, got shape {shown or array.shape}"
        raise ValueError(msg)


def as_index(value: object) -> int | None:
    """`value` as a Python int if it is one to NumPy (``operator.index``: int, np.integer, a
    0-d integer array), else None. Bools are refused: ``stride=True`` is a bug, not a step."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "b"
    ):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def items_of(value: object) -> list[object] | None:
    """The items of a sequence of per-axis values (a list, a tuple, a 1-D array), else None."""
    if isinstance(value, np.ndarray):
        return list(value) if value.ndim == 1 else None
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return None


def int_tuple(value: object, name: str, ndim: int, *, minimum: int) -> tuple[int, ...]:
    """Normalize an int or a sequence of `ndim` ints, each at least `minimum`, to a tuple.

    An int is anything ``operator.index`` takes (``np.int64(2)``, ``np.array(2)``), bools
    excepted.

    Raises
    ------
    TypeError
        When `value` is not an int nor a sequence of ints (floats and bools included).
    ValueError
        When the sequence has the wrong length or an item is below `minimum`.
    """
    # The common cases, checked fast: one int, or a tuple of ndim ints.
    if type(value) is int and value >= minimum:
        return (value,) * ndim
    if (
        type(value) is tuple
        and len(value) == ndim
        and all(type(item) is int and item >= minimum for item in value)
    ):
        return value
    what = "positive" if minimum == 1 else "non-negative"
    expected = f"an int or a sequence of {count(ndim, what + ' int')}"
    single = as_index(value)
    items = [single] * ndim if single is not None else items_of(value)
    if items is None:
        msg = f"{name} must be {expected}, got {value!r}"
        raise TypeError(msg)
    if len(items) != ndim:
        msg = f"{name} must be {expected}, got {count(len(items), 'value')}: {value!r}"
        raise ValueError(msg)
    result = tuple(as_index(item) for item in items)
    if None in result:
        msg = f"{name} must be {expected}, got {value!r}"
        raise TypeError(msg)
    ints = cast(tuple[int, ...], result)
    if min(ints, default=minimum) < minimum:
        msg = f"{name} must be {what}, got {value!r}"
        raise ValueError(msg)
    return ints


def positive_int(value: object, name: str) -> int:
    """`value` as an int of at least 1 (anything ``operator.index`` takes, bools refused)."""
    number = as_index(value)
    if number is None:
        msg = f"{name} must be a positive int, got {value!r}"
        raise TypeError(msg)
    if number < 1:
        msg = f"{name} must be positive, got {value!r}"
        raise ValueError(msg)
    return number


def word(value: object, name: str, choices: tuple[str, ...]) -> str:
    """`value`, one of the lower-case words `choices` in any case, in lower case.

    Raises
    ------
    TypeError
        When `value` is not a string (None included).
    ValueError
        When it is not one of `choices`.
    """
    if not isinstance(value, str):
        msg = f"{name} must be one of {_quoted(choices)}, got {value!r}"
        raise TypeError(msg)
    lowered = value.lower()
    if lowered not in choices:
        msg = f"{name} must be one of {_quoted(choices)}, got {value!r}"
        raise ValueError(msg)
    return lowered


#: The data formats of TensorFlow's and JAX's dimension numbers, by number of spatial axes:
#: channels last, then channels first.
_LETTER_FORMATS: dict[int, tuple[str, str]] = {
    1: ("nwc", "ncw"),
    2: ("nhwc", "nchw"),
    3: ("ndhwc", "ncdhw"),
}


def channels_first(value: object, d: int) -> bool:
    """Whether `data_format` puts the channels first, for a batch of `d` spatial axes.

    ``'channels_last'`` and ``'channels_first'`` in any case, or the letters of `d` axes:
    ``'NWC'``/``'NCW'``, ``'NHWC'``/``'NCHW'``, ``'NDHWC'``/``'NCDHW'``.
    """
    letters = _LETTER_FORMATS.get(d, ("", ""))
    lowered = word(value, "data_format", (*DATA_FORMATS, *sum(_LETTER_FORMATS.values(), ())))
    if lowered in DATA_FORMATS:
        return lowered == "channels_first"
    if lowered not in letters:
        axes = len(lowered) - 2
        expected = _quoted(("channels_last", "channels_first", *(w.upper() for w in letters)))
        msg = (
            f"data_format {value!r} is for {axes} spatial axis{'es' * (axes > 1)}, but the "
            f"batch has {d}; expected one of {expected}"
        )
        raise ValueError(msg)
    return lowered == letters[-1]  # (channels last, channels first)


PAD_WORDS = ("same", "valid")


def _is_sequence(value: object) -> bool:
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)


def _holds_pairs(value: object) -> bool:
    """Whether `value` is a sequence of per-axis paddings, not of ints."""
    if isinstance(value, np.ndarray):
        return value.ndim == 2
    return isinstance(value, Sequence) and any(map(_is_sequence, value))


def padding_spec(
    value: object, ndim: int, *, words: tuple[str, ...] = PAD_WORDS, pairs: bool = False
) -> str | tuple[tuple[int, int], ...]:
    """Normalize `padding` to one of `words` or one ``(before, after)`` pair per axis.

    An int or a sequence of `ndim` ints pads each axis symmetrically. With `pairs`, a
    sequence of `ndim` ``(before, after)`` pairs pads each axis as it says (an int in place
    of a pair pads that axis symmetrically).
    """
    if isinstance(value, str):
        word = value.lower()  # TensorFlow users write 'SAME' and 'VALID'
        if word not in words:
            msg = (
                f"padding must be {_quoted(words)} or {ndim} non-negative ints, "
                f"got the unknown word {value!r}"
            )
            raise ValueError(msg)
        return word
    if pairs and _holds_pairs(value):
        assert isinstance(value, (Sequence, np.ndarray))
        try:
            if len(value) != ndim:
                raise ValueError
            return tuple(_pair(item) for item in value)
        except (TypeError, ValueError) as error:
            raise type(error)(_padding_message(value, ndim, words, pairs)) from None
    try:
        amounts = int_tuple(value, "padding", ndim, minimum=0)
    except (TypeError, ValueError) as error:
        raise type(error)(_padding_message(value, ndim, words, pairs)) from None
    return tuple((amount, amount) for amount in amounts)


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(repr(word) for word in words)


def _padding_message(value: object, ndim: int, words: tuple[str, ...], pairs: bool) -> str:
    expected = f"{_quoted(words)}, an int or a sequence of {ndim} non-negative ints"
    if pairs:
        expected += f" or of {ndim} (before, after) pairs of them"
    return f"padding must be {expected}, got {value!r}"


def _pair(item: object) -> tuple[int, int]:
    """One axis of padding: an int (both sides) or a (before, after) pair of them."""
    before, after = int_tuple(item, "padding", 2, minimum=0)
    return before, after
