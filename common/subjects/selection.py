"""The subjects a run compares: a twin in one execution mode, named as `saltbench bench` names it.

One table serves both commands: a subject is a benchmark variant (common.subjects.table) trained
and scored by `compare`. `torch` is bench's `torch-eager`; `keras` is an alias for Keras on the
recipe's backend (run.keras_backend), kept under its own name so `keras,torch` runs read as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.core.errors import SaltbenchError
from common.subjects.table import SUBJECT_ALIASES, get_variant

# subject -> the bench variant it runs (same model code, backend and compile mode)
SUBJECT_VARIANTS = {
    "torch": "torch-eager",
    "torch-compile": "torch-compile",
    "keras-tf": "keras-tf",
    "keras-tf-xla": "keras-tf-xla",
    "keras-jax": "keras-jax",
    "keras-torch": "keras-torch",
}
TWINS = ("keras", "torch")  # the two implementations (keras_impl, torch_impl)
KERAS_ALIAS = "keras"
KERAS_BY_BACKEND = {"tensorflow": "keras-tf", "jax": "keras-jax", "torch": "keras-torch"}
SUBJECT_NAMES = (KERAS_ALIAS, *SUBJECT_VARIANTS)
DEFAULT_REFERENCE = "torch"
NOISE_FLOOR_SUFFIX = "_ulp"  # the reference's one-ulp copy (common.compare.unit.drift.FLOOR_SUFFIX)
LABELS = {
    "keras": "Keras",
    "torch": "PyTorch",
    "torch-compile": "PyTorch compiled",
    "keras-tf": "Keras/TF",
    "keras-tf-xla": "Keras/TF+XLA",
    "keras-jax": "Keras/JAX",
    "keras-torch": "Keras/torch",
}


@dataclass(frozen=True)
class Subject:
    """What one worker process runs: which twin, on which Keras backend, compiled or not."""

    name: str
    twin: str  # the implementation package prefix: "torch" | "keras"
    keras_backend: str | None  # KERAS_BACKEND of the worker (None for the PyTorch twin)
    jit_compile: bool  # torch.compile for the PyTorch twin; XLA / jax.jit for Keras
    variant: str  # the `saltbench bench` row that times the same thing


def get_subject(name: str, keras_backend: str = "tensorflow") -> Subject:
    """The subject named `name`; `keras` resolves to Keras on `keras_backend`."""
    variant_name = (
        KERAS_BY_BACKEND.get(keras_backend)
        if name == KERAS_ALIAS
        else SUBJECT_VARIANTS.get(name.removesuffix(NOISE_FLOOR_SUFFIX))
    )
    if variant_name is None:
        raise SaltbenchError(
            f"unknown subject {name!r}; choose from {', '.join(SUBJECT_NAMES)}"
            if name != KERAS_ALIAS
            else f"run.keras_backend {keras_backend!r}: choose from {', '.join(KERAS_BY_BACKEND)}"
        )
    variant = get_variant(variant_name)
    return Subject(
        name, variant.framework, variant.keras_backend, variant.jit_compile, variant_name
    )


def parse_subjects(text: str) -> list[str]:
    """Distinct subject names from a comma-separated list (recipe key run.subjects)."""
    aliases = {variant: subject for subject, variant in SUBJECT_ALIASES.items()}
    names = [aliases.get(f.strip(), f.strip()) for f in str(text).split(",") if f.strip()]
    unknown = [n for n in names if n not in SUBJECT_NAMES]
    choices = ", ".join(SUBJECT_NAMES)
    if unknown:
        raise SaltbenchError(f"--subjects: unknown subject {unknown[0]!r}; choose from {choices}")
    repeated = [n for n in names if names.count(n) > 1]
    if not names or repeated:
        what = f"{repeated[0]!r} is named twice" if repeated else "names no subject"
        raise SaltbenchError(f"--subjects {text!r}: {what}; choose distinct names from {choices}")
    twins_of_keras = [n for n in names if n == KERAS_ALIAS or n.startswith("keras-")]
    if KERAS_ALIAS in names and len(twins_of_keras) > 1:
        raise SaltbenchError(
            f"--subjects {text!r}: `keras` is an alias for Keras on run.keras_backend; name "
            "the backends instead (keras-tf, keras-jax, keras-torch) when comparing more than one"
        )
    return names


def label(name: str) -> str:
    """The column title of a subject ('PyTorch', 'Keras/JAX', 'PyTorch +1 ulp')."""
    base = name.removesuffix(NOISE_FLOOR_SUFFIX)
    return LABELS.get(base, base) + (" +1 ulp" if base != name else "")


def reference_of(config: dict) -> str | None:
    """The subject the others are compared with: run.reference if compared, else torch, else
    the first subject (None without subjects)."""
    subjects = list(config.get("subjects", []))
    wanted = config.get("reference") or config.get("recipe", {}).get("run", {}).get("reference")
    for name in (wanted, DEFAULT_REFERENCE):
        if name in subjects:
            return name
    return subjects[0] if subjects else None


def others(config: dict) -> list[str]:
    """Every compared subject but the reference, in the run's order."""
    reference = reference_of(config)
    return [s for s in config.get("subjects", []) if s != reference]


def in_run_order(config: dict, metrics: dict) -> dict:
    """metrics.json (written with sorted keys) with its subjects and pairs back in the run's order."""

    def ordered(mapping: dict) -> dict:
        order = [s for s in config.get("subjects", []) if s in mapping]
        return {s: mapping[s] for s in [*order, *(s for s in mapping if s not in order)]}

    metrics = {**metrics, "subjects": ordered(metrics.get("subjects", {}))}
    if "pairs" in metrics:
        metrics["pairs"] = ordered(metrics["pairs"])
    return metrics
