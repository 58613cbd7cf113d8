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
        exact = reference.get("logits_float64")
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
        **differences(got, expected, exact),
        "saltbench_modules": sorted(m for m in sys.modules if m.split(".")[0] in SALTBENCH),
    }


def differences(got, expected, exact) -> dict:
    """Largest |Δ| of the file's logits from saltbench's (float32) and from the float64 function,
    and saltbench's own distance from float64 (its round-off). Written out here as in the other
    check: neither check may import saltbench code to compute its verdict."""
    import numpy as np

    same = got.shape == expected.shape
    return {
        "shape_ok": same,
        "max_abs_diff": float(np.abs(got - expected).max()) if same else None,
        "max_abs_diff_float64": float(np.abs(got - exact).max())
        if same and exact is not None
        else None,
        "saltbench_diff_float64": float(np.abs(expected - exact).max())
        if exact is not None
        else None,
    }


if __name__ == "__main__":
    sys.meta_path.insert(0, RefuseSaltbench())
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
