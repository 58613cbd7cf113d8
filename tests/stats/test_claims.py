"""One error budget over every claim of a run (common/stats/claims.py): weighted Bonferroni, primary
first; checked by simulation that the chance of any wrong claim stays within alpha."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from common.stats.claims import (
    ALPHA,
    MODELS,
    PRIMARY,
    SECONDARY,
    TIME_TO_TARGET,
    TRAIN_SPEED,
    ClaimPlan,
    claims_line,
)


@pytest.mark.parametrize(("pairs", "targets"), [(1, 1), (1, 4), (3, 4), (5, 2)])
def test_all_claims_together_spend_exactly_alpha(pairs, targets):
    plan = ClaimPlan(pairs=pairs, targets=targets)
    assert plan.spent() == pytest.approx(ALPHA)
    primary, secondary = plan.levels(PRIMARY)[0], plan.levels(TRAIN_SPEED)[0]
    assert primary < secondary < 1  # the primary keeps the largest share: the narrowest interval
    assert plan.levels(TIME_TO_TARGET)[0] >= secondary  # its share is split over the targets


def test_a_lone_pair_gives_the_primary_half_of_alpha():
    plan = ClaimPlan(pairs=1, targets=1)
    assert plan.levels(PRIMARY) == pytest.approx((0.975, 0.95))
    assert plan.levels(MODELS) == pytest.approx((0.995, 0.99))  # a fifth of the other half
    with pytest.raises(ValueError, match="unknown claim"):
        plan.divisor("colour")


def test_the_claims_line_names_the_primary_and_the_correction():
    line = claims_line(ClaimPlan(pairs=2, targets=4).to_dict())
    assert "primary outcome is the score at the level of the frameworks" in line
    assert "weighted Bonferroni" in line and "over 2 pairs" in line and "at most 5%" in line


def test_family_wise_error_stays_within_alpha_by_simulation():
    """Every claim true null (no difference), t intervals at each claim's level from 5 runs:
    the share of experiments with any interval excluding 0 is at most alpha (+ sampling slack)."""
    plan = ClaimPlan(pairs=2, targets=4)
    levels = [plan.levels(PRIMARY)[0]] + [plan.levels(c)[0] for c in SECONDARY[:-1]]
    levels += [plan.levels(TIME_TO_TARGET)[0]] * plan.targets
    claims = len(levels) * plan.pairs
    quantiles = np.array([stats.t.ppf(0.5 + c / 2, 4) for c in levels] * plan.pairs)
    rng = np.random.default_rng(7)
    runs = rng.normal(size=(4000, claims, 5))
    t = runs.mean(axis=2) / (runs.std(axis=2, ddof=1) / np.sqrt(5))
    any_wrong = (np.abs(t) > quantiles).any(axis=1).mean()
    assert any_wrong <= ALPHA + 0.01
    unadjusted = (np.abs(t) > stats.t.ppf(0.975, 4)).any(axis=1).mean()
    assert unadjusted > 0.5  # 18 claims at 95 % each (about 60 %): what the budget prevents
