"""common.recipes.resolve: recipes are data, profiles are overrides, every value can be overridden by dotted key."""

import json

import pytest

from common.core.errors import SaltbenchError
from common.recipes.resolve import (
    RECIPES,
    parse_override,
    profile_names,
    resolve_recipe,
    threshold_grid,
)


def test_seed000_full_profile_keeps_the_seed_settings():
    r = resolve_recipe("seed000", "full")
    assert (r["model"]["name"], r["model"]["start_neurons"], r["model"]["dropout"]) == (
        "resunet",
        16,
        0.25,
    )
    assert r["train"]["batch_size"] == 32
    bce, lovasz = r["stages"]
    assert (bce["loss"], bce["epochs"], bce["exclude_coverage_below"]) == ("bce", 100, 0.015)
    assert (lovasz["loss"], lovasz["epochs"], lovasz["exclude_coverage_below"]) == (
        "lovasz_hinge",
        120,
        None,
    )
    assert bce["plateau"]["factor"] < 1
    json.dumps(r)  # JSON-able: it goes into config.json


def test_profiles_differ_and_resolving_does_not_mutate_the_registry():
    assert {"smoke", "quick", "full"} <= set(profile_names("seed000"))
    before = json.dumps(RECIPES["seed000"][0], sort_keys=True)
    smoke = resolve_recipe("seed000", "smoke")
    smoke["stages"][0]["epochs"] = 999
    assert json.dumps(RECIPES["seed000"][0], sort_keys=True) == before
    assert resolve_recipe("seed000", "smoke")["model"]["start_neurons"] < 16


def test_overrides_by_name_index_and_json_values():
    r = resolve_recipe(
        "seed000",
        "quick",
        dict(
            [
                parse_override("stages.lovasz.epochs=3"),
                parse_override("stages.0.learning_rate=0.5"),
                parse_override("run.folds=[0,2]"),
                parse_override("stages.bce.loss=bce_lovasz"),
            ]
        ),
    )
    assert r["stages"][1]["epochs"] == 3 and r["stages"][0]["learning_rate"] == 0.5
    assert r["run"]["folds"] == [0, 2] and r["stages"][0]["loss"] == "bce_lovasz"


def test_seeds_default_to_one_repeat_with_the_train_seed():
    assert resolve_recipe("seed000", "smoke")["run"]["seeds"] == [0]
    assert resolve_recipe("seed000", "smoke", {"train.seed": 5})["run"]["seeds"] == [5]
    assert resolve_recipe("seed002", "smoke", {"run.seeds": [0, 1]})["run"]["seeds"] == [0, 1]


def test_run_units_cross_folds_and_seeds():
    from common.runs.rundir import run_units

    config = {"folds": [0, 1], "seeds": [3, 4], "recipe": resolve_recipe("seed000", "smoke")}
    assert run_units(config) == [(0, 3), (1, 3), (0, 4), (1, 4)]


@pytest.mark.parametrize(
    "override, message",
    [
        ({"stages.nope.epochs": 1}, "no list item"),
        ({"train.batchsize": 1}, "unknown recipe key"),
        ({"train.batch_size": 0}, "train.batch_size"),
        ({"run.folds": [7]}, "run.folds"),
        ({"run.seeds": [1, 1]}, "run.seeds"),
        ({"run.seeds": []}, "run.seeds"),
        ({"run.seeds": "0"}, "run.seeds"),
    ],
)
def test_bad_overrides_are_one_line_errors(override, message):
    with pytest.raises(SaltbenchError, match=message):
        resolve_recipe("seed000", "quick", override)


def test_unknown_names_and_malformed_set():
    with pytest.raises(SaltbenchError, match="unknown recipe"):
        resolve_recipe("seed999", "quick")
    with pytest.raises(SaltbenchError, match="no profile"):
        resolve_recipe("seed000", "huge")
    with pytest.raises(SaltbenchError, match="KEY=VALUE"):
        parse_override("epochs")
    assert parse_override("model.name=resunet") == ("model.name", "resunet")


def test_model_overrides_may_name_any_spec_field():
    r = resolve_recipe("seed000", "quick", {"model.se_reduction": 4, "model.attention": "scse"})
    assert r["model"]["se_reduction"] == 4 and r["model"]["attention"] == "scse"
    with pytest.raises(SaltbenchError, match="unknown recipe key"):
        resolve_recipe("seed000", "quick", {"model.extra.deep": 1})


def test_threshold_grid_contains_zero():
    grid = threshold_grid(resolve_recipe("seed000", "quick"))
    assert grid.min() < 0 < grid.max() and 0.0 in grid.round(6)
