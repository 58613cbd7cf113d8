"""The frame of a worker process, shared by the training and export workers: it dies with its
parent, reads the run's config, pins threads, then builds the subject's twin through the twin
interface (common.models.twin), imported only after threads and the Keras backend are set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from common.core.errors import SaltbenchError, exit_code_of
from common.core.runtime import pin_threads
from common.core.stream import derive_seed
from common.models.execution import mode_of_run
from common.models.twin import load_twin
from common.recipes.resolve import build_spec
from common.runs.rundir import load_config
from common.subjects.selection import Subject, get_subject

TrainerFactory = Callable[..., Any]


def twin_trainer_class(subject: Subject) -> TrainerFactory:
    """A factory of the subject's twin (`<twin>_impl.train.TwinTrainer`, imported only now, after
    threads and backend are set): `make(spec, mode, seed=, exact_twins=)`, named as the subject."""
    twin = load_twin(subject.twin).trainer_class

    def make(spec, mode, **kwargs):
        trainer = twin(spec, replace(mode, jit_compile=subject.jit_compile), **kwargs)
        trainer.framework = subject.name  # its unit folders, logs and drift files
        return trainer

    return make


def run_as_worker(subject_name: str, run_dir: Path, action) -> int:
    """A worker process's frame: it dies with its parent, reads the run's config, pins threads and
    imports the subject's twin, then `action(make_trainer, config, threads)`; user errors end in
    one line (export's worker uses the same frame)."""
    from common.runs.die_with_parent import die_with_parent

    die_with_parent()

    def body():
        config = load_config(run_dir)
        threads = pin_threads(config.get("threads"))
        subject = get_subject(subject_name, config.get("keras_backend", "tensorflow"))
        return action(twin_trainer_class(subject), config, threads)

    return exit_code_of(body)


def parse_ints(text: str | None, default: list[int], what: str) -> list[int]:
    if not text:
        return list(default)
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise SaltbenchError(f"--{what} expects comma-separated integers, got {text!r}") from err


def make_twin(make_trainer: TrainerFactory, config: dict[str, Any], threads: int, seed: int):
    """A fresh twin whose framework RNG (and so its initial weights) derives from the unit's seed."""
    recipe = config["recipe"]
    mode = mode_of_run(recipe, threads=threads, jit_compile=False)
    return make_trainer(
        build_spec(recipe),
        mode.with_device(os.environ.get("SALTBENCH_DEVICE")),
        seed=derive_seed(int(seed), 1234),
        exact_twins=bool(recipe["train"].get("exact_twins", False)),
    )
