"""Run an exported ONNX file with plain ONNX Runtime, in a process that cannot import saltbench.

`python -I onnx_check.py MODEL.onnx REFERENCE.npz`: prints one JSON line with the largest
absolute difference between this file's logits and the reference logits (saltbench's own
prediction path, same weights, same tiles). Imports numpy and onnxruntime only; importing any
saltbench package is refused, and the JSON says which modules were loaded.
"""

from __future__ import annotations

import importlib.abc
import json
import sys

SALTBENCH = ("common", "keras_impl", "torch_impl", "benchmarks")


class RefuseSaltbench(importlib.abc.MetaPathFinder):
    """An import of a saltbench package fails here, so a pass cannot lean on saltbench code."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in SALTBENCH:
            raise ImportError(f"{name}: saltbench is not available to the ONNX check")
        return None


def main(model_path: str, reference_path: str) -> dict:
    import numpy as np
    import onnxruntime as ort

    with np.load(reference_path) as reference:
        images, expected = reference["images"], reference["logits"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name
    got = np.concatenate(
        [session.run(None, {feed: images[i : i + 32]})[0] for i in range(0, len(images), 32)]
    )
    return {
        "loader": f"onnxruntime {ort.__version__}",
        "tiles": int(len(images)),
        "shape_ok": list(got.shape) == list(expected.shape),
        "max_abs_diff": float(np.abs(got - expected).max())
        if got.shape == expected.shape
        else None,
        "saltbench_modules": sorted(m for m in sys.modules if m.split(".")[0] in SALTBENCH),
    }


if __name__ == "__main__":
    sys.meta_path.insert(0, RefuseSaltbench())
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
