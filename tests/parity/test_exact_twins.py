"""Exact-twin mode: with one Adam rule (torch's order) and shared dropout masks, 20 float64 Adam
steps with dropout on leave the twins equal to round-off; without the mode they differ."""

import dataclasses

import numpy as np
import pytest

from common.models.spec import ResUNetSpec
from common.models.weights import is_trainable
from tests.parity.conftest import float64_twins, keras_float64, make_batch

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch, pytest.mark.slow]

SPEC = ResUNetSpec(start_neurons=4, dropout=0.25, dropout_masks="shared")
# Small steps, exact in float32 too: Adam moves every weight by about lr per step whatever its
# gradient, so the net is chaotic at larger steps (measured: at 2**-10 float64 round-off between
# the exact twins grows from 3e-13 after one step to 1.4e-8 after ten; at 2**-16 it stays at
# 3e-14). A gap above round-off can then only be a twin mismatch.
LR = 2.0**-16
STEPS = 20
EXACT_RTOL = 1e-10  # relative L2 distance of all trainable weights, as the drift report measures


def start_weights(spec: ResUNetSpec) -> dict:
    import keras

    from keras_impl.model import build_model
    from keras_impl.weights import export_weights

    keras.utils.set_random_seed(0)
    return export_weights(build_model(spec))


def train_both(spec: ResUNetSpec, optimizer: str) -> tuple[dict, dict, dict]:
    """(start, Keras after, torch after): the twins' trainable weights after STEPS Adam steps."""
    from keras_impl.steps import Trainer as KerasTrainer
    from keras_impl.weights import export_weights as keras_export
    from torch_impl.steps import Trainer as TorchTrainer
    from torch_impl.weights import export_weights as torch_export

    start = start_weights(spec)
    keras64, torch64 = float64_twins(spec, start)
    torch_trainer = TorchTrainer(torch64, loss="bce", optimizer=optimizer, learning_rate=LR)
    with keras_float64():
        keras_trainer = KerasTrainer(keras64, loss="bce", optimizer=optimizer, learning_rate=LR)
        keras64.run_eagerly = True
        for step in range(STEPS):
            x, y = make_batch(100 + step)
            keras_trainer.train_step(x, y)
            torch_trainer.train_step(x, y)
    trainable = lambda w: {k: v for k, v in w.items() if is_trainable(k)}  # noqa: E731
    return trainable(start), trainable(keras_export(keras64)), trainable(torch_export(torch64))


def worst_relative(a: dict, b: dict) -> float:
    """Relative L2 distance ||a - b|| / ||b|| over all trainable weights (the drift metric)."""
    from common.models.weights import relative_distance

    return relative_distance(a, b)["total"]


def test_exact_twin_mode_keeps_20_adam_steps_with_dropout_equal_to_round_off():
    start, keras_after, torch_after = train_both(SPEC, "adam_matched")
    moved = max(np.abs(torch_after[k] - start[k]).max() for k in start)
    assert moved > 10 * LR  # twenty steps of about lr each: the weights did move
    update = {k: torch_after[k] - start[k] for k in start}
    assert worst_relative({k: keras_after[k] - start[k] for k in start}, update) <= 1e-6
    assert worst_relative(keras_after, torch_after) <= EXACT_RTOL


def test_without_exact_twin_mode_the_twins_differ_measurably():
    framework_dropout = dataclasses.replace(SPEC, dropout_masks="framework")
    _, keras_after, torch_after = train_both(framework_dropout, "adam")
    assert worst_relative(keras_after, torch_after) > 1e-4
    # each half of the mode matters on its own: shared masks with each framework's Adam
    _, keras_adam, torch_adam = train_both(SPEC, "adam")
    assert worst_relative(keras_adam, torch_adam) > 1e-6


def test_both_dropouts_draw_identical_masks():
    import keras
    import torch

    from keras_impl.layers import SharedMaskDropout as KerasDropout
    from torch_impl.layers import SharedMaskDropout as TorchDropout

    for shape, rate, layer, counter in [
        ((2, 50, 50, 8), 0.25, 0, 0),
        ((3, 12, 12, 32), 0.5, 5, 123_456_789),
        ((1, 6, 6, 128), 0.125, 7, 2**31 - 2),  # the counter wraps alike in both
    ]:
        keras_drop = KerasDropout(rate, layer)
        keras_drop.counter.assign(np.int32(counter))
        torch_drop = TorchDropout(rate, layer).train()
        torch_drop.counter.fill_(counter)
        x = np.ones(shape, np.float32)
        masks = []
        for _ in range(3):
            kept_keras = keras.ops.convert_to_numpy(keras_drop(x, training=True)) != 0
            out = torch_drop(torch.from_numpy(x).permute(0, 3, 1, 2))
            kept_torch = out.permute(0, 2, 3, 1).numpy() != 0
            assert np.array_equal(kept_keras, kept_torch), (shape, counter)
            assert abs(1 - kept_keras.mean() - rate) < 0.05
            masks.append(kept_keras)
        assert not np.array_equal(masks[0], masks[1])  # a new mask every call
