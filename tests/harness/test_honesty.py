"""Overhead probe, time to target and threshold cross-fitting (common/harness/honesty.py)."""

import itertools
import time

import numpy as np

from common.harness.honesty import (
    cross_fitted_score,
    loop_is_slow,
    step_throughput,
    summarize_time_to_targets,
    time_bare_steps,
    time_to_targets,
)
from common.metric import search_threshold


def _batches(batch: int = 4):
    x = np.zeros((batch, 101, 101, 1), np.float32)
    return itertools.repeat((x, x))


def _slow_step(x, y):
    time.sleep(0.01)
    return 0.0


def _loop_history(stage: str, extra_per_batch_s: float, batches: int = 6) -> dict:
    """One epoch through a loop around the same step, with `extra_per_batch_s` of loop work."""
    start = time.perf_counter()
    for x, y in itertools.islice(_batches(), batches):
        _slow_step(x, y)
        time.sleep(extra_per_batch_s)
    seconds = time.perf_counter() - start
    return {"stage": stage, "warmup": False, "images": 4 * batches, "train_seconds": seconds}


def test_probe_flags_a_loop_made_slower_on_purpose():
    probe = time_bare_steps(_slow_step, _batches(), min_seconds=0.05)
    assert probe["steps"] >= 3 and probe["images"] == 4 * probe["steps"]
    history = [_loop_history("bce", extra_per_batch_s=0.02)]  # the loop does 2x the step's time
    result = step_throughput(history, [{"stage": "bce", **probe}])
    assert result["loop_vs_step_pct"] < -40
    assert loop_is_slow(result["loop_vs_step_pct"])
    assert result["step_img_s"] > 4 * len(history) / history[0]["train_seconds"]


def test_step_throughput_prices_each_stage_at_its_own_step_rate():
    history = [
        {"stage": "a", "warmup": True, "images": 100, "train_seconds": 50.0},  # not timed
        {"stage": "a", "warmup": False, "images": 100, "train_seconds": 10.0},
        {"stage": "b", "warmup": False, "images": 100, "train_seconds": 20.0},
    ]
    probes = [
        {"stage": "a", "images": 10, "seconds": 1.0},  # 10 img/s
        {"stage": "b", "images": 10, "seconds": 2.0},  # 5 img/s
    ]
    result = step_throughput(history, probes)
    assert np.isclose(result["step_img_s"], 200 / 30)
    assert np.isclose(result["loop_vs_step_pct"], 0.0)
    assert not loop_is_slow(result["loop_vs_step_pct"])
    assert np.isnan(step_throughput(history, [])["step_img_s"])


def test_time_to_target_on_a_fabricated_history():
    history = [
        {"epoch": e, "val_score": s, "train_seconds": 10.0, "images": 100}
        for e, s in enumerate([0.40, 0.55, 0.52, 0.65, 0.61])
    ]
    got = {t["target"]: t for t in time_to_targets(history, [0.5, 0.6, 0.7])}
    assert (got[0.5]["seconds"], got[0.5]["images"], got[0.5]["epoch"]) == (20.0, 200, 1)
    assert (got[0.6]["seconds"], got[0.6]["images"], got[0.6]["epoch"]) == (40.0, 400, 3)
    assert got[0.7]["seconds"] is None and got[0.7]["images"] is None
    slower = time_to_targets([{**r, "train_seconds": 30.0} for r in history], [0.5, 0.6, 0.7])
    summary = summarize_time_to_targets([list(got.values()), slower])
    assert [s["reached"] for s in summary] == [2, 2, 0]
    assert summary[0]["seconds"] == 40.0 and summary[2]["seconds"] is None


def _tiles(n: int, seed: int):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:101, :101]
    radius = rng.uniform(10, 40, (n, 1, 1)) * (rng.random((n, 1, 1)) > 0.4)
    truth = ((yy - 50) ** 2 + (xx - 50) ** 2 < radius**2)[..., None]
    return truth, rng


def test_cross_fitted_score_equals_the_search_when_any_threshold_separates():
    truth, _ = _tiles(30, 0)
    logits = np.where(truth, 3.0, -3.0).astype(np.float32)
    grid = np.linspace(-2, 2, 9)
    result = cross_fitted_score(truth, logits, grid, seed=0)
    assert result["score"] == 1.0 and search_threshold(truth, logits, grid)[1] == 1.0


def test_cross_fitted_score_shows_the_optimism_of_searching_on_the_scored_tiles():
    truth, rng = _tiles(40, 0)
    # Clean masks shifted by a random offset per tile: the best threshold on a few tiles is partly
    # luck, so searching it on the scored tiles overstates the score (checked for every seed 0-5).
    offsets = rng.normal(0, 1.5, (len(truth), 1, 1, 1))
    logits = (np.where(truth, 1.0, -1.0) + offsets).astype(np.float32)
    grid = np.linspace(-2, 2, 41)
    searched = search_threshold(truth, logits, grid)[1]
    result = cross_fitted_score(truth, logits, grid, seed=0)
    assert result["score"] < searched
    assert len(result["thresholds"]) == 2
