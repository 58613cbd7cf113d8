"""The same-folds comparison behind `saltbench compare`, `predict` and `report` (the compare runner)."""
