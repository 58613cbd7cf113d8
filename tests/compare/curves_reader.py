"""Reading a run's TensorBoard events back with TensorBoard's own reader (needs the extra)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from common.compare.unit import curves


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value)] as TensorBoard's EventAccumulator loads the folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {
        tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def assert_curves_match_history(run_dir: Path, subject: str, fold: int = 0, seed: int = 0):
    history = pd.read_csv(run_dir / subject / f"seed{seed}" / f"fold{fold}" / "history.csv")
    scalars = read_scalars(curves.unit_events_dir(run_dir, subject, fold, seed))
    for tag, column in curves.SCALARS.items():
        steps = [step for step, _ in scalars[tag]]
        assert steps == sorted(set(steps)) == history["epoch"].tolist(), (subject, tag)
        values = [value for _, value in scalars[tag]]
        assert values == pytest.approx(history[column].astype(float).tolist(), rel=1e-6)
    return scalars
