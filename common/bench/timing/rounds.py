"""The timed rounds of one benchmark: each round takes a turn first (common/bench/timing/turns.py), the
rounds' own times and turn numbers are kept for paired ratios, and the memory the rounds used is
measured over them (common/core/memory.py)."""

from __future__ import annotations

import time

from common.core.memory import MemoryWindow


def timed_rounds(
    benchmark, fn, rounds: int, warmup: int, turns, operation: str, window: MemoryWindow
) -> dict:
    """benchmark.pedantic over `fn` with a turn before every round (warm-ups too, untimed: the
    turn is pedantic's `setup`); time stats, per-round seconds and turns, the memory peak."""
    calls: list[tuple[int, float]] = []
    turn = {"number": -1}

    def setup():
        turn["number"] = turns.take(operation)
        if not window.started:
            window.start()

    def target():
        start = time.perf_counter()
        fn()
        calls.append((turn["number"], time.perf_counter() - start))

    start = time.perf_counter()
    try:
        benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=warmup, iterations=1)
    finally:
        if not window.started:  # --benchmark-disable runs the target once, without setup
            window.start()
        peak = window.stop()
    timed = calls[warmup:] if len(calls) > warmup else calls
    out = {
        "round_seconds": [s for _, s in timed],
        "round_turns": [n for n, _ in timed],
        "memory": peak,
    }
    if benchmark.stats is None:  # --benchmark-disable: ran once, untimed by the plugin
        once = time.perf_counter() - start
        return {**out, "median": once, "q1": once, "q3": once, "min": once, "max": once,
                "timed": False}  # fmt: skip
    s = benchmark.stats.stats
    return {**out, "median": s.median, "q1": s.q1, "q3": s.q3, "min": s.min, "max": s.max,
            "timed": True}  # fmt: skip
