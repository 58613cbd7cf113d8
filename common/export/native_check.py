"""Load an exported native model file with only its twin's module, in a fresh process.

`python -I native_check.py keras|torch MODEL REFERENCE.npz`: `.keras` through
`keras.saving.load_model` (keras_impl registers the custom layers), a torch file through
`torch_impl.weights.load_model` (the spec and state_dict it holds). Prints one JSON line with
the largest absolute difference from the reference logits. The harness, the bench and the other
twin cannot be imported here, and the JSON lists which saltbench modules were loaded.
"""

from __future__ import annotations

import importlib.abc
import json
import sys

OTHER_TWIN = {"keras": "torch_impl", "torch": "keras_impl"}
RUNNERS = ("common.compare", "common.bench", "common.commands", "common.export", "benchmarks")


class RefuseRunners(importlib.abc.MetaPathFinder):
    """Imports of saltbench's runners or the other twin fail: only the twin itself may load."""

    def __init__(self, framework: str) -> None:
        self.refused = (*RUNNERS, OTHER_TWIN[framework])

    def find_spec(self, name, path=None, target=None):
        if any(name == r or name.startswith(f"{r}.") for r in self.refused):
            raise ImportError(f"{name}: not available to a native-file check")
        return None


def keras_logits(model_path: str, images):
    import keras

    import keras_impl.layers  # noqa: F401  (registers the twin's custom layers)

    model = keras.saving.load_model(model_path, compile=False)
    return keras.ops.convert_to_numpy(model.predict(images, batch_size=32, verbose=0)), (
        f"keras {keras.__version__} ({keras.backend.backend()}) keras.saving.load_model"
    )


def torch_logits(model_path: str, images):
    import torch

    from torch_impl.weights import load_model

    model = load_model(model_path).eval()
    with torch.no_grad():
        nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
        out = torch.cat([model(nchw[i : i + 32]) for i in range(0, len(nchw), 32)])
    return out.permute(
        0, 2, 3, 1
    ).numpy(), f"torch {torch.__version__} torch_impl.weights.load_model"


def main(framework: str, model_path: str, reference_path: str) -> dict:
    import numpy as np

    with np.load(reference_path) as reference:
        images, expected = reference["images"], reference["logits"]
        exact = reference.get("logits_float64")
    got, loader = (keras_logits if framework == "keras" else torch_logits)(model_path, images)
    return {
        "loader": loader,
        "tiles": int(len(images)),
        **differences(got, expected, exact),
        "saltbench_modules": sorted(
            m for m in sys.modules if m.split(".")[0] in ("common", "keras_impl", "torch_impl")
        ),
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
    sys.meta_path.insert(0, RefuseRunners(sys.argv[1]))
    print(json.dumps(main(*sys.argv[1:4])))
