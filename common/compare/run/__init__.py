"""Running a comparison: the run folder, worker processes and their schedule, local or on Ray."""
