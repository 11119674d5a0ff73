"""`stridedconv check`: learner-like implementations in tests/learners/ are each classified as
they should be, and the checker's parts (padding rules, comparison, diagnosis) have their
own property tests.

The learners run once per session, two at a time, each function in its own child process,
with a short search (`QUICK` hypothesis examples, a 4 s limit on the course's examples so the
hanging learner costs 4 s). ``STRIDEDCONV_CHECK_FULL=1`` runs them with the checker's own
settings instead.
"""

from __future__ import annotations

import doctest
import importlib
import json
import linecache
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
from stridedconv._check import _cases, _conventions, _grade, _runner, check_sources, find_targets
from stridedconv._check._cases import strategy
from stridedconv._check._compare import compare
from stridedconv._check._diagnose import diagnose
from stridedconv._check._loading import TargetError
from stridedconv._check._report import Result
from stridedconv._check._runner import Outcome
from stridedconv._check._specs import SPECS, Case, arguments, expected, forward_shape

LEARNERS = Path(__file__).parent / "learners"
FULL = os.environ.get("STRIDEDCONV_CHECK_FULL") == "1"
QUICK = 15

# folder -> {function: (verdict, cause key)}
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "correct": {name: ("pass", "") for name in SPECS},
    "plus_one": {
        "convolve_grayscale_same": ("convention", "same-convention"),
        "convolve_grayscale": ("convention", "same-convention"),
        "conv_forward": ("convention", "same-convention"),
        "conv_backward": ("convention", "same-convention"),
    },
    "floor": {"convolve_grayscale": ("convention", "same-convention")},
    "own_padding": {
        "conv_forward": ("convention", "same-convention"),
        "conv_backward": ("convention", "same-convention"),
    },
    "top_left": {"convolve_grayscale_same": ("convention", "same-convention")},
    "mismatch": {"conv_forward": ("pass", ""), "conv_backward": ("fail", "not-adjoint")},
    "flipped": {"convolve_grayscale_valid": ("fail", "flipped-kernel")},
    "kh_kw": {"convolve_grayscale_valid": ("fail", "kh-kw-swapped")},
    "height_width": {"convolve_grayscale_padding": ("fail", "height-width-swapped")},
    "stride": {"convolve_grayscale": ("fail", "stride-one-axis")},
    "overflow": {"convolve_channels": ("fail", "integer-overflow")},
    "int_division": {"pool": ("fail", "integer-division")},
    "first_max": {"pool_backward": ("fail", "tie-rule")},
    "db_shape": {"conv_backward": ("fail", "db-shape")},
    "modifies": {"pool": ("fail", "modifies-input")},
    "default_mode": {"pool": ("fail", "wrong-default")},
    "zeros": {"convolve": ("fail", "wrong-values")},
    "batch": {"convolve_grayscale_valid": ("fail", "batch-dependent")},
    "hang": {"convolve_grayscale_valid": ("error", "hang")},
    "crash": {"convolve_grayscale_valid": ("error", "crash")},
    "segfault": {"pool": ("error", "crash")},
    "import_error": {"convolve": ("error", "load")},
    "printer": {"convolve_grayscale_valid": ("pass", "")},
    "shows": {"pool": ("pass", "")},
}


@pytest.fixture(scope="session")
def results() -> Iterator[dict[str, dict[str, Result]]]:
    """Every learner folder checked once: folder -> function -> result."""
    saved = dict(_grade.SETTINGS), _grade.EXAMPLE_TIMEOUT, dict(_grade.TIMING_BATCH)
    batch = _cases.EXAMPLE_BATCH
    if not FULL:
        _cases.EXAMPLE_BATCH = 8
        _grade.SETTINGS["max_examples"] = QUICK
        _grade.EXAMPLE_TIMEOUT = 4.0
        _grade.TIMING_BATCH.update({False: 16, True: 2})
    try:
        jobs = [(folder, find_targets([str(LEARNERS / folder)])) for folder in EXPECTED]
        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = pool.map(
                lambda job: check_sources(job[1], parallel=1, timed=job[0] == "correct"), jobs
            )
            yield {
                folder: {r.name: r for r in report}
                for (folder, _), report in zip(jobs, reports, strict=True)
            }
    finally:
        _grade.SETTINGS.clear()
        _grade.SETTINGS.update(saved[0])
        _grade.EXAMPLE_TIMEOUT = saved[1]
        _grade.TIMING_BATCH.update(saved[2])
        _cases.EXAMPLE_BATCH = batch


@pytest.mark.parametrize(
    ("folder", "name"), [(folder, name) for folder, names in EXPECTED.items() for name in names]
)
def test_learner_is_classified(
    results: dict[str, dict[str, Result]], folder: str, name: str
) -> None:
    verdict, key = EXPECTED[folder][name]
    result = results[folder][name]
    assert (result.verdict, result.key) == (verdict, key), (result.cause, result.details)


def test_conventions_are_named_with_their_padding(results: dict[str, dict[str, Result]]) -> None:
    plus_one = results["plus_one"]["convolve_grayscale"]
    assert plus_one.convention == "plus-one"
    assert "padding=((15, 15), (15, 15))" in "\n".join(plus_one.details)
    assert results["top_left"]["convolve_grayscale_same"].convention == "top-left"
    assert results["correct"]["convolve"].convention == "tf"


def test_failures_show_a_small_case(results: dict[str, dict[str, Result]]) -> None:
    details = "\n".join(results["flipped"]["convolve_grayscale_valid"].details)
    assert details.startswith("likely cause: the kernel is flipped")
    assert "\nsmallest failing case: at [0, 0, 0]" in details
    shape = re.search(r"images \(([\d, ]+)\)", details)
    assert shape is not None, details
    assert np.prod([int(n) for n in shape.group(1).split(",")]) <= 9, details  # 1x3x3 at most


def test_misbehaviour_is_one_line(results: dict[str, dict[str, Result]]) -> None:
    assert "did not finish within" in results["hang"]["convolve_grayscale_valid"].cause
    assert "exit code 3" in results["crash"]["convolve_grayscale_valid"].cause
    assert "signal 11" in results["segfault"]["pool"].cause
    assert "FileNotFoundError" in results["import_error"]["convolve"].cause
    assert "printed" in results["printer"]["convolve_grayscale_valid"].notes[0]
    assert "plt.show()" in results["shows"]["pool"].notes[0]
    for result in (results["hang"]["convolve_grayscale_valid"], results["crash"]["convolve"
                   "_grayscale_valid"]):  # fmt: skip
        assert "\n" not in result.cause


def test_passing_functions_are_timed(results: dict[str, dict[str, Result]]) -> None:
    for result in results["correct"].values():
        assert result.speed is not None
        assert result.speed.learner > 0
        assert result.speed.library > 0


# --- the command line and the Python entry point ----------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(sc.__file__).parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "stridedconv", "check", *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip


def test_command_line_exit_codes_json_and_figures(tmp_path: Path) -> None:
    convention = LEARNERS / "top_left" / "1-convolve_grayscale_same.py"
    flipped = LEARNERS / "flipped" / "0-convolve_grayscale_valid.py"
    done = run(str(convention), str(flipped), "--json", "--figures", str(tmp_path))
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    verdicts = {r["name"]: (r["verdict"], r["key"]) for r in data["results"]}
    assert verdicts == {
        "convolve_grayscale_valid": ("fail", "flipped-kernel"),
        "convolve_grayscale_same": ("convention", "same-convention"),
    }
    assert data["exit_code"] == 1
    assert (tmp_path / "convolve_grayscale_valid.png").is_file()
    assert not (tmp_path / "convolve_grayscale_same.png").exists()


def test_command_line_as_and_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stridedconv import cli

    monkeypatch.setitem(_grade.SETTINGS, "max_examples", 5)
    name = "convolve_grayscale_valid"
    path = LEARNERS / "correct" / f"0-{name}.py"
    assert cli.main(["check", f"{path}:{name}", "--as", name]) == 0
    assert f"{name}  pass" in capsys.readouterr().out
    assert cli.main(["check", str(tmp_path / "nothing.py")]) == 2
    message = f"stridedconv check: error: {tmp_path / 'nothing.py'}: no such file"
    assert capsys.readouterr().err.strip() == message
    assert cli.main(["check", str(path), "--as", "pooling"]) == 2
    assert "--as must be one of convolve_grayscale_valid, " in capsys.readouterr().err
    assert cli.main(["check", str(path), str(path), "--as", name]) == 2
    assert "--as names the function of one PATH, got 2 paths" in capsys.readouterr().err


def test_check_of_a_notebook_function() -> None:
    source = (LEARNERS / "correct" / "6-pool.py").read_text()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    linecache.cache["<cell>"] = (len(source), None, source.splitlines(True), "<cell>")
    exec(compile(source, "<cell>", "exec"), namespace)  # no file: sent as its source text
    saved = _grade.SETTINGS["max_examples"]
    _grade.SETTINGS["max_examples"] = 5
    try:
        report = sc.check(namespace["pool"])
    finally:
        _grade.SETTINGS["max_examples"] = saved
    assert report.exit_code == 0
    assert "<table>" in report._repr_html_()
    assert "pool" in str(report)


def test_check_of_a_backward_with_its_forward() -> None:
    saved = _grade.SETTINGS["max_examples"]
    _grade.SETTINGS["max_examples"] = 5
    try:
        report = sc.check(
            str(LEARNERS / "mismatch" / "2-conv_backward.py"),
            forward=str(LEARNERS / "mismatch" / "0-conv_forward.py"),
        )
    finally:
        _grade.SETTINGS["max_examples"] = saved
    assert [r.name for r in report] == ["conv_forward", "conv_backward"]
    assert report["conv_backward"].verdict == "fail"
    assert report.exit_code == 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"like must be one of .*, got 'convolution'"):
        sc.check(np.sum, like="convolution")
    with pytest.raises(TypeError, match=r"function must be a callable .*, got 3"):
        sc.check(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="forward is for conv_backward and pool_backward"):
        sc.check(str(LEARNERS / "correct" / "6-pool.py"), forward=np.sum)
    with pytest.raises(TargetError, match="two files for pool"):
        find_targets([str(LEARNERS / "correct")], [f"{LEARNERS / 'shows' / '6-pool.py'}=pool"])
    with pytest.raises(TargetError, match="not a course file name"):
        find_targets([__file__])


def test_missing_hypothesis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import hypothesis -> ImportError
    from stridedconv import cli

    code = cli.main(["check", str(LEARNERS / "correct" / "6-pool.py")])
    assert code == 2


# --- the parts -------------------------------------------------------------------------------


@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4))
def test_same_rules(n: int, k: int, s: int) -> None:
    (before, after), _ = _conventions.same_pads("tf", (n, n), (k, k), (s, s))
    assert (n + before + after - k) // s + 1 == -(-n // s)
    assert after - before in (0, 1)
    (top, bottom), _ = _conventions.same_pads("top-left", (n, n), (k, k), (s, s))
    assert (top, bottom) == (after, before)
    for rule in _conventions.RULES:
        pads = _conventions.same_pads(rule, (n, n), (k, k), (s, s))
        out = (n + sum(pads[0]) - k) // s + 1
        if n + sum(pads[0]) >= k:
            assert pads in _conventions.candidates((out, out), (n, n), (k, k), (s, s))


def _case(data: st.DataObject, name: str) -> Case:
    case: Case = data.draw(strategy(name))
    return case


@given(st.data(), st.sampled_from(sorted(SPECS)))
def test_drawn_cases_are_valid(data: st.DataObject, name: str) -> None:
    case = _case(data, name)
    want = expected(case)
    first = want[0] if isinstance(want, tuple) else want
    shape = forward_shape(case)
    if case.spec.kind in ("layer_back", "pool_back"):
        assert first.shape == case.images.shape
    else:
        assert first.shape[:3] == shape[:3]
    args, kwargs = arguments(case)
    assert len(args) + len(kwargs) == len(case.spec.params)
    assert compare(case, want, want) is None


@given(st.data(), st.sampled_from(["convolve_grayscale", "convolve_channels", "convolve"]))
def test_one_changed_value_is_found(data: st.DataObject, name: str) -> None:
    case = _case(data, name)
    want = np.asarray(expected(case), dtype=np.float64)
    got = want.copy()
    index = tuple(data.draw(st.integers(0, n - 1)) for n in got.shape)
    got[index] += 1
    assert compare(case, got, want) is not None
    assert compare(case, want.astype(np.float32).astype(np.float64), want) is None or (
        case.images.dtype == np.float64  # float32 rounding exceeds float64's tolerance
    )


@given(st.data(), st.sampled_from(["convolve_grayscale_valid", "convolve_channels", "convolve"]))
def test_diagnosis_names_a_flipped_kernel(data: st.DataObject, name: str) -> None:
    case = _case(data, name)
    assert case.kernel is not None
    flipped = case.replace(kernel=np.ascontiguousarray(case.kernel[::-1, ::-1]))
    got = expected(flipped)

    def call(variant: Case, pads: object) -> Outcome:
        assert variant.kernel is not None
        return Outcome(expected(variant.replace(kernel=variant.kernel[::-1, ::-1].copy())))

    if compare(case, got, expected(case)) is not None:  # flipping changed the result
        assert diagnose(case, Outcome(got), call, "tf").cause == "flipped-kernel"


def test_outcome_of_an_unpicklable_result_is_a_line() -> None:
    assert _runner.one_line(ValueError("a\n  b")) == "ValueError: a b"


@pytest.mark.parametrize(
    "module",
    ["_adjoint", "_cases", "_compare", "_conventions", "_diagnose", "_figures", "_grade",
     "_loading", "_report", "_runner", "_specs"],
)  # fmt: skip
def test_doctests(module: str) -> None:
    found = importlib.import_module(f"stridedconv._check.{module}")
    assert doctest.testmod(found, optionflags=doctest.ELLIPSIS).failed == 0
