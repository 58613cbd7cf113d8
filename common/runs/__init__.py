"""A run on disk and its worker processes, shared by every runner: the run folder, unit state files, the data a run trains on, and the worker frame."""
