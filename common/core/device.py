"""Device and numerics settings shared by every subject of a run (framework-free).

One place says what `--device auto|cpu|cuda`, `train.precision` and the TF32 / cuDNN switches
mean, so the torch and the Keras twin (on any backend) run under the same numerics:

- device: `auto` = CUDA when the subject's framework sees a CUDA device, else the CPU; `cpu`
  hides every GPU from the worker (CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS=cpu); `cuda` requires
  one, and a framework that sees none is one error line.
- precision: `fp32`, or `bf16` mixed precision (bfloat16 compute, float32 weights and loss) for
  every subject alike: torch autocast, Keras's `mixed_bfloat16` policy. `auto` is bf16 where it
  runs natively (CUDA, or a CPU with a bf16 flag: common/core/cpu.py), fp32 elsewhere; every subject
  resolves it with `resolve_precision`, from the same facts, so all of a run's subjects agree.
- tf32 (default off, so float32 means float32 on every framework): torch `allow_tf32` for matmul
  and cuDNN, TensorFlow's `enable_tensor_float_32_execution`, JAX `jax_default_matmul_precision`
  ("tensorfloat32" or "highest"). cudnn_benchmark: torch's `cudnn.benchmark` (TF and XLA pick
  their own convolution algorithms; the report says so).
"""

from __future__ import annotations

from typing import Any

from common.core.errors import SaltbenchError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "auto")
# Both subjects share one GPU: no framework may grab all of its memory up front.
SHARED_GPU_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


class DeviceError(SaltbenchError):
    """A device was asked for that the framework cannot see."""


def numerics(recipe: dict[str, Any]) -> dict[str, Any]:
    """The run's device and numerics settings (defaults for runs made before they existed)."""
    run, train = recipe.get("run", {}), recipe.get("train", {})
    return {
        "device": run.get("device", "auto"),
        "precision": train.get("precision", "fp32"),
        "tf32": bool(run.get("tf32", False)),
        "cudnn_benchmark": bool(run.get("cudnn_benchmark", False)),
    }


def validate(settings: dict[str, Any]) -> None:
    """One line naming the recipe key when a value is not one of the choices."""
    if settings["device"] not in DEVICES:
        raise SaltbenchError(
            f"recipe key run.device must be one of {', '.join(DEVICES)}, got {settings['device']!r}"
        )
    if settings["precision"] not in PRECISIONS:
        raise SaltbenchError(
            f"recipe key train.precision must be one of {', '.join(PRECISIONS)}, "
            f"got {settings['precision']!r}"
        )


def device_env(device: str) -> dict[str, str]:
    """Environment of a worker process for `device` (set before any framework is imported)."""
    if device == "cpu":
        return {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    return dict(SHARED_GPU_ENV)


def resolve(device: str, visible: bool, who: str) -> str:
    """'cuda' or 'cpu' for a framework that does (not) see a CUDA device; `cuda` unseen is an error."""
    if device == "cuda" and not visible:
        raise DeviceError(
            f"--device cuda: {who} sees no CUDA device (check the driver, CUDA_VISIBLE_DEVICES and "
            "that a CUDA build is installed), or use --device cpu"
        )
    return "cuda" if device in ("auto", "cuda") and visible else "cpu"


def resolve_precision(precision: str, device: str) -> tuple[str, str]:
    """(fp32 | bf16, why) for a recipe's precision on a resolved device ('cpu' or 'cuda')."""
    if precision != "auto":
        return precision, "as the recipe says"
    if device == "cuda":
        return "bf16", "auto: CUDA computes bf16 natively"
    from common.core.cpu import cpu_info

    info = cpu_info()
    return ("bf16" if info.native_bf16 else "fp32"), f"auto: {info.bf16_note()}"


def describe(settings: dict[str, Any]) -> str:
    """One line for the report: 'cuda, fp32, TF32 off, cuDNN benchmark off'."""
    return (
        f"{settings.get('device', '?')}, {settings.get('precision', 'fp32')}, "
        f"TF32 {'on' if settings.get('tf32') else 'off'}, "
        f"cuDNN benchmark {'on' if settings.get('cudnn_benchmark') else 'off'}"
    )


def numerics_flags(settings: dict[str, Any]) -> str:
    """'TF32 off, cuDNN benchmark off' from the flags a framework read back after setting them."""
    tf32 = [v for k, v in settings.items() if "tf32" in k or "tensor_float_32" in k]
    tf32 += [v == "tensorfloat32" for k, v in settings.items() if k.endswith("matmul_precision")]
    bench = [v for k, v in settings.items() if k.endswith("benchmark") and isinstance(v, bool)]
    return (
        f"TF32 {'on' if any(tf32) else 'off'}, "
        f"cuDNN benchmark {'on' if any(bench) else ('off' if bench else 'n/a')}"
    )
