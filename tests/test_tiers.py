"""Tier profiles: every value maps to exactly one tier; bounds are tested on both sides."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fireline.metrics.tiers import PROFILES, SEED

DAY = 24.0
WEEK = 7 * DAY

# (metric, value, tier) in the talk's table. "Between two rows falls to the lower row."
SEED_EDGES = [
    ("deployment_frequency", 1.01, "High"),     # multiple times a day
    ("deployment_frequency", 1.0, "Mid"),       # exactly daily: not "multiple", falls to Mid
    ("deployment_frequency", 1 / 7, "Mid"),     # weekly
    ("deployment_frequency", 1 / 30, "Mid"),    # monthly
    ("deployment_frequency", 1 / 31, "Low"),    # less than monthly
    ("deployment_frequency", 0.0, "Low"),
    ("lead_time", 23.99, "High"),               # hours
    ("lead_time", DAY, "Mid"),                  # days
    ("lead_time", WEEK - 0.01, "Mid"),
    ("lead_time", WEEK, "Low"),                 # weeks to months
    ("change_failure_rate", 0.0, "High"),
    ("change_failure_rate", 0.1499, "High"),
    ("change_failure_rate", 0.15, "Mid"),
    ("change_failure_rate", 0.30, "Mid"),
    ("change_failure_rate", 0.3001, "Low"),
    ("change_failure_rate", 1.0, "Low"),
    ("time_to_restore", 0.99, "High"),
    ("time_to_restore", 1.0, "Mid"),
    ("time_to_restore", 23.99, "Mid"),
    ("time_to_restore", DAY, "Low"),            # exactly one day is not "<1 day"
]


@pytest.mark.parametrize(("metric", "value", "tier"), SEED_EDGES)
def test_seed_profile_edges(metric, value, tier):
    assert SEED.tier(metric, value) == tier


DORA_EDGES = {
    "dora-2021": [
        ("deployment_frequency", 1.5, "Elite"), ("deployment_frequency", 1 / 7, "High"),
        ("deployment_frequency", 1 / 30, "High"), ("deployment_frequency", 1 / 60, "Mid"),
        ("deployment_frequency", 1 / 200, "Low"),
        ("lead_time", 0.5, "Elite"), ("lead_time", 1.0, "High"), ("lead_time", WEEK, "Mid"),
        ("lead_time", 182 * DAY, "Low"),
        ("change_failure_rate", 0.15, "Elite"), ("change_failure_rate", 0.16, "High"),
        ("change_failure_rate", 0.30, "High"), ("change_failure_rate", 0.31, "Low"),
        ("time_to_restore", 0.5, "Elite"), ("time_to_restore", 1.0, "High"), ("time_to_restore", DAY, "Mid"),
        ("time_to_restore", WEEK, "Low"),
    ],
    "dora-2023": [
        ("deployment_frequency", 2.0, "Elite"), ("deployment_frequency", 1.0, "High"),
        ("deployment_frequency", 1 / 7, "High"), ("deployment_frequency", 1 / 8, "Mid"),
        ("deployment_frequency", 1 / 30, "Mid"), ("deployment_frequency", 1 / 31, "Low"),
        ("lead_time", 23.0, "Elite"), ("lead_time", DAY, "High"), ("lead_time", WEEK, "Mid"),
        ("lead_time", 30 * DAY, "Low"),
        ("change_failure_rate", 0.05, "Elite"), ("change_failure_rate", 0.06, "High"),
        ("change_failure_rate", 0.10, "High"), ("change_failure_rate", 0.15, "Mid"),
        ("change_failure_rate", 0.64, "Low"),
        ("time_to_restore", 0.9, "Elite"), ("time_to_restore", 1.0, "High"), ("time_to_restore", DAY, "Mid"),
        ("time_to_restore", WEEK, "Low"),
    ],
    "dora-2024": [
        ("deployment_frequency", 1.2, "Elite"), ("deployment_frequency", 1 / 7, "High"),
        ("deployment_frequency", 1 / 10, "Mid"), ("deployment_frequency", 1 / 40, "Low"),
        ("lead_time", 12.0, "Elite"), ("lead_time", 3 * DAY, "High"), ("lead_time", 2 * WEEK, "Mid"),
        ("lead_time", 60 * DAY, "Low"),
        ("change_failure_rate", 0.05, "Elite"), ("change_failure_rate", 0.10, "High"),
        ("change_failure_rate", 0.20, "High"), ("change_failure_rate", 0.21, "Low"),
        ("time_to_restore", 0.5, "Elite"), ("time_to_restore", 5.0, "High"), ("time_to_restore", DAY, "Low"),
    ],
}


@pytest.mark.parametrize(("profile", "metric", "value", "tier"),
                         [(p, m, v, t) for p, edges in DORA_EDGES.items() for m, v, t in edges])
def test_dora_profile_edges(profile, metric, value, tier):
    assert PROFILES[profile].tier(metric, value) == tier


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("metric", ["deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore"])
def test_every_bound_is_exact(profile, metric):
    """Just inside a bound gives that band's tier or a better one; just outside a worse one."""
    p = PROFILES[profile]
    order = {t: i for i, t in enumerate(p.tiers)}
    for name, bound in p.bounds[metric]:
        if bound is None:
            continue
        inside = bound.value if bound.op in ("<=", ">=") else math.nextafter(
            bound.value, -math.inf if bound.op == "<" else math.inf)
        outside = math.nextafter(bound.value, math.inf if bound.op in ("<", "<=") else -math.inf)
        if bound.op in ("<", ">"):
            outside = bound.value
        assert order[p.tier(metric, inside)] <= order[name]
        assert order[p.tier(metric, outside)] > order[name] or p.tier(metric, outside) != name


@given(value=st.floats(min_value=0, max_value=1e7, allow_nan=False),
       profile=st.sampled_from(list(PROFILES)),
       metric=st.sampled_from(["deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore"]))
def test_every_value_has_exactly_one_tier_and_better_values_never_rank_worse(value, profile, metric):
    p = PROFILES[profile]
    tier = p.tier(metric, value)
    assert tier in p.tiers
    order = {t: i for i, t in enumerate(p.tiers)}
    better = value * 2 if metric == "deployment_frequency" else value / 2
    assert order[p.tier(metric, better)] <= order[tier]


def test_unknown_value_has_no_tier():
    assert SEED.tier("lead_time", None) is None
    assert SEED.tier("rework_rate", 0.1) is None
