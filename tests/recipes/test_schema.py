"""Every recipe key is read or refused (common/recipes/schema.py): each leaf of every recipe and
profile has a rule and a reader whose code reads it, and bad values fail in one line, fast,
before any run folder exists."""

from __future__ import annotations

import copy
import importlib.util
import re
import time
from pathlib import Path

import pytest

from common.cli import main
from common.core.errors import SaltbenchError
from common.recipes.catalog import RECIPES
from common.recipes.resolve import resolve_recipe
from common.recipes.schema import SCHEMA, check_recipe, leaves

ALL = [(r, p) for r, (_, profiles) in RECIPES.items() for p in profiles]


@pytest.mark.parametrize(("recipe", "profile"), ALL)
def test_every_leaf_of_every_recipe_and_profile_has_a_rule(recipe, profile):
    resolved = resolve_recipe(recipe, profile)  # runs check_recipe
    assert all(schema in SCHEMA for schema, _, _ in leaves(resolved))


def test_every_rule_names_a_reader_whose_code_reads_the_key():
    """The reader's source names the key's last part and its section as string literals."""
    for key, rule in SCHEMA.items():
        source = Path(importlib.util.find_spec(rule.reader).origin).read_text()
        parts = key.split(".")
        wanted = [parts[-1]] + ([parts[-2]] if len(parts) > 1 and parts[-2] != "*" else [])
        for part in wanted:
            assert re.search(rf"[\"']{part}[\"']", source), f"{rule.reader} never reads {key}"


def test_every_rule_is_used_by_some_recipe():
    used = {s for r, p in ALL for s, _, _ in leaves(resolve_recipe(r, p))}
    assert set(SCHEMA) == used, set(SCHEMA) ^ used


def test_a_key_nothing_reads_is_refused():
    recipe = copy.deepcopy(resolve_recipe("seed000", "smoke"))
    recipe["train"]["optimizer"] = "sgd"  # no twin reads it: both train with Adam
    with pytest.raises(SaltbenchError, match="train.optimizer: nothing reads it"):
        check_recipe(recipe)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "train.optimizer=sgd"], "unknown recipe key 'train.optimizer'"),
        (["--set", "stages.lovasz.loss=lovasz_hing"], "stages.lovasz.loss = 'lovasz_hing'"),
        (["--set", "eval.equivalence_margin=x"], "eval.equivalence_margin = 'x'"),
        (["--set", "eval.speed_margin=1.5"], "eval.speed_margin = 1.5: must be a number in"),
        (["--set", "train.hflip=1"], "train.hflip = 1: must be true or false"),
        (["--set", "eval.tta=vflip"], "eval.tta = 'vflip': must be one of hflip, none"),
        (["--set", "model.activation=gelu"], "activation 'gelu'"),
        (["--frameworks", "torch,pytorch"], "unknown subject 'pytorch'"),
    ],
)
def test_bad_settings_fail_fast_in_one_line_and_write_nothing(argv, message, tmp_path, capsys):
    out = tmp_path / "results"
    started = time.perf_counter()
    assert main(["compare", "--profile", "smoke", "--out", str(out), *argv]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err.strip()
    assert err.startswith("saltbench: error:") and message in err and "\n" not in err
    assert not out.exists()  # no run folder, no leaderboard
