"""A run made before the one vocabulary (its subjects under `frameworks`) reads with today's keys."""

from __future__ import annotations

import json

from common.runs import rundir


def test_an_older_run_reads_with_todays_keys(tmp_path):
    old = {"frameworks": ["keras", "torch"], "recipe": {"run": {"frameworks": ["keras", "torch"]}}}
    (tmp_path / rundir.CONFIG).write_text(json.dumps(old))
    (tmp_path / rundir.METRICS).write_text(json.dumps({"frameworks": {"torch": {"oof": 0.5}}}))
    config = rundir.load_config(tmp_path)
    assert config["subjects"] == config["recipe"]["run"]["subjects"] == ["keras", "torch"]
    assert "frameworks" not in config and "frameworks" not in config["recipe"]["run"]
    assert rundir.load_metrics(tmp_path) == {"subjects": {"torch": {"oof": 0.5}}}


def test_todays_keys_are_kept_and_a_level_named_frameworks_is_untouched(tmp_path):
    """Only the top level is renamed: a pair's `frameworks` (the level over training runs) stays."""
    metrics = {"subjects": {"torch": {}}, "pairs": {"keras": {"frameworks": {"line": "x"}}}}
    (tmp_path / rundir.METRICS).write_text(json.dumps(metrics))
    assert rundir.load_metrics(tmp_path) == metrics


def test_the_older_recipe_key_still_sets_the_subjects():
    from common.recipes.resolve import resolve_recipe

    recipe = resolve_recipe(overrides={"run.frameworks": ["torch"]})
    assert recipe["run"]["subjects"] == ["torch"] and "frameworks" not in recipe["run"]
