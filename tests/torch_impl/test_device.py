"""torch_impl.device: the device and numerics the torch twin runs under, and stage data on device."""

import numpy as np
import pytest
import torch

from common.core.stream import BatchStream
from common.models.spec import ResUNetSpec
from torch_impl.device import DeviceBatches, autocast, configure, peak_memory_mib

pytestmark = pytest.mark.torch


def test_cpu_settings_read_back_from_torch():
    device, settings = configure("cpu", tf32=False, cudnn_benchmark=False)
    assert device.type == "cpu" and settings["device"] == "cpu"
    assert settings["torch.backends.cudnn.allow_tf32"] is False
    assert settings["torch.backends.cuda.matmul.allow_tf32"] is False
    assert peak_memory_mib(device) is None


def test_device_batches_are_the_stream_batches():
    """Gathered and flipped on the device (here the CPU device) = the NumPy stream's batches."""
    rng = np.random.default_rng(0)
    images = rng.random((10, 101, 101, 1), dtype=np.float32)
    masks = (rng.random((10, 101, 101, 1)) > 0.5).astype(bool)
    stream = BatchStream(images, masks, batch_size=4, seed=3)
    on_device = DeviceBatches(stream, torch.device("cpu"))
    for epoch in (0, 5):
        for index, (x, y) in enumerate(on_device.epoch(epoch)):
            ex, ey = stream.batch(epoch, index)
            assert np.array_equal(x.permute(0, 2, 3, 1).numpy(), ex)
            assert np.array_equal(y.permute(0, 2, 3, 1).numpy(), ey)
        assert index == stream.num_batches - 1


def test_bf16_trains_in_bfloat16_with_float32_weights_and_loss():
    from common.models.execution import ExecutionMode
    from torch_impl.train import TwinTrainer

    twin = TwinTrainer(ResUNetSpec(start_neurons=2), ExecutionMode(precision="bf16"), seed=0)
    twin.start_stage("bce", 1e-3)
    x = np.random.default_rng(0).random((2, 101, 101, 1), dtype=np.float32)
    with autocast(twin.device, "bf16"):
        assert twin.model(torch.from_numpy(x).permute(0, 3, 1, 2)).dtype == torch.bfloat16
    loss = twin.train_step(x, (x > 0.5).astype(np.float32))
    assert np.isfinite(loss)
    assert all(p.dtype == torch.float32 for p in twin.model.parameters())
    assert twin.predict_logits(x).dtype == np.float32 and twin.numerics["precision"] == "bf16"


def test_fp16_scales_the_loss_inside_the_twin():
    """fp16 (bench's torch-fp16 on a GPU) is the twin's own mode: float16 autocast, a GradScaler
    around the step, float32 weights; the CPU runs it too, so the path is tested here."""
    from common.models.execution import ExecutionMode
    from torch_impl.train import TwinTrainer

    twin = TwinTrainer(ResUNetSpec(start_neurons=2), ExecutionMode(precision="fp16"), seed=0)
    twin.start_stage("bce", 1e-3)
    x = np.random.default_rng(0).random((2, 101, 101, 1), dtype=np.float32)
    before = twin.get_weights()
    with autocast(twin.device, "fp16"):
        assert twin.model(torch.from_numpy(x).permute(0, 3, 1, 2)).dtype == torch.float16
    assert np.isfinite(twin.train_step(x, (x > 0.5).astype(np.float32)))
    assert twin.trainer.scaler is not None and twin.trainer.scaler.get_scale() > 1
    assert all(p.dtype == torch.float32 for p in twin.model.parameters())
    after = twin.get_weights()
    assert any(not np.array_equal(after[k], before[k]) for k in before)
