"""The recipes themselves, as data: each base recipe and its profiles (overrides by dotted key),
one module per recipe (seed000.py, seed002.py), registered here.

common/recipes/resolve.py resolves, overrides and validates them."""

from __future__ import annotations

from typing import Any

from common.recipes.seed000 import PROFILES_SEED000, SEED000
from common.recipes.seed002 import PROFILES_SEED002, SEED002

# Registry: recipe name -> (base recipe, profiles). A new recipe is one entry here.
RECIPES: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    "seed000": (SEED000, PROFILES_SEED000),
    "seed002": (SEED002, PROFILES_SEED002),
}
DEFAULT_RECIPE = "seed000"
DEFAULT_PROFILE = "quick"
