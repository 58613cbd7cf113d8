"""The seed002 recipe (the TGS seed-002 kernel) and its profiles, as data (common/recipes/catalog.py
registers them); data, run and train settings start from seed000's."""

from __future__ import annotations

import copy
from typing import Any

from common.recipes.seed000 import SEED000

# seed002 (the TGS seed-002 kernel): ResNet34 U-Net with an scSE decoder. Trained from scratch by default
# (no weights are downloaded; run.encoder_weights takes a local torchvision ResNet34 state dict).
# Stage 1: BCE warm start under a one-cycle LR. Stage 2: Lovasz hinge per image over cosine cycles
# (warm restarts) with a weight snapshot at the end of each cycle; evaluation averages the logits of
# the last K snapshots (snapshot ensembling), each with flip TTA. LR changes before every batch.
SEED002: dict[str, Any] = {
    "model": {"name": "resnet34_unet", "base_width": 64, "attention": "scse", "dropout": 0.0},
    "data": copy.deepcopy(SEED000["data"]),
    "run": {**copy.deepcopy(SEED000["run"]), "encoder_weights": None},
    "train": copy.deepcopy(SEED000["train"]),
    "stages": [
        {
            "name": "bce",
            "loss": "bce",
            "epochs": 20,
            "learning_rate": 0.003,
            "exclude_coverage_below": None,
            "plateau": None,
            "early_stopping_patience": None,
            "schedule": {"kind": "one_cycle", "pct_start": 0.3},
        },
        {
            "name": "lovasz",
            "loss": "lovasz_hinge",
            "epochs": 60,
            "learning_rate": 0.001,
            "exclude_coverage_below": None,
            "plateau": None,
            "early_stopping_patience": None,
            "schedule": {
                "kind": "cosine_cycles",
                "cycles": 4,
                "min_lr_factor": 0.01,
                "snapshots": 3,
            },
        },
    ],
    "eval": copy.deepcopy(SEED000["eval"]),
}

PROFILES_SEED002: dict[str, dict[str, Any]] = {
    # Seconds: a tiny ResNet34 U-Net (base_width 4), two cycles of one epoch, both snapshots averaged.
    "smoke": {
        "model.base_width": 4,
        "data.synthetic": {"n_train": 40, "n_test": 8, "seed": 0},
        "data.num_folds": 2,
        "train.batch_size": 8,
        "stages.bce.epochs": 1,
        "stages.lovasz.epochs": 2,
        "stages.lovasz.schedule.cycles": 2,
        "stages.lovasz.schedule.snapshots": 2,
        "eval.thresholds.num": 9,
    },
    # Both frameworks in about 10 minutes on a 2-core CPU: base_width 16 (1.4 M parameters instead
    # of 22 M), 600 synthetic tiles, 4 BCE epochs then 3 cosine cycles of 2 epochs, last 2 averaged.
    "quick": {
        "model.base_width": 16,
        "data.synthetic": {"n_train": 600, "n_test": 100, "seed": 0},
        "train.batch_size": 16,
        "stages.bce.epochs": 4,
        "stages.lovasz.epochs": 6,
        "stages.lovasz.schedule.cycles": 3,
        "stages.lovasz.schedule.snapshots": 2,
    },
    # The seed's own size (for GPU machines): the real ResNet34 width, 20 + 60 epochs, all folds.
    "full": {"run.folds": [0, 1, 2, 3, 4]},
}
