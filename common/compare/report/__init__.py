"""A run's report: the Answer, the tables, plots and the leaderboard."""
