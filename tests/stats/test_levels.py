"""common.stats.levels by simulation: the framework-level interval covers a known truth, decides
"higher" and "equivalent" at their nominal rates, and is never fooled by ties; the tile-only
bootstrap's coverage in the same settings is printed beside it (run with -s to see the table)."""

import numpy as np
import pytest

from common.stats.levels import MIN_RUNS, frameworks_level, models_level, runs_needed
from tests.stats.simulated_runs import TILES, Setting, experiment

MARGIN = 0.01
TEST_OVER_TRAIN = 1 / 4  # 5 folds: each fold validates on 1/5 and trains on 4/5
EXPERIMENTS = 400
RUN_SD = 0.01  # between-run sd of a unit's mean difference (the real tiles suggest about this)


def simulate(setting: Setting, experiments: int = EXPERIMENTS, seed: int = 0) -> dict:
    """Rates over `experiments` simulated comparisons of the exact framework-level code."""
    rng = np.random.default_rng(seed)
    kinds, covered = [], 0
    for _ in range(experiments):
        diff, folds = experiment(rng, setting)
        level = frameworks_level(diff, folds, MARGIN, TEST_OVER_TRAIN, 1, "A", "B")
        kinds.append(level["verdict"]["kind"])
        covered += level["low"] is not None and level["low"] <= setting.delta <= level["high"]
    return {
        "coverage": covered / experiments,
        "higher": kinds.count("higher") / experiments,
        "equivalent": kinds.count("equivalent") / experiments,
        "too_few": kinds.count("too few runs") / experiments,
    }


def tile_only_coverage(setting: Setting, experiments: int, seed: int = 1) -> float:
    """The same settings through the tile bootstrap (199 resamples, to stay fast)."""
    rng = np.random.default_rng(seed)
    covered = 0
    for _ in range(experiments):
        diff, _ = experiment(rng, setting)
        level = models_level(diff, MARGIN, 1, "A", "B", n_resamples=199)
        covered += level["low"] <= setting.delta <= level["high"]
    return covered / experiments


MAIN = [Setting(units, delta, RUN_SD) for units in (1, 3, 5, 10) for delta in (0.0, 1.5 * MARGIN)]
# Ties: few tiles differ, each by a whole point (one model empties a tile the other fills). The run
# sd is at least what Nadeau & Bengio's correlation needs beside that much tile noise.
TIES = [
    Setting(5, 0.0, 0.002, differing=0.01, magnitudes="flips"),
    Setting(5, 0.0, 0.005, differing=0.05, magnitudes="flips"),
    Setting(5, 1.5 * MARGIN, 0.005, differing=0.05, magnitudes="flips"),
    Setting(10, 0.0, 0.002, differing=0.01, magnitudes="flips"),
]


def test_framework_level_covers_and_decides_at_nominal_rates(capsys):
    rows = []
    for setting in [*MAIN, *TIES]:
        rates = simulate(setting)
        rows.append((setting, rates))
        if setting.units < MIN_RUNS:
            assert rates["too_few"] == 1.0  # one run never speaks for the framework
            continue
        if setting.units >= 5:
            assert 0.92 <= rates["coverage"] <= 0.98, (setting, rates)
            if setting.delta == 0.0:
                assert rates["higher"] <= 0.07, (setting, rates)
            if abs(setting.delta) >= 1.5 * MARGIN:
                assert rates["equivalent"] <= 0.07, (setting, rates)
    tile_only = {
        s: tile_only_coverage(s, 30 if s.units == 10 else 60) for s in MAIN if s.delta == 0.0
    }
    with capsys.disabled():
        print(
            "\nunits  delta  differing  run sd | frameworks: coverage higher equivalent | tiles only: coverage"
        )
        for setting, rates in rows:
            tiles = tile_only.get(setting)
            level = (
                f"{'no interval: 1 run':>37}"
                if rates["too_few"] == 1.0
                else f"{rates['coverage']:19.3f} {rates['higher']:6.3f} {rates['equivalent']:10.3f}"
            )
            print(
                f"{setting.units:5d} {setting.delta:6.3f} {setting.differing:9.2f} "
                f"{setting.run_sd:7.3f} | {level} | " + ("" if tiles is None else f"{tiles:19.3f}")
            )
    # the tile-only bootstrap ignores the between-run spread: it covers far less than 95 %
    assert tile_only[Setting(5, 0.0, RUN_SD)] < 0.85


def test_independent_runs_leave_the_corrected_interval_conservative_not_liberal():
    """Folds that share nothing: the correction widens the interval (coverage above 95 %)."""
    rates = simulate(Setting(5, 0.0, RUN_SD, correlated=False), experiments=200)
    assert rates["coverage"] >= 0.95 and rates["higher"] <= 0.05


def test_all_equal_tiles_bound_the_difference_instead_of_claiming_equivalence():
    folds = np.repeat(np.arange(5), 20)
    few = frameworks_level(np.zeros((1, 100)), folds, MARGIN, TEST_OVER_TRAIN, 1, "A", "B")
    assert few["verdict"]["kind"] == "inconclusive"  # 0 of 100 differ: up to ~3.7 % could
    assert few["method"] == "Clopper-Pearson tie bound" and few["high"] > 0.03
    many = frameworks_level(
        np.zeros((1, 5 * TILES)),
        np.repeat(np.arange(5), TILES),
        MARGIN,
        TEST_OVER_TRAIN,
        1,
        "A",
        "B",
    )
    assert many["verdict"]["kind"] == "equivalent" and many["high"] < 0.0015
    tiles = models_level(np.zeros((1, 20)), MARGIN, 1, "A", "B", n_resamples=199)
    assert tiles["verdict"]["kind"] == "inconclusive" and tiles["high"] > 0.1


def test_one_run_says_so_and_a_noise_floor_can_stand_in():
    diff = np.full((1, TILES), 0.0)
    diff[0, :40] = 0.1
    folds = np.zeros(TILES, dtype=int)
    alone = frameworks_level(diff, folds, MARGIN, TEST_OVER_TRAIN, 1, "Keras", "PyTorch")
    assert alone["low"] is None
    assert alone["verdict"]["line"].startswith(
        "1 training set (folds; 1 training run per framework): too few"
    )
    floor = frameworks_level(
        diff, folds, MARGIN, TEST_OVER_TRAIN, 1, "Keras", "PyTorch", floor_diffs=[0.02, -0.01]
    )
    assert floor["low"] < floor["estimate"] < floor["high"]
    assert "noise floor (2 units)" in floor["method"]
    silent = frameworks_level(diff, folds, MARGIN, TEST_OVER_TRAIN, 1, "A", "B", floor_diffs=[0.0])
    assert silent["verdict"]["kind"] == "too few runs"  # a floor with no spread cannot stand in


@pytest.mark.parametrize("equivalence", [True, False])
def test_runs_needed_gives_the_power_it_promises(equivalence):
    """Plan with runs_needed, then simulate that many runs: the goal is met about 80 % of the time."""
    sd, delta = 0.006, 0.0 if equivalence else MARGIN
    needed = runs_needed(sd, MARGIN, 0.0, equivalence)
    assert needed is not None and needed >= MIN_RUNS
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(400):
        units = rng.normal(delta, sd, needed)
        level = frameworks_level(np.atleast_2d(units), np.arange(needed), MARGIN, 0.0, 1, "A", "B")
        hits += level["verdict"]["kind"] == ("equivalent" if equivalence else "higher")
    assert 0.72 <= hits / 400 <= 0.92, (needed, hits)  # 80 % planned, at a whole number of runs


def test_runs_needed_says_when_no_number_of_runs_would_do():
    # folds share training data: sd^2 * n_test/n_train stays however many runs are added
    assert runs_needed(0.02, MARGIN, TEST_OVER_TRAIN, equivalence=True) is None
    assert runs_needed(0.002, MARGIN, TEST_OVER_TRAIN, equivalence=True) >= MIN_RUNS
