"""One bench run: its config, one pytest-benchmark process per backend taking turns, the merged results."""
