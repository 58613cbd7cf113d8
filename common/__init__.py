"""saltbench's framework-free core: data, RLE, metric, folds, spec, weights, results, CLI.

Nothing in this package imports keras, tensorflow or torch at module level.
"""
