"""bench and compare build a subject's trainer through the same constructor: the same class, the
same execution mode, and from the same weights the same optimiser step on the same batch."""

from __future__ import annotations

import numpy as np
import pytest

from common.bench.timing.steps import BENCH_LEARNING_RATE, BENCH_LOSS, build_runner, make_batch
from common.models.execution import ExecutionMode, mode_of_run
from common.recipes.resolve import build_spec, resolve_recipe
from common.runs.twin_process import make_twin, twin_trainer_class
from common.subjects.selection import get_subject
from common.subjects.table import get_variant


def compare_trainer(subject_name: str, config: dict):
    """The trainer a compare worker builds for a unit (seed 0) of `config`'s recipe."""
    return make_twin(twin_trainer_class(get_subject(subject_name)), config, 1, seed=0)


def one_step(trainer, x, y) -> tuple[float, dict[str, np.ndarray]]:
    trainer.reseed(7)  # the same dropout masks for both
    loss = trainer.train_step(x, y)
    return loss, trainer.get_weights()


@pytest.mark.parametrize(
    "subject, variant",
    [
        pytest.param("torch", "torch-eager", marks=pytest.mark.torch),
        pytest.param("keras-tf", "keras-tf", marks=pytest.mark.keras),
    ],
)
def test_bench_and_compare_take_the_same_step(subject, variant):
    config = {"recipe": resolve_recipe("seed000", "smoke", {"run.device": "cpu"})}
    spec = build_spec(config["recipe"])
    bench = build_runner(get_variant(variant), spec, threads=1).trainer
    unit = compare_trainer(subject, config)
    assert type(bench) is type(unit)
    assert bench.mode == ExecutionMode(device="auto", threads=1)
    assert unit.mode == mode_of_run(config["recipe"], threads=1, jit_compile=False).with_device(
        "cpu"
    )
    before = bench.get_weights()
    unit.set_weights(before)
    unit.start_stage(BENCH_LOSS, BENCH_LEARNING_RATE)  # the step bench times
    x, y = make_batch(4, seed=3)
    bench_loss, bench_after = one_step(bench, x, y)
    unit_loss, unit_after = one_step(unit, x, y)
    assert unit_loss == bench_loss
    assert bench_after.keys() == unit_after.keys()
    for key, value in bench_after.items():
        np.testing.assert_array_equal(unit_after[key], value, err_msg=key)
    assert any(not np.array_equal(bench_after[k], before[k]) for k in before), "no weight moved"
