"""common.device: one meaning of --device, precision and the TF32 switches for every subject."""

import pytest

from common.device import DeviceError, device_env, numerics, resolve, validate
from common.errors import SaltbenchError
from common.recipes import resolve_recipe


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
    with pytest.raises(SaltbenchError, match="train.precision must be one of fp32, bf16"):
        resolve_recipe(overrides={"train.precision": "fp16"})
    with pytest.raises(SaltbenchError, match="run.device must be one of auto, cpu, cuda"):
        validate({**settings, "device": "gpu"})
