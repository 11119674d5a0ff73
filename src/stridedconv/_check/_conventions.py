"""The 'same' padding conventions learners follow, by name, and the explicit padding each
gives.

stridedconv follows TensorFlow's SAME rule (``'tf'``): the output has ``ceil(n / s)``
positions along an axis of `n` samples at stride `s`, the total padding is
``max((ceil(n / s) - 1) * s + k - n, 0)``, ``total // 2`` of it before and the rest after
(the extra zero of an even kernel at the bottom and right). The course's own formula keeps
the output at `n` positions, ``total = (n - 1) * s + k - n``, and learners split it in
several ways; every rule below gives ``(before, after)`` per axis.

Examples
--------
>>> same_pads("tf", (28, 28), (3, 3), (1, 1))
((1, 1), (1, 1))
>>> same_pads("plus-one", (28, 28), (3, 3), (2, 2))
((15, 15), (15, 15))
>>> same_pads("top-left", (6, 6), (2, 2), (1, 1))
((1, 0), (1, 0))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ._specs import Pads

Rule = Callable[[int, int, int], tuple[int, int]]


def _tf(n: int, k: int, s: int) -> tuple[int, int]:
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _top_left(n: int, k: int, s: int) -> tuple[int, int]:
    before, after = _tf(n, k, s)
    return after, before


def _course_total(n: int, k: int, s: int) -> int:
    return (n - 1) * s + k - n


def _plus_one(n: int, k: int, s: int) -> tuple[int, int]:
    p = _course_total(n, k, s) // 2 + 1
    return p, p


def _floor(n: int, k: int, s: int) -> tuple[int, int]:
    p = _course_total(n, k, s) // 2
    return p, p


def _ceil(n: int, k: int, s: int) -> tuple[int, int]:
    p = -(-_course_total(n, k, s) // 2)
    return p, p


def _course_top_left(n: int, k: int, s: int) -> tuple[int, int]:
    total = _course_total(n, k, s)
    return total - total // 2, total // 2


def _half_kernel(n: int, k: int, s: int) -> tuple[int, int]:
    return k // 2, k // 2


def _half_kernel_floor(n: int, k: int, s: int) -> tuple[int, int]:
    return (k - 1) // 2, (k - 1) // 2


#: The rules by name, stridedconv's first; a learner's output is matched against them in
#: this order, so the first rule that reproduces it names it.
RULES: dict[str, tuple[Rule, str]] = {
    "tf": (_tf, "TensorFlow's SAME rule (stridedconv's): ceil(n / s) outputs, extra zero after"),
    "top-left": (_top_left, "TensorFlow's total padding with the extra zero at the top/left"),
    "plus-one": (_plus_one, "the '+1' rule: ((n - 1) * s + k - n) // 2 + 1 zeros on each side"),
    "floor": (_floor, "symmetric floor: ((n - 1) * s + k - n) // 2 zeros on each side"),
    "ceil": (_ceil, "symmetric ceil: ceil(((n - 1) * s + k - n) / 2) zeros on each side"),
    "course-top-left": (_course_top_left, "the course's total (n - 1) * s + k - n, the extra "
                        "zero at the top/left"),
    "half-kernel": (_half_kernel, "k // 2 zeros on each side"),
    "half-kernel-floor": (_half_kernel_floor, "(k - 1) // 2 zeros on each side"),
}  # fmt: skip


def same_pads(
    rule: str, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]
) -> Pads:
    """The ``((top, bottom), (left, right))`` zeros that `rule` pads for 'same'."""
    function = RULES[rule][0]
    return function(size[0], kernel[0], stride[0]), function(size[1], kernel[1], stride[1])


def describe(rule: str) -> str:
    """One line on what `rule` does."""
    return RULES[rule][1]


def candidates(
    shape: tuple[int, int], size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]
) -> Iterator[Pads]:
    """Every padding ``((top, bottom), (left, right))`` that gives an output of `shape`
    (rows, columns), with at most as many zeros a side as any rule of `RULES` pads: the
    search space of an unnamed rule."""
    per_axis = []
    for out, n, k, s in zip(shape, size, kernel, stride, strict=True):
        most = max(k + s, _plus_one(n, k, s)[0]) + 1
        options = [
            (before, after)
            for before in range(most)
            for after in range(most)
            if n + before + after >= k and (n + before + after - k) // s + 1 == out
        ]
        # symmetric paddings first, then the nearest to symmetric: the likeliest rules
        options.sort(key=lambda pair: (abs(pair[1] - pair[0]), pair[1] < pair[0]))
        per_axis.append(options)
    for rows in per_axis[0]:
        for cols in per_axis[1]:
            yield rows, cols
