"""The one table of execution modes: every way of running a twin (framework, backend, compile
mode, precision, runtime). `saltbench bench` times them; `compare`'s subjects
(common.subjects.selection) are the ones that train, named from this table."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from common.core.errors import SaltbenchError
from common.models.twin import TWIN_BACKENDS

TRAIN_BATCH = 32
INFER_BATCH = 64
OPERATIONS = ("train", "infer")
TRAIN_FLOPS_FACTOR = 3  # a training step costs forward + backward (2x forward) = 3x forward FLOPs

NOT_APPLICABLE = "not applicable"
ONNX_EXPORTERS = {
    "torch": ("onnx", "onnxscript"),
    "keras": ("onnx", "tf2onnx"),
}  # per exported twin
OPTIONAL_EXTRAS = {  # module -> the saltbench extra that installs it
    "jax": "jax", "onnx": "onnx", "onnxscript": "onnx", "tf2onnx": "onnx", "onnxruntime": "onnx",
}  # fmt: skip
NOT_IN_QUICK = (
    "not in --quick: compile time ({what}) alone exceeds the 3-minute budget; run without --quick"
)


@dataclass(frozen=True)
class Variant:
    """One way of running the same ResUNet: framework, Keras backend, compile mode, precision."""

    name: str
    framework: str  # "torch" (the PyTorch twin) | "keras" (the Keras twin)
    backend: str  # the framework that executes: "torch" | "tensorflow" | "jax"
    description: str
    layout: str = "native"  # common.models.execution.LAYOUTS: native | nhwc | nchw
    jit_compile: bool = False  # torch.compile for the torch twin, XLA / jax.jit for Keras
    precision: str = "fp32"  # "fp32" | "bf16" | "fp16" (mixed precision: fp32 weights)
    gpu_only: bool = False
    runtime: str = "native"  # "native" | "onnxruntime" (the twin exported to ONNX, inference only)
    quick_skip: tuple[tuple[str, str], ...] = ()  # (operation, reason) left out of --quick
    tunes: str | None = None  # the variant this one tunes (same twin and backend, one setting)
    tuning: str = ""  # what the tuning changes, for the gains table and the breakdown's advice
    models: tuple[str, ...] = ()  # the architectures it builds (empty: every registered one)

    @property
    def process(self) -> str:
        """Variants sharing a process: one process per executing backend (KERAS_BACKEND is per process)."""
        return f"{self.framework}-{self.backend}" if self.keras_backend else self.framework

    @property
    def keras_backend(self) -> str | None:
        """The backend this process picks, for a twin that runs on several (Keras); else None."""
        return self.backend if len(TWIN_BACKENDS[self.framework]) > 1 else None

    @property
    def operations(self) -> tuple[str, ...]:
        """What this variant can time: an exported ONNX graph has no training step."""
        return ("infer",) if self.runtime == "onnxruntime" else (*OPERATIONS, "epoch")

    def not_applicable_reason(self, operation: str) -> str | None:
        if operation in self.operations:
            return None
        return (
            f"{NOT_APPLICABLE}: ONNX Runtime runs the exported inference graph only "
            "(no training step, no training loop)"
        )

    def quick_skip_reason(self, operation: str) -> str | None:
        return dict(self.quick_skip).get(operation)

    def missing_dependency(self) -> str | None:
        """Why this variant cannot run in this environment (a package is absent), else None."""
        modules = [{"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[self.backend]]
        if self.runtime == "onnxruntime":
            modules += [*ONNX_EXPORTERS[self.framework], "onnxruntime"]
        for module in modules:
            if importlib.util.find_spec(module) is None:
                extra = OPTIONAL_EXTRAS.get(module)
                return f"{module} is not installed" + (
                    f" (pip install 'saltbench[{extra}]')" if extra else ""
                )
        return None


_COMPILE = "torch.compile, 40-110 s here"
VARIANTS: tuple[Variant, ...] = (
    Variant("torch-eager", "torch", "torch", "PyTorch twin, eager, NCHW, fp32"),
    Variant(
        "torch-channels-last",
        "torch",
        "torch",
        "PyTorch twin, eager, channels_last memory format",
        layout="nhwc",
        tunes="torch-eager",
        tuning="channels_last memory format",
    ),
    Variant(
        "torch-compile",
        "torch",
        "torch",
        "PyTorch twin under torch.compile (compile time reported separately)",
        jit_compile=True,
        tunes="torch-eager",
        tuning="torch.compile",
        quick_skip=(
            ("train", NOT_IN_QUICK.format(what=_COMPILE)),
            ("infer", NOT_IN_QUICK.format(what=_COMPILE)),
        ),
    ),
    Variant(
        "torch-bf16",
        "torch",
        "torch",
        "PyTorch twin, eager, bf16 autocast (mixed)",
        precision="bf16",
        tunes="torch-eager",
        tuning="bf16 autocast (changes the numerics)",
    ),
    Variant(
        "torch-fp16",
        "torch",
        "torch",
        "PyTorch twin, eager, fp16 autocast + GradScaler",
        precision="fp16",
        gpu_only=True,
    ),
    Variant(
        "keras-tf",
        "keras",
        "tensorflow",
        "Keras twin on TensorFlow (tf.function graph)",
    ),
    Variant(
        "keras-tf-xla",
        "keras",
        "tensorflow",
        "Keras twin on TensorFlow with XLA (jit_compile=True)",
        jit_compile=True,
        tunes="keras-tf",
        tuning="XLA (jit_compile=True)",
        quick_skip=(
            (
                "train",
                "not in --quick: XLA training on CPU is ~4x slower than plain TF "
                "and its compile plus timed rounds exceed the 3-minute budget",
            ),
            (
                "infer",
                "not in --quick: a second model build and XLA compile (~20 s) exceed the budget",
            ),
        ),
    ),
    Variant(
        "keras-tf-bf16",
        "keras",
        "tensorflow",
        "Keras twin on TensorFlow, mixed_bfloat16 policy",
        precision="bf16",
        tunes="keras-tf",
        tuning="mixed_bfloat16 policy (changes the numerics)",
        quick_skip=(
            ("train", "not in --quick: an extra TF trace (~20 s) does not fit the 3-minute budget"),
            ("infer", "not in --quick: an extra TF trace (~20 s) does not fit the 3-minute budget"),
        ),
    ),
    Variant(
        "keras-tf-fp16",
        "keras",
        "tensorflow",
        "Keras twin on TensorFlow, mixed_float16 policy (loss scaling)",
        precision="fp16",
        gpu_only=True,
    ),
    Variant("keras-torch", "keras", "torch", "Keras twin on the torch backend (eager)"),
    Variant(
        "keras-torch-nchw",
        "keras",
        "torch",
        "Keras twin on the torch backend, image_data_format channels_first (no NHWC transposes)",
        layout="nchw",
        tunes="keras-torch",
        tuning="channels_first data format",
        models=("resunet",),  # keras_impl.model.NCHW_MODELS
    ),
    Variant(
        "keras-jax",
        "keras",
        "jax",
        "Keras twin on the JAX backend (jax.jit, its normal mode)",
        jit_compile=True,
    ),
    Variant(
        "onnx-from-torch",
        "torch",
        "torch",
        "PyTorch twin exported by torch.onnx.export, run by ONNX Runtime (inference only)",
        runtime="onnxruntime",
    ),
    Variant(
        "onnx-from-keras",
        "keras",
        "tensorflow",
        "Keras twin exported by Keras (tf2onnx), run by ONNX Runtime (inference only)",
        runtime="onnxruntime",
    ),
)
VARIANT_NAMES = tuple(v.name for v in VARIANTS)
# --quick's default leaves these out, to stay under 3 minutes on the slowest CPU it was timed on
# (measured on a 2-core AMD EPYC: --quick took 153 s with it and the harness epochs, 130 s
# without it, 97 s without both; an AMD EPYC Zen 4 had taken 236 s with both)
_FOURTH_PROCESS = (
    "not in --quick: a fourth backend process (Keras on torch) does not fit the 3-minute budget "
    "on slower CPUs; run without --quick or name it in --subjects"
)
QUICK_LEFT_OUT = {"keras-torch": _FOURTH_PROCESS, "keras-torch-nchw": _FOURTH_PROCESS}
EPOCH_NOT_IN_QUICK = (
    "not in --quick: the harness-overhead epochs (the real training loop against bare steps) "
    "come last and add about a third to the wall time; run without --quick"
)
REFERENCE_VARIANT = "torch-eager"
# `compare` calls the PyTorch eager subject `torch`: each verb takes the other's name too
SUBJECT_ALIASES = {"torch": "torch-eager"}
HARNESS_VARIANTS = ("torch-eager", "keras-tf")  # the plain variant of each twin: harness overhead
ONNX_SOURCES = {
    "onnx-from-torch": "torch-eager",
    "onnx-from-keras": "keras-tf",
}  # whose model is exported


def tuned_pairs(names) -> list[tuple[Variant, Variant]]:
    """(base, tuned) for every tuned variant among `names` whose base is there too."""
    present = set(names)
    return [(get_variant(v.tunes), v) for v in VARIANTS
            if v.tunes and v.name in present and v.tunes in present]  # fmt: skip


def get_variant(name: str) -> Variant:
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise SaltbenchError(
        f"unknown benchmark variant {name!r}; choose from {', '.join(VARIANT_NAMES)}"
    )


def quick_variant_names() -> list[str]:
    """--quick's default variants: every one but QUICK_LEFT_OUT."""
    return [name for name in VARIANT_NAMES if name not in QUICK_LEFT_OUT]


def quick_left_out_skips(operations=OPERATIONS) -> list[dict]:
    """The side report's skips for the variants --quick's default leaves out."""
    return [{"variant": name, "operation": op, "reason": f"{name} {op}: {reason}"}
            for name, reason in QUICK_LEFT_OUT.items() for op in operations]  # fmt: skip


def parse_variants(text: str | None) -> list[Variant]:
    """Variants from a comma-separated list ('all' or None = every variant), in registry order."""
    if not text or text.strip() == "all":
        return list(VARIANTS)
    names = [SUBJECT_ALIASES.get(n.strip(), n.strip()) for n in text.split(",") if n.strip()]
    wanted = {get_variant(name).name for name in names}
    if not wanted:
        raise SaltbenchError(
            "--subjects is empty; name at least one of " + ", ".join(VARIANT_NAMES)
        )
    return [v for v in VARIANTS if v.name in wanted]


def group_by_process(variants: list[Variant]) -> dict[str, list[Variant]]:
    """Process name -> its variants, torch first (the reference), in registry order."""
    groups: dict[str, list[Variant]] = {}
    for variant in variants:
        groups.setdefault(variant.process, []).append(variant)
    return groups


def batch_size(operation: str) -> int:
    return {"train": TRAIN_BATCH, "infer": INFER_BATCH}[operation]


def flops_per_step_image(forward_flops: float, operation: str) -> float:
    """FLOPs of one image in `operation`: forward for inference, 3x forward for a training step."""
    return forward_flops * (TRAIN_FLOPS_FACTOR if operation == "train" else 1)


def group_name(model: str, width: int, operation: str, batch: int) -> str:
    """The pytest-benchmark group: one per (model, operation, batch) so variants sit side by side."""
    return f"{model}{width}-{operation}-b{batch}"
