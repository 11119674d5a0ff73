"""From a failing case to its likely cause.

Each known cause is tried on the smallest failing case: either as an alternative answer (the
learner's result is what stridedconv gives with the kernel flipped, with the results wrapped
to uint8, floored, with another tie rule, another stride, another padding), or as a symptom
(the learner is right once the kernel, the images or the stride are made square). The first
that explains the learner's result names the cause.

Examples
--------
>>> CAUSES["flipped-kernel"]
'the kernel is flipped: this computes a convolution, the course (and stridedconv) a cross-correlation'
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._compare import compare
from ._conventions import RULES, candidates, same_pads
from ._runner import Outcome
from ._specs import Case, Pads, expected

#: Each cause's key and what it says.
CAUSES = {
    "same-convention": "a different 'same' padding convention",
    "flipped-kernel": "the kernel is flipped: this computes a convolution, the course (and "
    "stridedconv) a cross-correlation",
    "kh-kw-swapped": "right only when kh == kw: kh and kw swapped somewhere",
    "height-width-swapped": "right only when h == w: the height and width swapped somewhere",
    "stride-one-axis": "the stride of one axis is ignored or used for both",
    "integer-overflow": "integer overflow: the result is computed or stored in the images' "
    "small integer type (uint8 wraps around at 256)",
    "integer-division": "integer division in average pooling (// instead of /)",
    "tie-rule": "a tie rule: the gradient of a window's tied maxima goes to one of them only, "
    "the course gives it to every tied maximum",
    "db-shape": "db has the wrong shape, expected (1, 1, 1, c_new)",
    "wrong-padding": "a different padding",
    "wrong-default": "a wrong default value",
    "modifies-input": "modifies its input",
    "batch-dependent": "the result for one image depends on the rest of the batch",
    "not-adjoint": "the backward pass is not the gradient of the learner's own forward pass",
    "raises": "raises an exception",
    "wrong-values": "wrong values",
}

Call = Callable[[Case, "Pads | None"], Outcome]


@dataclass(frozen=True)
class Diagnosis:
    """The cause (a key of `CAUSES`) and one line of detail."""

    cause: str
    detail: str


def pads_for(case: Case, rule: str | None) -> Pads | None:
    """The padding `rule` gives `case` in place of 'same' (None: stridedconv's own)."""
    if rule in (None, "tf") or case.padding_word != "same":
        return None
    h, w = case.images.shape[1:3]
    return same_pads(rule, (h, w), case.kernel_hw, case.stride)


def _alternatives(case: Case, got: Any, rule: str | None) -> Iterator[tuple[str, str, Any]]:
    """(cause, detail, what stridedconv gives under that cause) for the causes that apply."""
    pads = pads_for(case, rule)
    want = expected(case, pads)
    kind = case.spec.kind
    if case.kernel is not None and kind not in ("layer_back",):
        flipped = case.replace(kernel=np.ascontiguousarray(case.kernel[::-1, ::-1]))
        yield "flipped-kernel", CAUSES["flipped-kernel"], expected(flipped, pads)
    if case.mode == "avg" and kind == "pool":
        yield "integer-division", CAUSES["integer-division"], np.floor(want)
    small = case.images.dtype
    if small.kind in "iu" and small.itemsize < 8 and not isinstance(want, tuple):
        # what storing the exact result in the images' dtype gives: it wraps around
        wrapped = np.asarray(want).astype(np.int64).astype(small)
        yield "integer-overflow", CAUSES["integer-overflow"], wrapped
    if kind == "pool_back" and case.mode == "max":
        for ties in ("first", "split"):
            detail = CAUSES["tie-rule"] + f" ({ties!r}: {_TIES[ties]})"
            yield "tie-rule", detail, expected(case, ties=ties)
    sh, sw = case.stride
    if sh != sw:
        for stride in ((sh, sh), (sw, sw), (1, sw), (sh, 1)):
            other = case.replace(stride=stride)
            yield (
                "stride-one-axis",
                f"{CAUSES['stride-one-axis']} (computed with stride {stride}, not {case.stride})",
                expected(other, pads_for(other, rule)),
            )


_TIES = {"first": "the first maximum gets it", "split": "it is split among them"}


def padding_search(case: Case, got: Any) -> Diagnosis | None:
    """The explicit padding that reproduces the learner's 'same' result, named if a rule
    gives it."""
    if case.padding_word != "same" or case.spec.kind == "layer_back":
        return None
    array = np.asarray(got)
    if array.ndim < 3:
        return None
    h, w = case.images.shape[1:3]
    for pads in candidates(array.shape[1:3], (h, w), case.kernel_hw, case.stride):
        if compare(case, got, expected(case, pads)) is None:
            names = [
                rule
                for rule in RULES
                if same_pads(rule, (h, w), case.kernel_hw, case.stride) == pads
            ]
            named = f", the {names[0]!r} rule" if names else ""
            return Diagnosis(
                "wrong-padding",
                f"'same' here pads (top, bottom) = {pads[0]} and (left, right) = {pads[1]}"
                f"{named}; stridedconv.conv agrees given padding={pads!r}",
            )
    return None


def _symptoms(case: Case, call: Call, rule: str | None) -> Diagnosis | None:
    """Causes found by making the failing case square on one count."""
    variants = []
    sh, sw = case.stride
    if sh != sw:
        variants.append(("stride-one-axis", case.replace(stride=(min(sh, sw),) * 2)))
    kh, kw = case.kernel_hw
    if kh != kw:
        k = min(kh, kw)
        if case.kernel is not None:
            variants.append(("kh-kw-swapped", case.replace(kernel=case.kernel[:k, :k])))
        else:
            variants.append(("kh-kw-swapped", case.replace(window=(k, k))))
    h, w = case.images.shape[1:3]
    if h != w:
        n = max(h, w)
        images = np.zeros((case.images.shape[0], n, n, *case.images.shape[3:]),
                          dtype=case.images.dtype)  # fmt: skip
        images[:, :h, :w] = case.images
        variants.append(("height-width-swapped", case.replace(images=images)))
    for cause, variant in variants:
        outcome = call(variant, pads_for(variant, rule))
        if outcome.raised is None and not outcome.modified:
            want = expected(variant, pads_for(variant, rule))
            if compare(variant, outcome.result, want) is None:
                return Diagnosis(cause, CAUSES[cause])
    return None


def diagnose(case: Case, outcome: Outcome, call: Call, rule: str | None) -> Diagnosis:
    """The likely cause of the learner's `outcome` on the failing `case`."""
    if outcome.modified:
        return Diagnosis("modifies-input", f"modifies its input {', '.join(outcome.modified)}")
    got = outcome.result
    if case.spec.kind == "layer_back" and isinstance(got, tuple) and len(got) == 3:
        want = expected(case, pads_for(case, rule))
        db = np.asarray(got[2])
        if db.shape != want[2].shape and db.size == want[2].size:
            fixed = (got[0], got[1], db.reshape(want[2].shape))
            if compare(case, fixed, want) is None:
                return Diagnosis("db-shape", f"db has shape {db.shape}, expected {want[2].shape}")
    if outcome.raised is None:
        for cause, detail, alternative in _alternatives(case, outcome.result, rule):
            if compare(case, outcome.result, alternative) is None:
                return Diagnosis(cause, detail)
        found = padding_search(case, outcome.result)
        if found is not None:
            return found
    symptom = _symptoms(case, call, rule)
    if symptom is not None:
        return symptom
    if outcome.raised is not None:
        return Diagnosis("raises", f"raises {outcome.raised}")
    return Diagnosis("wrong-values", CAUSES["wrong-values"])
