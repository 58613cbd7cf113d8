"""Keras twin: canonical names, serialisable layers, losses equal to the NumPy references, Trainer."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.models import losses_ref
from common.models.spec import ResUNetSpec

pytestmark = pytest.mark.keras
SPEC = ResUNetSpec(start_neurons=4, activation="mish", attention="scse")


@pytest.fixture(scope="module")
def model():
    from keras_impl.model import build_model

    return build_model(SPEC)


def loss_batch():
    rng = np.random.default_rng(0)
    y = (rng.random((3, 101, 101, 1)) < 0.3).astype(np.float32)
    y[1] = 0  # empty mask
    z = rng.normal(0, 2, y.shape).astype(np.float32)
    z[2, :10] = 0.0  # exact zeros: BCE must stay smooth there
    return y, z


def test_output_is_one_logit_channel_and_names_are_canonical(model):
    from keras_impl.weights import canonical_layers

    assert model.output_shape == (None, 101, 101, 1)
    assert list(canonical_layers(model)) == SPEC.layer_names()


@pytest.mark.parametrize("name", losses_ref.LOSS_NAMES)
def test_loss_matches_numpy_reference(name):
    from keras_impl.losses import get_loss

    y, z = loss_batch()
    assert float(get_loss(name)(y, z)) == pytest.approx(losses_ref.REFERENCES[name](y, z), abs=1e-5)


def test_custom_layers_round_trip_through_config():
    import keras

    from keras_impl.layers import SCSE, Mish, ResidualBlock

    for layer in (ResidualBlock(8, "swish", 0.9, 1e-5, name="r"), SCSE(8, 2, name="s"), Mish()):
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_native_save_and_load_keep_outputs(model, tmp_path):
    from keras_impl.weights import load_model, save_model

    x = np.random.default_rng(1).random((2, 101, 101, 1), dtype=np.float32)
    loaded = load_model(save_model(model, tmp_path / "m.keras"))
    assert np.array_equal(
        np.asarray(loaded(x, training=False)), np.asarray(model(x, training=False))
    )


def test_trainer_steps_and_learning_rate(model):
    from keras_impl.steps import Trainer

    y, _ = loss_batch()
    x = np.random.default_rng(2).random(y.shape, dtype=np.float32)
    trainer = Trainer(model, loss="bce", optimizer="sgd", learning_rate=0.05)
    model.run_eagerly = True
    losses = [trainer.train_step(x, y) for _ in range(3)]
    assert losses[-1] < losses[0]
    trainer.learning_rate = 0.5
    assert trainer.learning_rate == pytest.approx(0.5)
    assert trainer.predict_logits(x, batch_size=2).shape == x.shape


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_model_runs_on_other_keras_backends(backend):
    code = (
        "import numpy as np; from common.models.spec import ResUNetSpec; "
        "from keras_impl.model import build_model; from keras_impl.steps import Trainer; "
        "m = build_model(ResUNetSpec(start_neurons=2, attention='scse', activation='swish')); "
        "x = np.random.rand(2, 101, 101, 1).astype('float32'); "
        "t = Trainer(m, loss='lovasz_hinge'); l = t.train_step(x, (x > 0.5).astype('float32')); "
        "p = t.predict_logits(x); assert p.shape == x.shape and np.isfinite(l); print('ok')"
    )
    command = [sys.executable, "-c", code]
    if backend == "jax":  # the twin under jax.jit, as the keras-jax subject trains it
        pytest.importorskip("jax")
        command = [sys.executable, str(Path(__file__).with_name("jax_schedule_check.py"))]
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]
