"""Worker side of `saltbench export`: a unit's best weights written as native and ONNX files,
with the reference logits of saltbench's own prediction path on the unit's validation tiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.core.errors import SaltbenchError
from common.core.io import load_neutral, save_arrays
from common.models.twin import load_twin
from common.runs.dataset import fold_indices, load_run_data, run_folds
from common.runs.rundir import run_units, unit_dir
from common.runs.unit_state import BEST_MODEL

NATIVE_FILE = {"keras": "model.keras", "torch": "model.pt"}
ONNX_FILE = "model.onnx"
REFERENCE_FILE = "reference.npz"
FORMATS = ("reference", "native", "onnx")


def export_dir(out: Path, framework: str, fold: int, seed: int) -> Path:
    """out/<framework>/seed<S>/fold<F>/, as a run lays out its units."""
    return Path(out) / framework / f"seed{int(seed)}" / f"fold{int(fold)}"


def validation_tiles(run_dir: Path, config: dict[str, Any], data, fold: int, limit: int):
    """(ids, images) of the fold's validation tiles, the first `limit` of them when limit > 0."""
    _, val_idx = fold_indices(run_folds(run_dir, config, data), data.train_ids, fold)
    val_idx = val_idx[:limit] if limit > 0 else val_idx
    return [data.train_ids[i] for i in val_idx], data.images[val_idx]


def twin_of(trainer) -> str:
    """'keras' or 'torch': the twin's class name for it (the instance carries the subject's name,
    say keras-jax, as its `framework`)."""
    return type(trainer).framework


def float64_logits(trainer, images: np.ndarray) -> np.ndarray:
    """The same weights evaluated in float64 (inference mode): the exact function both saltbench's
    float32 prediction and an exported file approximate, to tell round-off from a wrong file."""
    return load_twin(twin_of(trainer)).float64_logits(trainer.model, trainer.spec, images)


def write_native(trainer, path: Path) -> None:
    """The twin's own save_model: `.keras` for Keras, the spec and state_dict for torch."""
    load_twin(twin_of(trainer)).save_model(trainer.model, path)


def write_onnx(trainer, path: Path) -> None:
    """Each twin through its own framework's exporter (`<twin>_impl/export.py`), atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    load_twin(twin_of(trainer)).export_onnx(trainer.model, tmp)
    tmp.replace(path)


def export_units(make_trainer, run_dir: Path, config: dict[str, Any], out: Path, formats, tiles):
    """Every unit of the run: load model_best.npz into a fresh twin, write the asked formats."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise SaltbenchError(f"unknown export format(s) {', '.join(sorted(unknown))}")
    data = load_run_data(config)
    eval_batch = int(config["recipe"]["eval"]["batch_size"])
    for fold, seed in run_units(config):
        trainer = make_trainer(seed)
        best = unit_dir(run_dir, trainer.framework, fold, seed) / BEST_MODEL
        if not best.is_file():
            raise SaltbenchError(
                f"{best}: no trained model; finish the run first (saltbench compare --run)"
            )
        trainer.set_weights(load_neutral(best))
        target = export_dir(out, trainer.framework, fold, seed)
        target.mkdir(parents=True, exist_ok=True)
        if "reference" in formats:
            ids, images = validation_tiles(run_dir, config, data, fold, tiles)
            logits = trainer.predict_logits(images, eval_batch)
            exact = float64_logits(trainer, images)
            save_arrays(target / REFERENCE_FILE, ids=np.array(ids), images=images, logits=logits,
                        logits_float64=exact)  # fmt: skip
        if "native" in formats:
            write_native(trainer, target / NATIVE_FILE[twin_of(trainer)])
        if "onnx" in formats:
            write_onnx(trainer, target / ONNX_FILE)
        print(
            f"exported {trainer.framework} seed {seed} fold {fold}: {sorted(formats)}", flush=True
        )
