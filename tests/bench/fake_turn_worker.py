"""A fake benchmark process for the interleaving test: runs `rounds` steps through the turn
protocol on a simulated machine that runs every step twice as slowly once half of all the run's
steps are done (a drift of the machine, shared by every process: a counter file in the gate).
The machine's clock is simulated too, so the test asserts no wall-clock timing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common.bench.timing.turns import Turns


def machine_step(gate: Path, base_s: float, total_steps: int) -> float:
    """One step's simulated seconds: `base_s`, twice that in the second half of the run."""
    counter = gate / "machine.steps"
    done = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(done + 1))  # only one process runs between two turns: no race
    return base_s * (2.0 if done >= total_steps / 2 else 1.0)


def main(gate: str, name: str, base_s: str, rounds: str, total_steps: str, out: str) -> None:
    turns = Turns(Path(gate), name)
    seconds, numbers = [], []
    for _ in range(int(rounds)):
        numbers.append(turns.take("train"))
        seconds.append(machine_step(Path(gate), float(base_s), int(total_steps)))
    Path(out).write_text(json.dumps({"seconds": seconds, "turns": numbers}))


if __name__ == "__main__":
    main(*sys.argv[1:])
