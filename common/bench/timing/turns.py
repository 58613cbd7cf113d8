"""Interleaved timing across benchmark processes: one round at a time, A B C … A B C ….

Every backend runs in its own process (KERAS_BACKEND is per process), so a drift of the machine
(throughput here moves by up to 2x over minutes) lands on whichever process is timing. Timing
all of one process's rounds, then the next's ("block" order), lets a slow minute land on one
framework. Instead every process asks for a turn before each round, and the conductor (the
`saltbench bench` runner) hands turns out round-robin among the processes that want the same
operation (all training rounds first, then inference, then harness epochs). Only one process ever
runs between two turns: a process holds the machine from its turn's `go` until it asks for the
next one (or exits), so its untimed work between rounds never overlaps another's timing.

The protocol is files in one gate folder:
  <process>.want.<n>   the process asks for its n-th turn; the file holds the operation's name
  <process>.go.<n>     the conductor's answer; holds the turn's global number (0, 1, 2, …)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

PHASES = ("train", "infer", "epoch")
ORDERS = ("interleaved", "block")
POLL_S = 0.005


class Turns:
    """A benchmark process's side: `take(operation)` blocks until the conductor says go."""

    def __init__(self, gate: Path, process: str, poll_s: float = POLL_S):
        self.gate, self.process, self.poll_s = Path(gate), process, poll_s
        self.count = 0
        self._parent = os.getppid()

    def take(self, operation: str) -> int:
        """Ask for the next turn, wait for it; returns the turn's global number."""
        n = self.count
        want = self.gate / f"{self.process}.want.{n}"
        tmp = want.with_suffix(".tmp")
        tmp.write_text(operation)
        tmp.replace(want)  # the conductor never reads a half-written request
        go = self.gate / f"{self.process}.go.{n}"
        while not go.exists():
            if os.getppid() != self._parent:
                raise SystemExit(f"saltbench bench runner is gone; {self.process} stops")
            time.sleep(self.poll_s)
        self.count += 1
        return int(go.read_text() or -1)


class NoTurns:
    """Outside `saltbench bench` (pytest benchmarks/ by hand): every round runs at once."""

    count = 0

    def take(self, operation: str) -> int:
        return -1


def _rank(operation: str) -> int:
    return PHASES.index(operation) if operation in PHASES else len(PHASES)


class Conductor:
    """Hands out turns to processes (name -> object with .poll(), None while running)."""

    def __init__(self, gate: Path, jobs: dict, order: str = "interleaved", poll_s: float = POLL_S):
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        self.gate, self.jobs, self.order, self.poll_s = Path(gate), jobs, order, poll_s
        self.next_turn = dict.fromkeys(jobs, 0)
        self.log: list[dict] = []  # every turn: number, process, operation, start time

    def request(self, name: str) -> str | None:
        """Wait until `name` asks for its next turn (-> the operation) or exits (-> None)."""
        want = self.gate / f"{name}.want.{self.next_turn[name]}"
        while not want.exists():
            if self.jobs[name].poll() is not None:
                return None
            time.sleep(self.poll_s)
        return want.read_text()

    def grant(self, name: str, operation: str) -> None:
        number = len(self.log)
        self.log.append(
            {"turn": number, "process": name, "operation": operation, "time": time.time()}
        )
        go = self.gate / f"{name}.go.{self.next_turn[name]}"
        tmp = go.with_suffix(".tmp")
        tmp.write_text(str(number))
        tmp.replace(go)
        self.next_turn[name] += 1

    def run(self, names: Sequence[str] | None = None, on_exit: Callable[[str], None] = None):
        """Every turn of every process until all have exited; `on_exit(name)` as each one does."""
        names = list(names or self.jobs)
        pending = {name: self.request(name) for name in names}
        for name, operation in pending.items():
            if operation is None and on_exit:
                on_exit(name)
        while any(op is not None for op in pending.values()):
            for name in self._next_round(pending):
                self.grant(name, pending[name])
                pending[name] = self.request(name)
                if pending[name] is None and on_exit:
                    on_exit(name)
        return self.log

    def _next_round(self, pending: dict[str, str | None]) -> list[str]:
        """Who gets a turn next: interleaved, one each of those wanting the earliest operation;
        block, the first process still running, alone, until it exits."""
        live = [name for name, op in pending.items() if op is not None]
        if self.order == "block":
            return live[:1]
        earliest = min(_rank(pending[name]) for name in live)
        return [name for name in live if _rank(pending[name]) == earliest]


def wait_for_first_request(gate: Path, name: str, job, poll_s: float = 0.05) -> None:
    """Until `name` has finished its start-up work and asks for its first turn (or has exited)."""
    while job.poll() is None and not (Path(gate) / f"{name}.want.0").exists():
        time.sleep(poll_s)
