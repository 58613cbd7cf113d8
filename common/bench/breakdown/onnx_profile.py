"""The ONNX Runtime rows' breakdown: the same session options with ONNX Runtime's own profiler on
(a second session of the same file, swapped in for the profiled calls), its node events summed by
ONNX operator type into the shared classes.

ONNX Runtime fuses on CPU: `FusedConv` (a convolution with its activation or add) is a
convolution, its dominant op; the NCHWc layout transform's `ReorderInput`/`ReorderOutput` are
layout and copies. Batch norm is usually folded into the convolution's weights at load time, so
its time appears under convolution forward.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from common.bench.breakdown.accounting import timed_calls

ONNX_OPS: dict[str, str] = {
    "Conv": "conv_fwd",
    "FusedConv": "conv_fwd",
    "NhwcFusedConv": "conv_fwd",
    "ConvTranspose": "tconv_fwd",
    "BatchNormalization": "batchnorm",
    "Relu": "activation",
    "Sigmoid": "activation",
    "Tanh": "activation",
    "Softplus": "activation",
    "MaxPool": "pooling",
    "GlobalAveragePool": "pooling",
    "ReduceMean": "pooling",
    "Concat": "elementwise",
    "Add": "elementwise",
    "Sum": "elementwise",
    "Mul": "elementwise",
    "Sub": "elementwise",
    "Div": "elementwise",
    "Dropout": "dropout",
    "Transpose": "layout",
    "Reshape": "layout",
    "Cast": "layout",
    "Identity": "layout",
    "Slice": "layout",
    "Pad": "layout",
    "ReorderInput": "layout",
    "ReorderOutput": "layout",
    "MemcpyToHost": "layout",
    "MemcpyFromHost": "layout",
}


def classify(op_type: str) -> str:
    return ONNX_OPS.get(op_type, "other")


def profile_onnx(fn: Callable[[], object], steps: int, model) -> tuple[dict[str, float], float]:
    """(op ms per class, wall ms) of `steps` calls of `fn` while `model` (an OnnxModel) runs a
    profiling session of its own file with its own options."""
    import onnxruntime as ort

    from common.models.onnx_export import session_options

    with tempfile.TemporaryDirectory(prefix="saltbench-ort-") as folder:
        threads = model.session.get_session_options().intra_op_num_threads
        options = session_options(threads)  # a copy: the timed session stays as it was
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(folder) / "ort")
        plain = model.session
        model.session = ort.InferenceSession(
            str(model.path), options, providers=plain.get_providers()
        )
        try:
            fn()  # the profiled session's own first call stays out of the steps
            wall_ms = timed_calls(fn, steps)
            events = json.loads(Path(model.session.end_profiling()).read_text())
        finally:
            model.session = plain
    return node_totals(events, steps), wall_ms


def node_totals(events: list[dict], steps: int) -> dict[str, float]:
    """ms per class of the kernel events of the last `steps` runs (the first run is left out)."""
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    first_end = (runs[0]["ts"] + runs[0]["dur"]) if len(runs) > steps else float("-inf")
    totals: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        if event["ts"] < first_end:
            continue
        totals[classify(event.get("args", {}).get("op_name", ""))] += event["dur"] / 1e3
    return dict(totals)
