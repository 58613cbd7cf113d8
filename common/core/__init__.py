"""The framework-free core: data and its Kaggle layout, RLE, the metric, folds, atomic io, memory and CPU/device probing."""
