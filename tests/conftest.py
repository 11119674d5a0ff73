"""Hypothesis profiles and fixtures shared by the test modules."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# 'ci': derandomised (the same examples on every run), no example database, no deadline
# (the first call of a NumPy path pays for imports and BLAS warm-up).
settings.register_profile(
    "ci",
    parent=settings.get_profile("ci"),
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
