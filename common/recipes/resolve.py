"""Training recipes: resolve a base recipe and profile (common/recipes/catalog.py), apply dotted-key
overrides, validate."""

from __future__ import annotations

import copy
import json
from typing import Any

from common.core.errors import SaltbenchError
from common.recipes.catalog import DEFAULT_PROFILE, DEFAULT_RECIPE, RECIPES

# An older spelling of a recipe key -> today's (a subject was once called a framework).
OLD_KEYS = {"run.frameworks": "run.subjects"}


def recipe_names() -> list[str]:
    return sorted(RECIPES)


def profile_names(recipe: str) -> list[str]:
    return list(_lookup(recipe)[1])


def resolve_recipe(
    recipe: str = DEFAULT_RECIPE,
    profile: str = DEFAULT_PROFILE,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The base recipe with the profile's overrides, then the caller's, applied; a fresh, JSON-able dict."""
    base, profiles = _lookup(recipe)
    if profile not in profiles:
        raise SaltbenchError(
            f"recipe {recipe!r} has no profile {profile!r}; choose from {', '.join(profiles)}"
        )
    resolved = copy.deepcopy(base)
    for key, value in {**profiles[profile], **(overrides or {})}.items():
        set_by_path(resolved, OLD_KEYS.get(key, key), copy.deepcopy(value))
    resolved["recipe"] = recipe
    resolved["profile"] = profile
    if resolved["run"].get("seeds") is None:
        resolved["run"]["seeds"] = [resolved["train"]["seed"]]
    validate_recipe(resolved)
    return resolved


def _lookup(recipe: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    if recipe not in RECIPES:
        raise SaltbenchError(f"unknown recipe {recipe!r}; choose from {', '.join(recipe_names())}")
    return RECIPES[recipe]


def parse_override(text: str) -> tuple[str, Any]:
    """'stages.bce.epochs=3' -> ('stages.bce.epochs', 3); values are JSON when they parse, else strings."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise SaltbenchError(f"--set expects KEY=VALUE (e.g. stages.bce.epochs=3), got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def set_by_path(tree: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path; list items are addressed by index or by their 'name' (stages.lovasz.epochs)."""
    parts = path.split(".")
    node: Any = tree
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            index = _list_index(node, part, path)
            if last:
                node[index] = value
            node = node[index]
        elif isinstance(node, dict):
            if part not in node and not (last and depth == 1 and parts[0] == "model"):
                known = ", ".join(sorted(node))
                raise SaltbenchError(
                    f"unknown recipe key {path!r} ({part!r} is not one of: {known})"
                )
            if last:
                node[part] = value
            node = node[part]
        else:
            raise SaltbenchError(
                f"unknown recipe key {path!r}: {parts[depth - 1]!r} has no sub-keys"
            )


def get_by_path(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[_list_index(node, part, path)] if isinstance(node, list) else node[part]
    return node


def _list_index(items: list[Any], part: str, path: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if -len(items) <= index < len(items):
            return index
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return index
    raise SaltbenchError(f"unknown recipe key {path!r}: no list item {part!r}")


def validate_recipe(recipe: dict[str, Any]) -> None:
    """Refuse values that cannot train, in one line naming the key: every leaf against its rule
    (common.recipes.schema), then the checks that need several keys at once."""
    from common.models.schedules import validate_schedule
    from common.recipes.schema import check_recipe

    check_recipe(recipe)

    for stage in recipe["stages"]:
        validate_schedule(stage)
    from common.core.postprocess import area_grid

    area_grid(recipe)  # eval.min_area: a number of pixels or "search"
    from common.core.device import numerics, validate

    validate(numerics(recipe))
    folds = recipe["run"]["folds"]
    if not folds or any(not 0 <= f < recipe["data"]["num_folds"] for f in folds):
        raise SaltbenchError(
            f"run.folds {folds} must name folds 0..{recipe['data']['num_folds'] - 1}"
        )


def threshold_grid(recipe: dict[str, Any]):
    """The logit thresholds searched on validation."""
    import numpy as np

    spec = recipe["eval"]["thresholds"]
    return np.linspace(float(spec["start"]), float(spec["stop"]), int(spec["num"]))


def build_spec(recipe: dict[str, Any]):
    """The model spec named by the recipe's model section, through the spec registry."""
    from common.models.spec import spec_from_dict

    model = dict(recipe["model"])
    if recipe.get("train", {}).get("exact_twins"):
        if model["name"] != "resunet":
            raise SaltbenchError(
                f"train.exact_twins supports model resunet, not {model['name']!r} (its shared "
                "dropout masks are written for the ResUNet's dropout layers)"
            )
        model["dropout_masks"] = "shared"
    return spec_from_dict({"model": model.pop("name"), **model})
