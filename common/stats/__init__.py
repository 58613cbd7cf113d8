"""Statistics of a comparison: intervals, the two levels of replication, the claims family, verdict rules."""
