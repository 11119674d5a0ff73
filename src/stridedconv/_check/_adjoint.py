"""The adjoint identity: is a learner's backward function the gradient of the learner's own
forward function?

For a convolution ``Z = conv(A, W)`` (no bias, no activation) and any ``dZ`` of its shape,
the gradients ``dA, dW`` of ``sum(dZ * Z)`` satisfy ``<dZ, Z> = <dA, A> = <dW, W>``, whatever
padding the forward pass uses; for pooling, ``<dA, pool(A)> = <A, dA_prev>`` (max pooling
without ties). A backward function that differs from stridedconv's but satisfies it with the
learner's forward function follows the learner's own 'same' convention; one that does not is
not the gradient of its forward pass.

Examples
--------
>>> import numpy as np
>>> balance(np.ones(4), np.full(4, 2.0), [np.full(4, 2.0)], np.ones(4), None)
(8.0, 8.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ._diagnose import CAUSES, Diagnosis
from ._runner import ChildFailure, Source, Worker
from ._specs import FORWARD_OF, SPECS, Case, arguments, identity

#: Seconds each of the two calls may take.
TIMEOUT = 5.0


def balance(
    z: Array, dz: Array, grads: list[Any], x: Array, kernel: Array | None
) -> tuple[float, float]:
    """Both sides of the identity: ``<dZ, Z>`` (twice with a kernel) and ``<dA, A>`` (plus
    ``<dW, W>`` with a kernel)."""
    lhs = float(np.vdot(z, dz))
    rhs = float(np.vdot(x, np.asarray(grads[0], dtype=np.float64)))
    if kernel is not None and len(grads) > 1:
        dw = np.asarray(grads[1], dtype=np.float64)
        if dw.shape == kernel.shape:
            lhs, rhs = 2 * lhs, rhs + float(np.vdot(kernel, dw))
    return lhs, rhs


def gradient_of_forward(case: Case, forward: Source, backward: Worker) -> Diagnosis | None:
    """Whether the backward function that `backward` runs is, on `case`, the gradient of the
    learner's `forward`: 'adjoint-ok' (a convention of its own), 'not-adjoint', or None when
    either cannot be called."""
    name = FORWARD_OF[case.name]
    plain = case.replace(
        name=name, bias=None if case.bias is None else 0 * case.bias, activation=identity
    )
    worker = Worker(forward, SPECS[name].params)
    try:
        args, kwargs = arguments(plain)
        fwd = worker.call(args, kwargs, TIMEOUT)
        if fwd.raised is not None:
            return None
        z = np.asarray(fwd.result, dtype=np.float64)
        dz = np.random.default_rng(case.seed).integers(-4, 5, size=z.shape).astype(np.float64)
        args, kwargs = arguments(case)
        back = backward.call((dz, *args[1:]), kwargs, TIMEOUT)
    except (ChildFailure, ValueError):
        return None
    finally:
        worker.close()
    if back.raised is not None:
        return None
    grads = list(back.result) if isinstance(back.result, tuple) else [back.result]
    x = case.images.astype(np.float64)
    if np.shape(grads[0]) != x.shape:
        shape = np.shape(grads[0])
        return Diagnosis("not-adjoint", f"{CAUSES['not-adjoint']}: dA_prev of shape {shape}")
    lhs, rhs = balance(z, dz, grads, x, case.kernel)
    if abs(lhs - rhs) <= 1e-6 * max(abs(lhs), 1.0):
        return Diagnosis(
            "adjoint-ok",
            "agrees with its own forward function (adjoint identity), which pads 'same' in "
            "another way than stridedconv",
        )
    return Diagnosis("not-adjoint", f"{CAUSES['not-adjoint']} (the adjoint identity fails: "
                     f"{lhs:g} on the forward side, {rhs:g} on the backward side)")  # fmt: skip
