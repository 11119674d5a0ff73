"""Checking one learner function, in its child process, from its loading to its verdict.

The steps: load it; find which 'same' convention it follows from `probes` (the first rule
of `RULES` consistent with all of them, stridedconv's own first); call it on the course's
example calls and compare; check that one image's result does not depend on the rest of the
batch; let hypothesis look for a small case where it differs from stridedconv under its own
convention and shrink it; for a backward function that differs, ask whether it is at least
the gradient of the learner's own forward function (the adjoint identity); diagnose the
smallest failing case; time the passing ones.

Examples
--------
>>> SETTINGS["derandomize"]
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ._adjoint import gradient_of_forward
from ._cases import examples, probes, strategy
from ._compare import compare, describe_case
from ._conventions import RULES, describe, same_pads
from ._diagnose import CAUSES, Diagnosis, diagnose, padding_search, pads_for
from ._report import Result, Speed
from ._runner import ChildFailure, Outcome, Source, Worker
from ._specs import FORWARD_OF, SPECS, Case, Pads, arguments, expected

#: hypothesis settings of the search for a failing case (derandomised: the same cases and
#: the same smallest case on every run).
SETTINGS: dict[str, Any] = {"max_examples": 60, "derandomize": True, "database": None,
                            "deadline": None}  # fmt: skip
#: Seconds a call on small cases and on the course's examples may take.
CALL_TIMEOUT, EXAMPLE_TIMEOUT = 3.0, 10.0
#: Images in the timed calls: forward and backward functions (the course's 50,000 and 10,
#: scaled down).
TIMING_BATCH = {False: 192, True: 8}
#: Seconds the search for a failing case (and its shrinking) may take per function.
SEARCH_BUDGET = 20.0


#: The table's short form of each cause (the details give the long one).
SHORT = {
    "flipped-kernel": "flipped kernel (a convolution)",
    "kh-kw-swapped": "kh and kw swapped",
    "height-width-swapped": "height and width swapped",
    "stride-one-axis": "stride of one axis ignored",
    "integer-overflow": "integer overflow (uint8)",
    "integer-division": "integer division in avg",
    "tie-rule": "tie rule of max pooling",
    "db-shape": "shape of db",
    "wrong-padding": "another padding",
    "wrong-default": "a wrong default",
    "modifies-input": "modifies its input",
    "not-adjoint": "not its forward's gradient",
    "wrong-values": "wrong values",
}


class _Dead(Exception):
    """The child died or hung during the search."""


class _OutOfTime(Exception):
    """The search took its `SEARCH_BUDGET`."""


class Grader:
    """The check of one function; `partner` is the learner's forward function for a
    backward one (its adjoint is checked when the backward differs from stridedconv)."""

    worker: Worker  # the child, started by `run` and again by `time_it`

    def __init__(self, name: str, source: Source, partner: Source | None = None) -> None:
        self.name = name
        self.source = source
        self.partner = partner
        self.rule: str | None = "tf"
        self.failure: str | None = None
        self.notes: list[str] = []

    def call(self, case: Case, pads: Pads | None = None, timeout: float = CALL_TIMEOUT) -> Outcome:
        if self.failure is not None:
            raise _Dead(self.failure)
        args, kwargs = arguments(case, pads)
        try:
            return self.worker.call(args, kwargs, timeout)
        except ChildFailure as error:
            self.failure = str(error)
            raise _Dead(self.failure) from None

    def problem(self, case: Case, timeout: float = CALL_TIMEOUT) -> str | None:
        """None when the learner agrees with stridedconv on `case` under its convention."""
        pads = pads_for(case, self.rule)
        outcome = self.call(case, pads, timeout)
        if outcome.modified:
            return f"modifies its input {', '.join(outcome.modified)}"
        if outcome.raised is not None:
            return f"raises {outcome.raised}"
        try:
            want = expected(case, pads)
        except ValueError:  # the learner's padding leaves the kernel larger than the image
            return None
        return compare(case, outcome.result, want)

    def run(self) -> Result:
        """The verdict, cause and details; never raises for what the learner's code does."""
        result = Result(self.name, self.source.describe(), "pass")
        self.worker = Worker(self.source, SPECS[self.name].params)
        try:
            self.worker.wait_ready()
            self._grade(result)
        except (_Dead, ChildFailure) as error:
            result.verdict, result.cause, result.key = "error", str(error), _error_key(str(error))
            result.details = result.details[:0]
        finally:
            self.worker.close()
        result.notes.extend(self.notes)
        if self.worker.output_count:
            first = self.worker.output.strip().splitlines()[:1] or [""]
            result.notes.append(
                f"printed {self.worker.output_count} characters (first line: {first[0][:80]!r})"
            )
        if self.worker.shows:
            result.notes.append(f"called plt.show() {self.worker.shows} times (ignored)")
        return result

    # --- the steps -------------------------------------------------------------------------

    def _convention(self) -> str | None:
        """The first rule consistent with every probe, or None."""
        consistent = list(RULES)
        for probe in probes(self.name):
            if probe.spec.kind == "layer_back":  # dZ's shape depends on the rule
                outcomes = {rule: self.call(probe, pads_for(probe, rule)) for rule in consistent}
            else:  # the call does not: one call serves every rule
                one = self.call(probe)
                outcomes = dict.fromkeys(consistent, one)
            consistent = [
                rule
                for rule in consistent
                if outcomes[rule].raised is None
                and _agrees(probe, outcomes[rule].result, pads_for(probe, rule))
            ]
            if not consistent:
                return None
        return consistent[0]

    def _grade(self, result: Result) -> None:
        if probes(self.name):
            self.rule = self._convention()
            result.convention = self.rule
        failing: list[tuple[Case, str]] = []
        for case in examples(self.name):
            line = self.problem(case, EXAMPLE_TIMEOUT)
            if line is not None:
                failing.append((case, f"{case.label}: {line}"))
        batch = self._batch_problem(examples(self.name)[0])
        if batch is not None:
            result.verdict, result.cause = "fail", "depends on the batch"
            result.key = "batch-dependent"
            result.details.append(f"likely cause: {CAUSES['batch-dependent']}")
            result.details.append(batch)
            return
        found = self._search()
        if found is not None:
            failing.insert(0, found)
        if failing:
            self._fail(result, failing)
            return
        if self.rule not in (None, "tf"):
            result.verdict, result.convention = "convention", self.rule
            result.cause = f"'same': {self.rule!r} rule"
            result.key = "same-convention"
            result.details.append(self._convention_detail())

    def _probes_padded(self) -> list[str] | None:
        """For each probe, the explicit padding that reproduces the learner's 'same' result;
        None when some probe is not reproduced by any."""
        lines = []
        for probe in probes(self.name):
            outcome = self.call(probe)
            found = None if outcome.raised else padding_search(probe, outcome.result)
            if found is None:
                return None
            lines.append(f"{probe.label}: {found.detail}")
        return lines

    def _search(self, where: Callable[[Case], bool] | None = None) -> tuple[Case, str] | None:
        from hypothesis import HealthCheck, Phase, find, settings
        from hypothesis.errors import NoSuchExample

        lines: dict[int, str] = {}
        last: list[Case] = []
        start, calls = time.monotonic(), [0]

        def differs(case: Case) -> bool:
            if where is not None and not where(case):
                return False
            if time.monotonic() - start > SEARCH_BUDGET:
                raise _OutOfTime
            calls[0] += 1
            line = self.problem(case)
            if line is not None:
                lines[id(case)] = line
                last[:] = [case]
            return line is not None

        options = settings(**SETTINGS, suppress_health_check=list(HealthCheck),
                           phases=[Phase.generate, Phase.shrink])  # fmt: skip
        try:
            case = find(strategy(self.name), differs, settings=options)
        except NoSuchExample:
            return None
        except _Dead:
            raise
        except _OutOfTime:
            what = "shrinking stopped" if last else f"{calls[0]} cases tried"
            self.notes.append(f"the search took its {SEARCH_BUDGET:g} s budget ({what})")
            if not last:
                return None
            case = last[0]
        except Exception as error:  # hypothesis itself (flaky learner code): keep the verdict
            if self.failure is not None:
                raise _Dead(self.failure) from None
            msg = f"the search for a failing case stopped: {error}"
            raise _Dead(msg) from None
        return case, f"smallest failing case: {lines.get(id(case)) or self.problem(case)}"

    def _fail(self, result: Result, failing: list[tuple[Case, str]]) -> None:
        case, line = failing[0]
        result.verdict = "fail"
        pads = pads_for(case, self.rule)
        outcome = self.call(case, pads, EXAMPLE_TIMEOUT)
        diagnosis = diagnose(case, outcome, self.call, self.rule)
        if case.omit and diagnosis.cause == "wrong-values":
            diagnosis = Diagnosis("wrong-default", f"a wrong default {' and '.join(case.omit)}")
        if diagnosis.cause == "wrong-padding" and all(c.padding_word == "same" for c, _ in failing):
            padded = self._probes_padded()
            if padded is not None:
                other = self._search(lambda c: c.padding_word != "same")
                if other is None:  # only 'same' differs, and always by some padding
                    result.verdict, result.key = "convention", "same-convention"
                    result.cause = "'same': a padding of its own"
                    result.details += [diagnosis.detail, *padded]
                    return
                self._fail(result, [other])
                return
        if self.name in FORWARD_OF and self.partner is not None:
            adjoint = gradient_of_forward(case, self.partner, self.worker)
            if adjoint is not None and case.padding_word == "same":
                diagnosis = adjoint
            elif adjoint is not None and adjoint.cause == "not-adjoint":
                failing.append((case, adjoint.detail))
        if diagnosis.cause == "adjoint-ok":
            result.verdict, result.cause = "convention", "'same': its forward's rule"
            result.key = "same-convention"
            result.details.append(diagnosis.detail)
            return
        result.cause, result.key = SHORT.get(diagnosis.cause, diagnosis.detail), diagnosis.cause
        if diagnosis.cause == "raises" and outcome.raised is not None:
            result.cause = f"raises {outcome.raised.split(':')[0]}"
        result.details.append(f"likely cause: {diagnosis.detail}")
        result.details.append(line)
        if case.images.size <= 60:
            result.details.append(describe_case(case, pads, outcome))
        result.details.extend(other for _, other in failing[1:])
        if self.rule not in (None, "tf"):
            result.details.append(self._convention_detail())

    def _convention_detail(self) -> str:
        assert self.rule is not None
        stride = (2, 2) if SPECS[self.name].strides else (1, 1)
        odd = same_pads(self.rule, (28, 28), (3, 3), stride)
        even = same_pads(self.rule, (28, 28), (2, 2), (1, 1))
        return (
            f"'same' padding: {describe(self.rule)}. stridedconv follows TensorFlow's rule; "
            f"it agrees with this one given the explicit padding, e.g. for 28x28 images with "
            f"a 3x3 kernel at stride {stride[0]}: padding={odd!r}, with a 2x2 kernel at "
            f"stride 1: padding={even!r} (stridedconv.conv takes (before, after) pairs; "
            "when before == after, (ph, pw) works in the function of the same name)"
        )

    def _batch_problem(self, case: Case) -> str | None:
        """A line when image 1's result alone differs from its result in the batch."""
        if case.images.shape[0] < 3 or case.spec.kind in ("layer_back", "pool_back"):
            return None
        images = case.images[:3].copy()
        # a neighbour unlike any image: noise over the batch's range (large gradients)
        noise = np.random.default_rng(0).random(images.shape[1:])
        images[0] = (noise * float(images.max())).astype(images.dtype)
        few, alone = case.replace(images=images), case.replace(images=case.images[1:2])
        pads = pads_for(few, self.rule)
        together, single = self.call(few, pads), self.call(alone, pads)
        if together.raised or single.raised:
            return None
        a, b = np.asarray(together.result), np.asarray(single.result)
        if a.ndim < 1 or a.shape[0] != 3 or b.shape[0] != 1 or a.shape[1:] != b.shape[1:]:
            return None
        if compare(alone, a[1:2], b) is not None:
            return "image 1 of a batch of 3 differs from image 1 alone"
        return None

    def time_it(self) -> Speed | None:
        """Time the function in a fresh child, once every function is checked (nothing else
        runs meanwhile); None when it cannot be timed."""
        self.worker = Worker(self.source, SPECS[self.name].params)
        self.failure = None
        try:
            self.worker.wait_ready()
            return self._speed()
        except (_Dead, ChildFailure):
            return None
        finally:
            self.worker.close()

    def _speed(self) -> Speed:
        """The learner's and stridedconv's times on the course's first example call at
        `TIMING_BATCH` images and half as many (best of three runs after a warm-up, one when
        the warm-up took over 0.5 s; best of five for stridedconv)."""
        backward = SPECS[self.name].kind in ("layer_back", "pool_back")
        case = examples(self.name, m=TIMING_BATCH[backward])[0]
        m = case.images.shape[0]
        half = case.replace(images=case.images[: max(m // 2, 1)])
        times = []
        for part in (half, case):
            pads = pads_for(part, self.rule)
            first = self.call(part, pads, EXAMPLE_TIMEOUT).seconds  # a warm-up
            repeats = 3 if first < 0.5 else 1  # a slow function is timed once more only
            times.append(min(self.call(part, pads, EXAMPLE_TIMEOUT).seconds
                             for _ in range(repeats)))  # fmt: skip
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            expected(case, pads_for(case, self.rule))
            best = min(best, time.perf_counter() - start)
        growth = times[1] / max(times[0], 1e-9)
        # more than 1.6 times linear (noise on a busy machine stays below), and long enough
        # to be measured reliably
        return Speed(times[1], best, m, growth > 1.6 * m / half.images.shape[0] and
                     times[1] > 0.02)  # fmt: skip


def _error_key(message: str) -> str:
    """'load', 'hang' or 'crash': what kept a function from being checked."""
    if message.startswith("cannot load"):
        return "load"
    return "hang" if "did not finish" in message else "crash"


def _agrees(case: Case, got: Any, pads: Pads | None) -> bool:
    try:
        want = expected(case, pads)
    except ValueError:  # this padding leaves the kernel larger than the image
        return False
    return compare(case, got, want) is None
