"""Interleaved rounds: a drift of the machine half-way through a run lands on every process alike
when turns alternate, and on one process when they come in blocks (common/bench/timing/turns.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from common.bench.report.pairing import adjacent, mean_log_ratio
from common.bench.timing.turns import Conductor, Turns, wait_for_first_request

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("fake_turn_worker.py")
ROUNDS = 6  # per process; even, so no pair straddles the half-way slowdown
BASE_S = {"fast": 0.02, "slow": 0.04}  # simulated seconds a step; true speed ratio 0.5


def run_fakes(tmp_path: Path, order: str) -> tuple[dict, list[dict]]:
    gate = tmp_path / order
    gate.mkdir()
    total = ROUNDS * len(BASE_S)
    jobs, outs = {}, {}
    for name, base in BASE_S.items():
        outs[name] = gate / f"{name}.json"
        cmd = [sys.executable, str(WORKER), str(gate), name, str(base), str(ROUNDS), str(total),
               str(outs[name])]  # fmt: skip
        jobs[name] = subprocess.Popen(cmd, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    for name, job in jobs.items():
        wait_for_first_request(gate, name, job)
    log = Conductor(gate, jobs, order).run()
    assert all(job.wait(timeout=30) == 0 for job in jobs.values())
    return {name: json.loads(path.read_text()) for name, path in outs.items()}, log


def ratio(results: dict) -> dict:
    """The slow process's speed over the fast one's, from their paired rounds."""
    fast, slow = results["fast"], results["slow"]
    log, n = mean_log_ratio(fast["seconds"], slow["seconds"])
    near = adjacent(fast["turns"], slow["turns"], n, cycle=2)
    return {"ratio": math.exp(log), "n": n, "adjacent": near}


def test_interleaved_rounds_keep_the_true_ratio_while_blocks_distort_it(tmp_path):
    interleaved, log = run_fakes(tmp_path, "interleaved")
    blocked, block_log = run_fakes(tmp_path, "block")
    assert [t["process"] for t in log[:4]] == ["fast", "slow", "fast", "slow"]
    assert [t["process"] for t in block_log] == ["fast"] * ROUNDS + ["slow"] * ROUNDS
    paired = ratio(interleaved)
    assert paired["n"] == ROUNDS and paired["adjacent"]
    assert paired["ratio"] == pytest.approx(0.5)
    distorted = ratio(blocked)
    assert not distorted["adjacent"]
    assert distorted["ratio"] == pytest.approx(0.25)  # the slow half landed on one process only


class _Exited:
    def poll(self):
        return 0


def test_conductor_serves_the_earliest_operation_first(tmp_path):
    """A process wanting inference waits while another still wants training turns."""
    gate = tmp_path
    (gate / "a.want.0").write_text("infer")
    (gate / "b.want.0").write_text("train")
    conductor = Conductor(gate, {"a": _Exited(), "b": _Exited()})
    pending = {"a": conductor.request("a"), "b": conductor.request("b")}
    assert conductor._next_round(pending) == ["b"]
    conductor.grant("b", "train")
    assert (gate / "b.go.0").read_text() == "0"
    assert conductor.request("b") is None  # exited without asking again


def test_turns_client_stops_when_the_runner_is_gone(tmp_path, monkeypatch):
    turns = Turns(tmp_path, "p")
    monkeypatch.setattr("os.getppid", lambda: -1)
    with pytest.raises(SystemExit, match="runner is gone"):
        turns.take("train")


def test_an_unknown_order_is_refused(tmp_path):
    with pytest.raises(ValueError, match="order"):
        Conductor(tmp_path, {}, "random")
