"""Every recipe key: what it may hold, and which module reads it.

`check_recipe` walks every leaf of a resolved recipe before anything is written or trained: a key
missing from SCHEMA is refused (nothing would read it), a value outside its rule is refused in one
line naming the key, the value and what is allowed. `readers` names the module whose code consumes
the key; tests/recipes/test_schema.py checks that each one does, so a key that nothing reads
cannot stay in a recipe.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.core.device import DEVICES, PRECISIONS
from common.core.errors import SaltbenchError
from common.models.losses_ref import LOSS_NAMES

STAGE = "stages.*"  # a stage's keys, whatever its name
OPAQUE = ("data.synthetic", f"{STAGE}.schedule", f"{STAGE}.plateau")  # checked as a whole
TTA = ("hflip", "none")
BACKENDS = ("tensorflow", "torch", "jax")
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Rule:
    """What a key may hold (`ok`, in words `allowed`) and the module that reads it."""

    ok: Callable[[Any], bool]
    allowed: str
    reader: str


def _int(low: int, none: bool = False) -> tuple[Callable[[Any], bool], str]:
    def ok(v):
        return (none and v is None) or (isinstance(v, int) and not isinstance(v, bool) and v >= low)

    return ok, f"an integer >= {low}" + (" or null" if none else "")


def _number(low: float, high: float, low_open: bool = True, none: bool = False):
    def ok(v):
        if none and v is None:
            return True
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            return False
        return (low < v if low_open else low <= v) and v < high

    bracket = "(" if low_open else "["
    return ok, f"a number in {bracket}{low:g}, {high:g})" + (" or null" if none else "")


def _choice(*values: Any):
    return (lambda v: v in values), "one of " + ", ".join(map(str, values))


def _bool():
    return (lambda v: isinstance(v, bool)), "true or false"


def _subjects(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(s, str) for s in v)


def _rule(kind: tuple, reader: str) -> Rule:
    return Rule(kind[0], kind[1], reader)


def _plateau(v: Any) -> bool:
    if v is None:
        return True
    return (isinstance(v, dict) and set(v) == {"factor", "patience", "min_lr"}
            and _number(0, 1)[0](v["factor"]) and _int(1)[0](v["patience"])
            and _number(0, 1, low_open=False)[0](v["min_lr"]))  # fmt: skip


def _synthetic(v: Any) -> bool:
    return (isinstance(v, dict) and set(v) == {"n_train", "n_test", "seed"}
            and _int(2)[0](v["n_train"]) and _int(1)[0](v["n_test"]) and _int(0)[0](v["seed"]))  # fmt: skip


def _targets(v: Any) -> bool:
    return isinstance(v, list) and all(_number(0, 1.0000001)[0](t) for t in v)


def _seeds(v: Any) -> bool:
    return (isinstance(v, list) and bool(v) and len(set(map(str, v))) == len(v)
            and all(_int(0)[0](s) for s in v))  # fmt: skip


def _real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


SCHEMA: dict[str, Rule] = {
    "recipe": Rule(
        lambda v: isinstance(v, str), "a recipe name", "common.compare.report.leaderboard"
    ),
    "profile": Rule(
        lambda v: isinstance(v, str), "a profile name", "common.compare.report.leaderboard"
    ),
    # model: the spec's own checks run on the whole section (check_model), these are its fields
    "model.name": Rule(
        lambda v: isinstance(v, str), "a registered model", "common.recipes.resolve"
    ),
    "data.synthetic": Rule(
        _synthetic, "{n_train >= 2, n_test >= 1, seed >= 0}", "common.runs.dataset"
    ),  # fmt: skip
    "data.limit_train": _rule(_int(1, none=True), "common.runs.dataset"),
    "data.limit_test": _rule(_int(1, none=True), "common.runs.dataset"),
    "data.num_folds": _rule(_int(2), "common.runs.dataset"),
    "data.fold_seed": _rule(_int(0), "common.runs.dataset"),
    "run.folds": Rule(
        lambda v: isinstance(v, list) and bool(v),
        "a list of fold indices",
        "common.runs.rundir",
    ),  # fmt: skip
    "run.seeds": Rule(_seeds, "a list of distinct integers >= 0", "common.runs.rundir"),
    "run.keras_backend": _rule(_choice(*BACKENDS), "common.compare.run.orchestrate"),
    "run.subjects": Rule(_subjects, "a list of subject names", "common.subjects.selection"),
    "run.reference": Rule(
        lambda v: isinstance(v, str), "a subject name", "common.subjects.selection"
    ),  # fmt: skip
    "run.init_from": _rule(_choice("torch", "keras"), "common.compare.run.orchestrate"),
    "run.executor": _rule(_choice(*EXECUTORS), "common.compare.run.orchestrate"),
    "run.device": _rule(_choice(*DEVICES), "common.core.device"),
    "run.tf32": _rule(_bool(), "common.core.device"),
    "run.cudnn_benchmark": _rule(_bool(), "common.core.device"),
    "run.encoder_weights": Rule(
        lambda v: v is None or isinstance(v, str),
        "a file path or null",
        "common.compare.run.worker",
    ),  # fmt: skip
    "train.seed": _rule(_int(0), "common.runs.rundir"),
    "train.batch_size": _rule(_int(1), "common.compare.unit.fold"),
    "train.hflip": _rule(_bool(), "common.compare.unit.fold"),
    "train.channels_last": _rule(_bool(), "common.models.execution"),
    "train.precision": _rule(_choice(*PRECISIONS), "common.core.device"),
    "train.exact_twins": _rule(_bool(), "common.runs.twin_process"),
    f"{STAGE}.name": Rule(
        lambda v: isinstance(v, str) and bool(v), "a name", "common.compare.unit.fold"
    ),
    f"{STAGE}.loss": _rule(_choice(*LOSS_NAMES), "common.compare.unit.fold"),
    f"{STAGE}.epochs": _rule(_int(0), "common.compare.unit.fold"),
    f"{STAGE}.learning_rate": _rule(_number(0, float("inf")), "common.compare.unit.epoch_loop"),
    f"{STAGE}.exclude_coverage_below": _rule(
        _number(0, 1, low_open=False, none=True), "common.compare.unit.fold"
    ),  # fmt: skip
    f"{STAGE}.plateau": Rule(
        _plateau,
        "null or {factor in (0, 1), patience >= 1, min_lr in [0, 1)}",
        "common.compare.unit.epoch_control",
    ),  # fmt: skip
    f"{STAGE}.early_stopping_patience": _rule(
        _int(1, none=True), "common.compare.unit.epoch_control"
    ),
    f"{STAGE}.schedule": Rule(
        lambda v: True, "see common/models/schedules.py", "common.models.schedules"
    ),
    "eval.tta": _rule(_choice(*TTA), "common.compare.unit.evaluate"),
    "eval.thresholds.start": Rule(_real, "a number", "common.recipes.resolve"),
    "eval.thresholds.stop": Rule(_real, "a number", "common.recipes.resolve"),
    "eval.thresholds.num": _rule(_int(1), "common.recipes.resolve"),
    "eval.min_area": Rule(lambda v: True, 'pixels >= 0 or "search"', "common.core.postprocess"),
    "eval.batch_size": _rule(_int(1), "common.compare.unit.evaluate"),
    "eval.targets": Rule(_targets, "a list of scores in (0, 1]", "common.compare.unit.evaluate"),
    "eval.equivalence_margin": _rule(_number(0, 1), "common.compare.analysis.uncertainty"),
    "eval.speed_margin": _rule(_number(0, 1), "common.compare.analysis.uncertainty"),
    "eval.noise_floor": _rule(_bool(), "common.compare.unit.drift"),
}


def leaves(recipe: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(schema key, the key as a user writes it, value) of every leaf; stages by name, model
    fields left to check_model."""
    out: list[tuple[str, str, Any]] = []

    def walk(node: Any, schema: str, shown: str) -> None:
        if schema in OPAQUE or not isinstance(node, dict) or not node:
            out.append((schema, shown, node))
            return
        for key, value in node.items():
            walk(value, f"{schema}.{key}" if schema else key, f"{shown}.{key}" if shown else key)

    for key, value in recipe.items():
        if key == "stages":
            for stage in value:
                walk(stage, STAGE, f"stages.{stage.get('name', '?')}")
        elif key == "model":
            out.append(("model.name", "model.name", value.get("name")))
        else:
            walk(value, key, key)
    return out


def check_recipe(recipe: dict[str, Any]) -> None:
    """One SaltbenchError, naming the key, the value and what is allowed, at the first bad leaf."""
    for schema, shown, value in leaves(recipe):
        rule = SCHEMA.get(schema)
        if rule is None:
            raise SaltbenchError(f"recipe key {shown}: nothing reads it; remove it")
        if not rule.ok(value):
            raise SaltbenchError(f"recipe key {shown} = {value!r}: must be {rule.allowed}")
    check_model(recipe)


def check_model(recipe: dict[str, Any]) -> None:
    """The model section builds its spec (every field known and in range), as the worker will."""
    from common.models.spec import spec_from_dict

    model = dict(recipe["model"])
    try:
        spec_from_dict({"model": model.pop("name"), **model})
    except (TypeError, ValueError, SaltbenchError) as err:
        raise SaltbenchError(f"recipe key model: {err}") from None
