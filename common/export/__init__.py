"""`saltbench export`: a finished run's best models in each framework's own format and as ONNX,
each checked by loading it in a fresh process that has only that format's loader."""
