"""Keras and PyTorch ResNet34 U-Nets have the same gradients (float64 and float32) and SGD
trajectory, by hand and through the twins' trainers."""

import numpy as np
import pytest

from tests.parity.resnet34_twins import (
    FLOAT32_LOSS_RTOL,
    SPEC,
    keras,
    make_batch,
    max_diff,
    torch,
)

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch]


@pytest.fixture(scope="module")
def keras64():
    """The Keras twin in float64.

    In float64 the two frameworks must agree to ~1e-12: any difference is a real mismatch. In
    float32 they differ by round-off, which batch norm in training mode on 4x4 maps of two tiles
    amplifies to ~1e-3 relative in the earliest layers (Keras/TF normalises as x*inv - mean*inv,
    torch as (x - mean)*inv), so float32 checks are looser and float64 ones are tight.
    """
    from keras_impl.model import build_model

    keras.config.set_dtype_policy("float64")
    try:
        return build_model(SPEC)
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.fixture
def twins64(resnet34, keras64):
    """(Keras, torch) float64 models, both at the float32 twins' starting weights."""
    from keras_impl.weights import import_weights

    resnet34.sync(resnet34.start)
    import_weights(keras64, resnet34.start)
    return keras64, float64_copy(resnet34.torch)


def float64_copy(model):
    import copy

    return copy.deepcopy(model).double().train()


def keras_grads64(model, loss: str, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """Training-mode loss and neutral-keyed gradients of a float64 Keras model (TF backend)."""
    import tensorflow as tf

    from keras_impl.losses import get_loss
    from keras_impl.weights import canonical_variables

    keys = {id(v): k for k, v in canonical_variables(model).items()}
    with tf.GradientTape() as tape:
        value = get_loss(loss)(
            tf.constant(y, tf.float64), model(tf.constant(x, tf.float64), training=True)
        )
    variables = model.trainable_variables
    grads = tape.gradient(value, [v.value for v in variables])
    return float(value), {keys[id(v)]: g.numpy() for v, g in zip(variables, grads, strict=True)}


def torch_grads64(model, loss: str, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    from common.models.weights import torch_to_neutral
    from torch_impl.losses import get_loss
    from torch_impl.weights import canonical_variables

    model.train()
    model.zero_grad(set_to_none=True)
    value = get_loss(loss)(nchw64(y), model(nchw64(x)))
    value.backward()
    grads = {
        key: torch_to_neutral(key.rsplit("/", 1)[1], t.grad.numpy())
        for key, t in canonical_variables(model).items()
        if t.grad is not None
    }
    return float(value.detach()), grads


def nchw64(a: np.ndarray):
    return torch.from_numpy(np.asarray(a, np.float64)).permute(0, 3, 1, 2)


@pytest.mark.parametrize("loss", ["bce", "lovasz_hinge"])
def test_training_mode_gradients_agree_in_float64(twins64, loss):
    keras_model, torch_model = twins64
    x, y = make_batch(5)
    keras_loss, kg = keras_grads64(keras_model, loss, x, y)
    torch_loss, tg = torch_grads64(torch_model, loss, x, y)
    assert kg.keys() == tg.keys() == {k for k in SPEC.weight_shapes() if "moving_" not in k}
    assert keras_loss == pytest.approx(torch_loss, rel=1e-10)
    scale = max(float(np.max(np.abs(g))) for g in tg.values())
    worst = max(max_diff(kg[k], tg[k]) for k in kg)
    assert scale > 0 and worst <= 1e-9 * scale, f"worst {worst:.3g}, scale {scale:.3g}"


@pytest.mark.parametrize("loss", ["bce", "lovasz_hinge"])
def test_training_mode_gradients_agree_in_float32(resnet34, loss):
    """The product's float32 gradients: within 1e-4 of the scale plus the measured round-off."""
    from keras_impl.steps import loss_and_gradients as keras_grads
    from torch_impl.steps import loss_and_gradients as torch_grads

    resnet34.sync(resnet34.start)
    x, y = make_batch(5)
    keras_loss, kg = keras_grads(resnet34.keras, loss, x, y)
    torch_loss, tg = torch_grads(resnet34.torch, loss, x, y)
    _, truth = torch_grads64(float64_copy(resnet34.torch), loss, x, y)
    assert keras_loss == pytest.approx(torch_loss, rel=FLOAT32_LOSS_RTOL, abs=1e-6)
    scale = max(float(np.max(np.abs(g))) for g in truth.values())
    noise = max(max_diff(kg[k], truth[k]) + max_diff(tg[k], truth[k]) for k in kg)
    worst = max(max_diff(kg[k], tg[k]) for k in kg)
    assert worst <= 1e-4 * scale + noise and noise < 1e-2 * scale, (
        f"worst {worst:.3g}, scale {scale:.3g}, round-off {noise:.3g}"
    )


def test_five_sgd_steps_agree_in_float64(twins64):
    """Plain SGD, five steps on different batches: same losses and weights to ~1e-12."""
    from keras_impl.weights import canonical_variables
    from keras_impl.weights import export_weights as keras_export
    from torch_impl.weights import export_weights as torch_export

    keras_model, torch_model = twins64
    rate = 0.05
    keras_variables = canonical_variables(keras_model)
    sgd = torch.optim.SGD(torch_model.parameters(), lr=rate)
    for step in range(5):
        x, y = make_batch(10 + step)
        keras_loss, grads = keras_grads64(keras_model, "bce", x, y)
        for key, grad in grads.items():
            keras_variables[key].assign(keras_variables[key].numpy() - rate * grad)
        torch_loss, _ = torch_grads64(torch_model, "bce", x, y)
        sgd.step()
        assert keras_loss == pytest.approx(torch_loss, rel=1e-10), f"step {step}"
    kw, tw = keras_export(keras_model), torch_export(torch_model)
    trainable = [k for k in kw if "moving_" not in k]
    assert (
        max(max_diff(kw[k], tw[k]) for k in trainable) < 1e-6
    )  # float32 export of float64 weights


def test_sgd_steps_agree_with_the_trainers(resnet34):
    """The product's float32 Trainers (Keras compiled train_on_batch, torch loop), plain SGD.

    Two steps at lr 2**-10: at 0.05 the second step's weights, already apart by float32
    round-off, flip near-tied max-pool winners in the stem often enough that a fresh-clone CI run
    measured a gap of 3% of the update (in isolation: 0.02%); at 2**-10 it is 0.007%. The exact
    five-step claim is the float64 test above.
    """
    from keras_impl.steps import Trainer as KerasTrainer
    from keras_impl.weights import export_weights as keras_export
    from torch_impl.steps import Trainer as TorchTrainer
    from torch_impl.weights import export_weights as torch_export

    resnet34.sync(resnet34.start)
    rate = 2.0**-10  # exact in float32, as Keras stores it
    keras_trainer = KerasTrainer(resnet34.keras, loss="bce", optimizer="sgd", learning_rate=rate)
    torch_trainer = TorchTrainer(resnet34.torch, loss="bce", optimizer="sgd", learning_rate=rate)
    for step in range(2):
        x, y = make_batch(10 + step)
        keras_loss, torch_loss = keras_trainer.train_step(x, y), torch_trainer.train_step(x, y)
        assert keras_loss == pytest.approx(torch_loss, rel=FLOAT32_LOSS_RTOL), f"step {step}"
    kw, tw = keras_export(resnet34.keras), torch_export(resnet34.torch)
    trainable = [k for k in kw if "moving_" not in k]
    moved = max(max_diff(tw[k], resnet34.start[k]) for k in trainable)
    worst = max(max_diff(kw[k], tw[k]) for k in trainable)
    assert moved > 1e-4 and worst < 1e-2 * moved, f"worst {worst:.3g}, moved {moved:.3g}"
