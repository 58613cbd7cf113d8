"""The Keras and PyTorch twins are the same model: counts, outputs, gradients and SGD steps agree."""

import numpy as np
import pytest

from common.models.weights import is_trainable
from tests.parity.conftest import float64_twins, keras_float64, make_batch

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch]

FORWARD_TOL = 1e-4
GRAD_RTOL = 1e-3
SGD_RTOL = 5e-3
# Exact in float32 (Keras keeps the learning rate as a float32 variable), and small enough that
# plain SGD is not chaotic: at 2**-5 a ReLU net's own float64 round-off grows ~400x per step
# (torch against torch from a start perturbed by 1e-13 drifts to 7e-3 in five steps); at 2**-10
# that drift stays below 1e-9, so a gap between the twins can only be a twin mismatch.
LR = 2.0**-10


def keras_logits(model, x):
    return np.asarray(model(x, training=False))


def torch_logits(model, x):
    import torch

    from torch_impl.steps import to_nchw, to_nhwc

    model.eval()
    with torch.no_grad():
        return to_nhwc(model(to_nchw(x, torch.device("cpu"))))


def assert_close_per_layer(actual: dict, expected: dict, rtol: float, floor: float) -> None:
    """Per key: |a - e| <= rtol * max(max|e|, floor). The floor covers tensors that are zero in
    exact arithmetic (a conv bias feeding a training-mode BN has gradient 0; both sides give ~1e-9)."""
    assert actual.keys() == expected.keys()
    worst = {}
    for key, want in expected.items():
        scale = max(float(np.max(np.abs(want))), floor)
        worst[key] = float(np.max(np.abs(actual[key] - want))) / scale
    bad = {k: v for k, v in worst.items() if v > rtol}
    assert not bad, f"{len(bad)} tensors differ beyond rtol {rtol}: {sorted(bad.items())[:5]}"


def test_parameter_counts_are_equal_and_match_the_spec(twins):
    from keras_impl.weights import parameter_counts as keras_counts
    from torch_impl.weights import parameter_counts as torch_counts

    spec = twins.spec
    expected = (spec.parameter_count(), spec.parameter_count(trainable_only=True))
    assert keras_counts(twins.keras) == torch_counts(twins.torch) == expected


def test_same_canonical_weights_on_both_sides(twins):
    from torch_impl.weights import export_weights

    shapes = twins.spec.weight_shapes()
    torch_weights = export_weights(twins.torch)
    assert {k: v.shape for k, v in torch_weights.items()} == shapes
    assert {k: v.shape for k, v in twins.keras_weights.items()} == shapes


def test_forward_keras_to_torch(twins):
    from torch_impl.weights import import_weights

    import_weights(twins.torch, twins.keras_weights)
    x, _ = make_batch(0)
    expected = keras_logits(twins.keras, x)
    assert np.max(np.abs(torch_logits(twins.torch, x) - expected)) <= FORWARD_TOL
    assert np.std(expected) > 1e-3  # the comparison is not between two constant maps


def test_forward_torch_to_keras(twins):
    import keras
    import torch

    from common.parity.check import randomize_batch_norm
    from keras_impl.weights import import_weights as keras_import
    from torch_impl.model import build_model
    from torch_impl.weights import export_weights, import_weights

    torch.manual_seed(1)
    source = build_model(twins.spec)  # torch's own initialisation, ported the other way
    import_weights(source, randomize_batch_norm(export_weights(source), seed=2))
    fresh = keras.models.clone_model(twins.keras)
    keras_import(fresh, export_weights(source))
    x, _ = make_batch(1)
    assert np.max(np.abs(keras_logits(fresh, x) - torch_logits(source, x))) <= FORWARD_TOL


def global_error(grads: dict, exact: dict) -> float:
    """‖grads − exact‖₂ over every tensor together."""
    return float(np.sqrt(sum(np.sum((grads[k] - exact[k]) ** 2) for k in exact)))


def test_training_mode_loss_and_gradients_agree(train_twins):
    """Same loss in float32; in float64 every gradient tensor agrees within rtol of its own scale.

    Per-tensor float32 gradients cannot meet rtol 1e-3 against *anything*: torch float32 vs torch
    float64 already differ by percents on tensors whose gradient is a near-cancelling sum (layers
    feeding training-mode BNs). So float32 is held to: Keras is as close to the float64 truth as
    torch is (within 10x of torch's own float32 error, or 1e-3 of the gradient norm, over all
    gradients together).
    """
    from keras_impl.steps import loss_and_gradients as keras_grads
    from torch_impl.steps import loss_and_gradients as torch_grads

    train_twins.sync_from_keras()
    x, y = make_batch(2)
    keras_loss, keras_g32 = keras_grads(train_twins.keras, "bce_lovasz", x, y)
    torch_loss, torch_g32 = torch_grads(train_twins.torch, "bce_lovasz", x, y)
    assert keras_loss == pytest.approx(torch_loss, rel=GRAD_RTOL)

    keras64, torch64 = float64_twins(train_twins.spec, train_twins.keras_weights)
    keras_loss, keras_g = keras_grads(keras64, "bce_lovasz", x, y)
    torch_loss, torch_g = torch_grads(torch64, "bce_lovasz", x, y)
    assert keras_loss == pytest.approx(torch_loss, rel=1e-9)
    scale = max(float(np.max(np.abs(g))) for g in torch_g.values())
    assert_close_per_layer(keras_g, torch_g, GRAD_RTOL, floor=1e-6 * scale)

    norm = float(np.sqrt(sum(np.sum(g**2) for g in torch_g.values())))
    keras_err, torch_err = global_error(keras_g32, torch_g), global_error(torch_g32, torch_g)
    assert keras_err <= max(10 * torch_err, 1e-3 * norm)


def test_five_sgd_steps_agree(sgd_twins):
    """Plain SGD through both Trainers on the same batches, in float64 (float32 round-off is
    amplified in the gradients, see above), ReLU included. The Keras steps run inside
    keras_float64() too: Keras builds a compiled loss lazily at the first train step with
    dtype=floatx(), so a loss built after the context closed casts the logits to float32
    (step-0 loss 0.4816496074 vs torch 0.4816496703, ~1e-6 gradient error per step; the step-0
    loss check at rel 1e-9, from identical weights, catches that). Trainable weights: the
    five-step updates (after - start) must agree per layer. BN running statistics are compared as
    values: torch folds in the unbiased batch variance, Keras the biased one, so their increments
    differ by up to 1/71 (N*H*W >= 72 values per channel), far inside the tolerance on the value."""
    from keras_impl.steps import Trainer as KerasTrainer
    from keras_impl.weights import export_weights as keras_export
    from torch_impl.steps import Trainer as TorchTrainer
    from torch_impl.weights import export_weights as torch_export

    start = sgd_twins.keras_weights
    keras64, torch64 = float64_twins(sgd_twins.spec, start)
    torch_trainer = TorchTrainer(torch64, loss="bce", optimizer="sgd", learning_rate=LR)
    with keras_float64():  # the compiled loss is built at the first step, under floatx
        keras_trainer = KerasTrainer(keras64, loss="bce", optimizer="sgd", learning_rate=LR)
        keras64.run_eagerly = True  # no 20 s graph tracing per model in the test suite
        for step in range(5):
            x, y = make_batch(10 + step)
            keras_loss = keras_trainer.train_step(x, y)
            torch_loss = torch_trainer.train_step(x, y)
            assert keras_loss == pytest.approx(torch_loss, rel=1e-9 if step == 0 else SGD_RTOL)
    after_keras, after_torch = keras_export(keras64), torch_export(torch64)
    trainable = [k for k in after_torch if is_trainable(k)]
    update_keras = {k: after_keras[k] - start[k] for k in trainable}
    update_torch = {k: after_torch[k] - start[k] for k in trainable}
    assert max(np.max(np.abs(u)) for u in update_torch.values()) > 1e-4  # the steps moved
    # The updates themselves must agree, not just the weights they were added to.
    assert_close_per_layer(update_keras, update_torch, SGD_RTOL, floor=1e-6)
    stats = [k for k in after_torch if not is_trainable(k)]
    assert_close_per_layer(
        {k: after_keras[k] for k in stats}, {k: after_torch[k] for k in stats}, SGD_RTOL, 1e-3
    )
