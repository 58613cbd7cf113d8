"""common.compare.analysis.score_per_minute: the best score within each budget, from known curves."""

import numpy as np
import pytest

from common.compare.analysis.score_per_minute import (
    best_within,
    budgets,
    score_per_minute,
    unit_cost_minutes,
)


def history(seconds, scores):
    return [{"train_seconds": s, "val_score": v} for s, v in zip(seconds, scores, strict=True)]


def unit(threads=1, device="cpu"):
    return {"threads": threads, "numerics": {"device": device}}


def test_cost_counts_threads_on_a_cpu_only():
    h = history([30, 30, 60], [0.1, 0.2, 0.3])
    assert unit_cost_minutes(h, 2, "cpu").tolist() == [1.0, 2.0, 4.0]
    assert unit_cost_minutes(h, 2, "cuda").tolist() == [0.5, 1.0, 2.0]


def test_best_within_takes_the_best_epoch_that_ended_inside_the_budget():
    h = history([60, 60, 60, 60], [0.4, 0.6, 0.5, 0.7])
    minutes = unit_cost_minutes(h, 1, "cpu")
    assert best_within(h, minutes, 0.5) is None
    assert best_within(h, minutes, 3.0) == 0.6  # epoch 3 fell back: the best so far stays
    assert best_within(h, minutes, 100.0) == 0.7  # finished sooner: keeps its best


def test_budgets_are_the_last_steps_of_the_ladder_within_the_longest_run():
    assert budgets(45.0) == [2.0, 5.0, 10.0, 20.0]  # 1-2-5: the next step, 50, is past it
    assert budgets(0.3) == [0.02, 0.05, 0.1, 0.2]
    assert budgets(0.0) == []


def test_a_slower_subject_scores_lower_at_each_budget_and_the_difference_says_so():
    rng = np.random.default_rng(0)
    histories, frameworks = (
        {"keras": [], "torch": []},
        {"keras": {"folds": []}, "torch": {"folds": []}},
    )
    for _ in range(6):
        curve = np.minimum(0.8, 0.1 * np.arange(1, 13)) + rng.normal(0, 0.002, 12)
        for fw, epoch_s in (("keras", 120.0), ("torch", 60.0)):  # the same curve, torch 2x faster
            histories[fw].append(history([epoch_s] * 12, curve.tolist()))
            frameworks[fw]["folds"].append(unit())
    out = score_per_minute(histories, frameworks, "torch")
    assert out["budgets_min"] == [2.0, 5.0, 10.0, 20.0]
    at_ten = out["budgets_min"].index(10.0)
    assert out["subjects"]["torch"][at_ten]["estimate"] == pytest.approx(0.8, abs=0.01)
    assert out["subjects"]["keras"][at_ten]["estimate"] == pytest.approx(0.5, abs=0.01)
    diff = out["differences"]["keras"][at_ten]
    assert diff["n"] == 6 and diff["high"] < 0 and diff["estimate"] == pytest.approx(-0.3, abs=0.01)
    assert abs(out["differences"]["keras"][-1]["estimate"]) < 0.01  # both done by 20 min


def test_no_history_no_table():
    assert score_per_minute({"torch": [[]]}, {"torch": {"folds": [unit()]}}, "torch") == {}


def test_no_budget_falls_before_a_run_has_its_first_score():
    assert budgets(45.0, first=6.0) == [10.0, 20.0]


def test_a_run_too_short_for_the_ladder_is_read_at_its_end():
    assert budgets(0.19, first=0.15) == [0.19]
