"""The same-folds comparison harness behind `saltbench compare`, `predict` and `report`."""
