"""`saltbench parity`: both twins built from one spec, weights ported, outputs and counts compared."""
