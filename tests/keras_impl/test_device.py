"""keras_impl.device: the device and numerics the Keras twin runs under (the torch twin's twin)."""

import numpy as np
import pytest

from common.models.spec import ResUNetSpec
from tests.cpu_isa import TF_BF16_SKIP_REASON, tensorflow_bf16_blocked_by_cap

pytestmark = pytest.mark.keras


def test_cpu_settings_read_back_from_the_backend():
    from keras_impl.device import configure, peak_memory_mib

    device, settings = configure("cpu", tf32=False, cudnn_benchmark=False)
    assert device == "cpu" and settings["device"] == "cpu"
    assert settings["tf.config.experimental.tensor_float_32_execution_enabled"] is False
    assert peak_memory_mib(device) is None


@pytest.mark.skipif(tensorflow_bf16_blocked_by_cap(), reason=TF_BF16_SKIP_REASON)
def test_bf16_trains_in_bfloat16_with_float32_weights_and_loss():
    import keras

    from common.models.execution import ExecutionMode
    from keras_impl.train import TwinTrainer

    twin = TwinTrainer(ResUNetSpec(start_neurons=2), ExecutionMode(precision="bf16"), seed=0)
    assert keras.config.dtype_policy().name == "float32"  # the policy does not leak
    convs = [layer for layer in twin.model._flatten_layers() if layer.weights]
    assert {layer.dtype_policy.compute_dtype for layer in convs} == {"bfloat16"}
    assert {v.dtype for v in twin.model.trainable_variables} == {"float32"}
    twin.start_stage("bce", 1e-3)
    x = np.random.default_rng(0).random((2, 101, 101, 1), dtype=np.float32)
    loss = twin.train_step(x, (x > 0.5).astype(np.float32))
    assert np.isfinite(loss)
    assert twin.predict_logits(x).dtype == np.float32 and twin.numerics["precision"] == "bf16"
