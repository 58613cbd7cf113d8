"""The per-subject worker process: `python -m common.compare.run.worker --subject torch|keras-jax|... ACTION`.

The worker builds the subject's twin through the twin interface (common.models.twin) in the frame
of common.runs.twin_process (common.subjects.selection says which twin, backend and compile mode a
subject is), so the twins never import the harness (dependencies point down).
Subcommands: `init RUN_DIR --seeds 0,1` (build the twin from the spec per seed, save its initial
weights for both twins), `train RUN_DIR --folds 0,1 --seeds 0,1` (train and evaluate every
(fold, seed) unit of that cross product, resuming), `predict RUN_DIR --data DIR --out F`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from common.compare.unit.drift import FLOOR_SUFFIX
from common.compare.unit.evaluate import predict_tta
from common.compare.unit.fold import FoldSession
from common.core.errors import DivergedError, SaltbenchError, exit_code_of
from common.core.io import load_neutral, save_arrays, save_neutral
from common.recipes.resolve import build_spec
from common.runs.rundir import (
    init_weights_path,
    load_config,
    run_seeds,
    run_units,
    unit_dir,
)
from common.runs.twin_process import make_twin, parse_ints, run_as_worker
from common.runs.unit_state import BEST_MODEL
from common.subjects.selection import SUBJECT_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", required=True, choices=SUBJECT_NAMES)
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser(
        "init", help="save the twin's initial weights into RUN_DIR/init_weights_seed<S>.npz"
    )
    init.add_argument("run_dir", type=Path)
    init.add_argument("--seeds", help="comma-separated seeds (default: the run's)")
    train = sub.add_parser(
        "train", help="train and evaluate the (fold, seed) units of a run (resumes)"
    )
    train.add_argument("run_dir", type=Path)
    train.add_argument("--folds", required=True)
    train.add_argument("--seeds", help="comma-separated seeds (default: the run's)")
    train.add_argument("--no-progress", action="store_true")
    train.add_argument(
        "--noise-floor",
        action="store_true",
        help="train the subject's noise-floor copy (<framework>_ulp: initial weights +1 ulp)",
    )
    predict = sub.add_parser(
        "predict", help="TTA logits of a dataset's test tiles, mean over folds"
    )
    predict.add_argument("run_dir", type=Path)
    predict.add_argument("--data", type=Path, required=True)
    predict.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of a worker process; TwinTrainer(spec, mode, seed=) builds the subject's twin."""
    args = _parser().parse_args(argv)
    if args.action == "train" and _several_units(args):
        return exit_code_of(lambda: _each_unit_alone(args))
    action = {"init": _init, "train": _train, "predict": _predict}[args.action]
    return run_as_worker(
        args.subject,
        args.run_dir,
        lambda make, config, threads: action(make, args, config, threads),
    )


def _init(make_trainer, args: argparse.Namespace, config: dict[str, Any], threads: int) -> None:
    for seed in parse_ints(args.seeds, run_seeds(config), "seeds"):
        weights = make_twin(make_trainer, config, threads, seed).get_weights()
        encoder = config["recipe"]["run"].get("encoder_weights")
        if encoder:  # a local torchvision ResNet34 state dict (seed002); nothing is downloaded
            from common.models.encoder_weights import with_encoder_weights

            weights = with_encoder_weights(weights, encoder, build_spec(config["recipe"]))
        save_neutral(init_weights_path(args.run_dir, seed), weights)


def _units(args: argparse.Namespace) -> list[tuple[int, int]]:
    """(seed, fold) of every unit `train` was asked for, seeds outermost."""
    config = load_config(args.run_dir)
    folds = parse_ints(args.folds, config["folds"], "folds")
    return [(s, f) for s in parse_ints(args.seeds, run_seeds(config), "seeds") for f in folds]


def _several_units(args: argparse.Namespace) -> bool:
    try:
        return len(_units(args)) > 1
    except SaltbenchError:  # a bad option or config: the worker's frame reports it in one line
        return False


def _each_unit_alone(args: argparse.Namespace) -> int:
    """Several units: each in a fresh worker process of its own, one after another, so a unit
    starts from a clean framework state and its peak memory is its own (Keras on TensorFlow kept
    about 170 MiB a unit that neither keras.backend.clear_session nor gc gave back). The children
    die with this process; an interrupt or an error stops the rest, a diverged unit does not."""
    from common.runs.die_with_parent import PARENT_ENV, die_with_parent
    from common.runs.processes import worker_command

    die_with_parent()
    flags = [f for f, on in (("--no-progress", args.no_progress),
                             ("--noise-floor", args.noise_floor)) if on]  # fmt: skip
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    diverged = False
    for seed, fold in _units(args):
        unit = ["--folds", str(fold), "--seeds", str(seed), *flags]
        command = worker_command(args.subject, "train", str(args.run_dir), *unit)
        code = subprocess.call(command, env=env)
        if code == DivergedError.exit_code:
            diverged = True
        elif code != 0:
            return code
    return DivergedError.exit_code if diverged else 0


def _train(make_trainer, args: argparse.Namespace, config: dict[str, Any], threads: int) -> int:
    """Train the units; a diverged one is reported (failed.json) and the next one goes on."""
    from common.runs.dataset import load_run_data

    data = load_run_data(config)
    folds = parse_ints(args.folds, config["folds"], "folds")
    diverged = []
    for seed in parse_ints(args.seeds, run_seeds(config), "seeds"):
        for fold in folds:
            trainer = make_twin(make_trainer, config, threads, seed)
            perturb = None
            if args.noise_floor:  # same twin, same batches and masks; only the start moves
                trainer.framework = trainer.framework + FLOOR_SUFFIX
                perturb = one_ulp_up
            session = FoldSession(
                args.run_dir, config, fold, trainer, data, seed=seed,
                progress=not args.no_progress, perturb_init=perturb,
            )  # fmt: skip
            try:
                metrics = session.run()
            except DivergedError as err:  # this unit failed; the others still run
                print(f"saltbench: error: {err}", file=sys.stderr, flush=True)
                diverged.append((fold, seed))
                continue
            print(json.dumps({"unit_done": [fold, seed], "score": metrics["score"]}), flush=True)
    return DivergedError.exit_code if diverged else 0


def one_ulp_up(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every trainable float32 weight moved to the next float32 up (one unit in the last place).

    Round-off only: each value changes by the size of one float32 rounding error, the least any
    arithmetic on it already perturbs it by; BN running statistics stay as they are.
    """
    from common.models.weights import is_trainable

    return {
        key: np.nextafter(value, np.float32(np.inf)).astype(value.dtype)
        if is_trainable(key)
        else value
        for key, value in weights.items()
    }


def _predict(make_trainer, args: argparse.Namespace, config: dict[str, Any], threads: int) -> None:
    from common.core.kaggle import load_dataset

    dataset = load_dataset(args.data, progress=False)
    recipe = config["recipe"]
    units = run_units(config)
    trainer = make_twin(make_trainer, config, threads, units[0][1])
    total = None
    for fold, seed in units:
        path = unit_dir(args.run_dir, trainer.framework, fold, seed) / BEST_MODEL
        if not path.is_file():
            raise SaltbenchError(
                f"{path}: no trained model; finish the run first (saltbench compare --run)"
            )
        trainer.set_weights(load_neutral(path))
        predict = lambda x: trainer.predict_logits(x, int(recipe["eval"]["batch_size"]))  # noqa: E731
        logits = predict_tta(predict, dataset.test_images, recipe["eval"]["tta"]).astype(np.float64)
        total = logits if total is None else total + logits
    save_arrays(
        args.out, ids=np.array(dataset.test_ids), logits=(total / len(units)).astype(np.float32)
    )


def thread_report() -> dict[str, str]:
    return {var: os.environ.get(var, "") for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")}


if __name__ == "__main__":
    sys.exit(main())
