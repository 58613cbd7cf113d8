"""The loop-overhead probe: bare steps against the loop (common/compare/unit/step_timing.py)."""

import itertools
import time

import numpy as np

from common.compare.unit.step_timing import loop_is_slow, step_throughput, time_bare_steps


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
