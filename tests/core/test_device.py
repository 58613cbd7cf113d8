"""common.core.device: one meaning of --device, precision and the TF32 switches for every subject."""

import pytest

from common.core.device import DeviceError, device_env, numerics, resolve, validate
from common.core.errors import SaltbenchError
from common.recipes.resolve import resolve_recipe


def test_auto_takes_cuda_only_where_the_framework_sees_it():
    assert resolve("auto", True, "torch") == "cuda"
    assert resolve("auto", False, "torch") == "cpu"
    assert resolve("cpu", True, "torch") == "cpu"
    assert resolve("cuda", True, "torch") == "cuda"


def test_cuda_unseen_is_one_line_naming_the_framework():
    with pytest.raises(DeviceError) as caught:
        resolve("cuda", False, "Keras on jax")
    message = str(caught.value)
    assert (
        message.startswith("--device cuda: Keras on jax sees no CUDA device")
        and "\n" not in message
    )


def test_cpu_hides_every_gpu_and_a_shared_gpu_is_never_preallocated():
    assert device_env("cpu") == {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    for device in ("auto", "cuda"):
        assert device_env(device)["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


def test_recipe_keys_default_to_cpu_safe_fp32_and_bad_values_are_one_line():
    settings = numerics(resolve_recipe())
    assert settings == {
        "device": "auto",
        "precision": "fp32",
        "tf32": False,
        "cudnn_benchmark": False,
    }
    assert numerics({"run": {}, "train": {}})["precision"] == "fp32"  # a run made before the keys
    with pytest.raises(SaltbenchError, match="train.precision = .fp16.: must be one of fp32, bf16"):
        resolve_recipe(overrides={"train.precision": "fp16"})
    with pytest.raises(SaltbenchError, match="run.device must be one of auto, cpu, cuda"):
        validate({**settings, "device": "gpu"})


def _cpu(flags):
    from common.core.cpu import CpuInfo

    return CpuInfo("test CPU", frozenset(flags), "test")


@pytest.mark.parametrize(
    ("flags", "device", "expected"),
    [
        (["avx512f", "avx512_bf16"], "cpu", "bf16"),
        (["amx_bf16"], "cpu", "bf16"),
        (["avx2", "fma"], "cpu", "fp32"),
        ([], "cpu", "fp32"),
        ([], "cuda", "bf16"),
    ],
)
def test_auto_precision_is_bf16_only_where_it_is_native(monkeypatch, flags, device, expected):
    import common.core.cpu
    from common.core.device import resolve_precision

    monkeypatch.setattr(common.core.cpu, "cpu_info", lambda: _cpu(flags))
    precision, why = resolve_precision("auto", device)
    assert precision == expected and why.startswith("auto: ")
    assert resolve_precision("fp32", device) == ("fp32", "as the recipe says")


@pytest.mark.keras
@pytest.mark.torch
@pytest.mark.parametrize("flags", [["avx512_bf16"], ["avx2"]])
def test_both_twins_choose_the_same_auto_precision(monkeypatch, flags):
    import common.core.cpu
    from common.models.execution import ExecutionMode
    from common.models.spec import ResUNetSpec
    from keras_impl.train import TwinTrainer as KerasTwin
    from torch_impl.train import TwinTrainer as TorchTwin

    monkeypatch.setattr(common.core.cpu, "cpu_info", lambda: _cpu(flags))
    spec = ResUNetSpec(start_neurons=2)
    twins = [make(spec, ExecutionMode(precision="auto"), seed=0) for make in (KerasTwin, TorchTwin)]
    chosen = {(t.precision, t.numerics["precision"], t.numerics["precision_choice"]) for t in twins}
    expected = "bf16" if flags == ["avx512_bf16"] else "fp32"
    assert len(chosen) == 1 and next(iter(chosen))[0] == expected
