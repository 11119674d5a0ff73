"""Argument checks: every message names the argument, what was expected and what was given.

Each check raises before any work is done and never modifies its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._typing import Array

#: dtype kinds that hold numbers: bool, signed and unsigned integers, floats, complex.
NUMERIC_KINDS = "biufc"


def as_numeric_array(value: object, name: str) -> Array:
    """Return `value` as an ndarray of numbers (no copy when it already is one).

    Raises
    ------
    TypeError
        For ``None`` and for arrays of objects, strings, dates or other non-numbers.
    ValueError
        For ragged nested sequences.
    """
    if value is None:
        msg = f"{name} must be an array of numbers, got None"
        raise TypeError(msg)
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        msg = f"{name} must be a rectangular array of numbers, got a ragged sequence ({error})"
        raise ValueError(msg) from None
    if array.dtype.kind not in NUMERIC_KINDS:
        msg = f"{name} must hold numbers (bool, integer, float or complex), got dtype {array.dtype}"
        raise TypeError(msg)
    return array


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


def check_bool(value: object, name: str) -> bool:
    """`value` as a bool; ints and strings are refused (``ceil_mode="no"`` is a bug)."""
    if not isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be True or False, got {value!r}"
        raise TypeError(msg)
    return bool(value)


def check_nonempty_axes(array: Array, name: str) -> None:
    """Check that no axis of `array` (a kernel or a window) has length zero."""
    if 0 in array.shape:
        msg = f"{name} must have no axis of length 0, got shape {array.shape}"
        raise ValueError(msg)


def _is_int(value: object) -> bool:
    # bool is an int subclass, but stride=True is a bug, not a step.
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def int_tuple(value: object, name: str, ndim: int, *, minimum: int) -> tuple[int, ...]:
    """Normalize an int or a sequence of `ndim` ints, each at least `minimum`, to a tuple.

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
    expected = f"an int or a sequence of {ndim} {what} ints"
    if _is_int(value):
        items: Sequence[object] = (value,) * ndim
    elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        items = list(value)
        if len(items) != ndim:
            msg = f"{name} must be {expected}, got {len(items)} values: {value!r}"
            raise ValueError(msg)
        if not all(_is_int(item) for item in items):
            msg = f"{name} must be {expected}, got {value!r}"
            raise TypeError(msg)
    else:
        msg = f"{name} must be {expected}, got {value!r}"
        raise TypeError(msg)
    result = tuple(int(item) for item in items)  # type: ignore[call-overload]
    if min(result, default=minimum) < minimum:
        msg = f"{name} must be {expected}, got {value!r}"
        raise ValueError(msg)
    return result


def positive_int(value: object, name: str) -> int:
    """`value` as an int of at least 1 (bools are refused, as in `int_tuple`)."""
    if not _is_int(value):
        msg = f"{name} must be a positive int, got {value!r}"
        raise TypeError(msg)
    number: int = int(value)  # type: ignore[call-overload]
    if number < 1:
        msg = f"{name} must be a positive int, got {value!r}"
        raise ValueError(msg)
    return number


def one_of(value: object, name: str, choices: tuple[str, ...]) -> str:
    """Check that `value` is one of the words `choices` (case-sensitive)."""
    if not isinstance(value, str) or value not in choices:
        msg = f"{name} must be one of {choices}, got {value!r}"
        raise ValueError(msg)
    return value


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
