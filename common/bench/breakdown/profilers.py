"""Profile a few steps of one variant with its framework's own profiler and total the op time per
operation class: torch.profiler (the PyTorch twin, Keras on torch); the TensorFlow profiler read
back through xprof's framework op stats (Keras on TF); for an XLA-compiled step (Keras on JAX, Keras
on TF with jit_compile) the framework profiler's trace read back through xprof, its XLA
instructions named by the compiled module XLA dumped; ONNX Runtime's own profiler for the ONNX
rows (onnx_profile.py)."""

from __future__ import annotations

import glob
import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from pathlib import Path

from common.bench.breakdown.accounting import timed_calls
from common.subjects.table import Variant

XLA_DUMP_ENV = "SALTBENCH_XLA_DUMP"  # where a JAX process's XLA dumps its compiled modules
PROFILERS = {"torch": "torch.profiler", "tensorflow": "tensorflow+xprof", "jax": "jax+xprof"}


def profiler_for(variant: Variant) -> str | None:
    """The profiler that serves the variant."""
    if variant.runtime == "onnxruntime":
        return "onnxruntime"
    xla = variant.jit_compile and variant.backend == "tensorflow"
    return PROFILERS[variant.backend] + (" (XLA)" if xla else "")


def missing_reader(variant: Variant) -> str | None:
    """Why a TF or JAX profile cannot be read here (xprof not installed), else None."""
    import importlib.util

    needs_xprof = variant.runtime != "onnxruntime" and "xprof" in PROFILERS[variant.backend]
    if needs_xprof and importlib.util.find_spec("xprof") is None:
        return "xprof is not installed: pip install 'saltbench[profile]'"
    return None


def xla_dump_flags(folder: str) -> str:
    """XLA_FLAGS that dump the optimized HLO text of Keras's step functions into `folder` (JAX:
    train_step, predict_step; TF with jit_compile: one_step_on_data)."""
    return (
        f"--xla_dump_to={folder} --xla_dump_hlo_as_text "
        "--xla_dump_hlo_module_re=.*(train_step|predict_step|one_step_on_data).*"
    )


def profile_steps(
    variant: Variant, fn: Callable[[], object], steps: int, spec, trainer=None
) -> tuple[dict[str, float], float]:
    """(op ms per class over `steps` calls of `fn`, their wall ms) under the variant's profiler;
    `trainer`: the runner's trainer (Keras on torch: its model's layers get profiler scopes;
    ONNX Runtime: the OnnxModel whose session is profiled)."""
    if variant.runtime == "onnxruntime":
        from common.bench.breakdown.onnx_profile import profile_onnx

        return profile_onnx(fn, steps, trainer)
    layer_kinds = {layer.name: layer.kind for layer in spec.layers()}
    profiler = profiler_for(variant)
    if profiler == PROFILERS["torch"]:  # the PyTorch twin, or Keras on torch (layer scopes)
        scopes = keras_layer_scopes(trainer.model) if variant.keras_backend else nullcontext()
        with scopes:
            return _profile_torch(fn, steps, layer_kinds)
    if profiler == PROFILERS["tensorflow"]:
        return _profile_tensorflow(fn, steps, layer_kinds)
    return _profile_xla(fn, steps, layer_kinds, spec, variant.backend)  # JAX, or TF with XLA


def _profile_torch(fn, steps: int, layer_kinds) -> tuple[dict[str, float], float]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        wall_ms = timed_calls(fn, steps)
    totals: dict[str, float] = defaultdict(float)
    events = prof.events()
    transposed = transposed_sequence_numbers(events)
    for event in events:
        if event.name.startswith(SCOPE):  # not an op: its own time is the layer's Python
            totals[KERAS_PYTHON] += event.self_cpu_time_total / 1e3
        elif not _inside_an_op(event):  # an op inside an op is counted by the outer one
            totals[_classify_torch_event(event, layer_kinds, transposed)] += (
                event.cpu_time_total / 1e3
            )
    return dict(totals), wall_ms


SCOPE = "saltbench_layer::"  # record_function scopes around Keras layers (keras_layer_scopes)
KERAS_PYTHON = "keras_layer_python"  # time inside Keras layer calls outside any op: not a class


def _inside_an_op(event) -> bool:
    parent = event.cpu_parent
    return parent is not None and not parent.name.startswith(SCOPE)


def _classify_torch_event(event, layer_kinds, transposed: set[int]) -> str:
    """The op's class by its name; inside a Keras layer scope (forward only), by the layer's kind
    (layout ops stay layout: Keras's NHWC-to-NCHW permutes around a torch convolution)."""
    from common.bench.breakdown.tf_table import layer_class, layer_kind
    from common.bench.breakdown.torch_table import classify

    by_name = classify(event.name, event.sequence_nr in transposed)
    scopes, parent = [], event.cpu_parent
    while parent is not None:
        scopes.append(parent.name.removeprefix(SCOPE))
        parent = parent.cpu_parent
    kind = layer_kind("/".join(reversed(scopes)), layer_kinds) if scopes else None
    return layer_class(kind, False, by_name == "layout") or by_name


@contextmanager
def keras_layer_scopes(model):
    """Every layer's `call` of a Keras model (torch backend) inside a profiler scope named by the
    layer, for as long as the profile lasts; the model is left as it was."""
    from torch.profiler import record_function

    wrapped = []
    for layer in model._flatten_layers(include_self=False, recursive=True):

        def scoped(*args, _call=layer.call, _name=SCOPE + layer.name, **kwargs):
            with record_function(_name):
                return _call(*args, **kwargs)

        object.__setattr__(layer, "call", scoped)
        wrapped.append(layer)
    try:
        yield
    finally:
        for layer in wrapped:
            object.__delattr__(layer, "call")


TRANSPOSED_FORWARD = "aten::conv_transpose2d"
CONV_FORWARD = ("aten::conv2d", TRANSPOSED_FORWARD, "aten::convolution", "aten::_convolution")


def transposed_sequence_numbers(events) -> set[int]:
    """Autograd sequence numbers of the transposed convolutions' forward ops: their backward node
    (ConvolutionBackward0, the same node for both kinds) carries the same number. Recording
    shapes would say it too, at over a GiB per profiled Keras-on-torch step of batch 32."""
    first: dict[int, str] = {}
    for event in events:
        if event.name in CONV_FORWARD and event.sequence_nr >= 0:
            first.setdefault(event.sequence_nr, event.name)
    return {nr for nr, name in first.items() if name == TRANSPOSED_FORWARD}


def traced(fn, steps: int, backend: str, read: Callable[[list[str]], object]):
    """(`read` of the XPlane files, wall ms) of `steps` calls of `fn` under the TF or JAX
    profiler, whose files live in a temporary folder until `read` has them."""
    start, stop = _trace_controls(backend)
    with tempfile.TemporaryDirectory(prefix="saltbench-xplane-") as logdir:
        start(logdir)
        wall_ms = timed_calls(fn, steps)
        stop()
        return read(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)), wall_ms


def _profile_tensorflow(
    fn: Callable[[], object], steps: int, layer_kinds: dict[str, str]
) -> tuple[dict[str, float], float]:
    from common.bench.breakdown.tf_table import classify

    rows, wall_ms = traced(fn, steps, "tensorflow", framework_op_stats)
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[classify(row["type"], row["operation"], layer_kinds)] += row["self_ms"]
    return dict(totals), wall_ms


def framework_op_stats(xplane_paths: list[str]) -> list[dict]:
    """Per op: type, scoped name, total self ms, from xprof's `framework_op_stats` tool (host ops;
    device ops instead where the profile has any). IDLE is left out."""
    from xprof.convert import raw_to_tool_data

    data, _ = raw_to_tool_data.xspace_to_tool_data(xplane_paths, "framework_op_stats", {})
    table = json.loads(data)[-1]  # the table without IDLE
    columns = [c["id"] for c in table["cols"]]
    rows = [dict(zip(columns, [c.get("v") for c in r["c"]], strict=False)) for r in table["rows"]]
    device = [r for r in rows if r["host_or_device"] == "Device"]
    return [
        {"type": r["type"], "operation": r["operation"], "self_ms": r["total_self_time"] / 1e3}
        for r in (device or rows)
        if r["type"] != "IDLE"
    ]


def _profile_xla(fn, steps: int, layer_kinds, spec, backend: str) -> tuple[dict[str, float], float]:
    """An XLA-compiled step (Keras on JAX; Keras on TF with jit_compile): the framework's profiler
    traces XLA's instructions by name, and the module XLA dumped names their ops."""
    import os

    from common.bench.breakdown.xla_table import XlaClassifier, spec_kernels

    dump = os.environ.get(XLA_DUMP_ENV)
    if not dump:
        raise RuntimeError(
            f"no XLA dump folder ({XLA_DUMP_ENV} unset: run through saltbench bench)"
        )
    events, wall_ms = traced(fn, steps, backend, trace_events)
    modules = [
        XlaClassifier(path.read_text(), layer_kinds, spec_kernels(spec))
        for path in Path(dump).glob("*after_optimizations.txt")
    ]
    classifier = max(modules, key=lambda m: m.covered_ms(events), default=None)
    if classifier is None or classifier.covered_ms(events) == 0:
        raise RuntimeError(f"{dump}: no dumped XLA module names the traced instructions")
    totals: dict[str, float] = defaultdict(float)
    for name, ms in events:
        class_id = classifier.classify(name)
        if class_id is not None:
            totals[class_id] += ms
    return dict(totals), wall_ms


def _trace_controls(backend: str):
    """(start(logdir), stop()) of the framework's own profiler."""
    if backend == "jax":
        import jax

        options = jax.profiler.ProfileOptions()
        options.python_tracer_level = 0  # the Python tracer alone multiplies the step time
        return (
            lambda d: jax.profiler.start_trace(d, profiler_options=options)
        ), jax.profiler.stop_trace
    import tensorflow as tf

    return tf.profiler.experimental.start, tf.profiler.experimental.stop


def trace_events(xplane_paths: list[str]) -> list[tuple[str, float]]:
    """(name, ms) of every complete event of the trace (xprof's trace viewer data)."""
    from xprof.convert import raw_to_tool_data

    data, _ = raw_to_tool_data.xspace_to_tool_data(xplane_paths, "trace_viewer@", {})
    events = json.loads(data)["traceEvents"]
    return [(e["name"], e.get("dur", 0.0) / 1e3) for e in events if e.get("ph") == "X"]
