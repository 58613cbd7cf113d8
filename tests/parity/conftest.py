"""Fixtures shared by the parity tests: deterministic batches and twin pairs with ported weights."""

import contextlib

import numpy as np
import pytest

from common.models.spec import ACTIVATIONS, ATTENTIONS, ResUNetSpec

COMBOS = [(act, att) for act in ACTIVATIONS for att in ATTENTIONS]
WIDTHS = (4, 16)
TILES = 2


def make_batch(seed: int, n: int = TILES) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random images and blob masks (one empty), deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:101, 0:101] / 100.0
    images, masks = [], []
    for i in range(n):
        fx, fy, phase = rng.uniform(1, 4, 3)
        image = (
            0.5
            + 0.3 * np.sin(fx * 6 * xx + phase) * np.cos(fy * 6 * yy)
            + rng.normal(0, 0.05, xx.shape)
        )
        cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.4)
        mask = ((xx - cx) ** 2 + (yy - cy) ** 2 < r**2) if i % 2 == 0 else np.zeros_like(xx, bool)
        images.append(np.clip(image, 0, 1))
        masks.append(mask)
    x = np.stack(images)[..., None].astype(np.float32)
    y = np.stack(masks)[..., None].astype(np.float32)
    return x, y


class TwinPair:
    """A Keras and a torch model of one spec and the neutral weights both start from."""

    def __init__(self, spec: ResUNetSpec):
        import keras
        import torch

        from common.parity.check import randomize_batch_norm
        from keras_impl.model import build_model as build_keras
        from keras_impl.weights import export_weights, import_weights
        from torch_impl.model import build_model as build_torch

        keras.utils.set_random_seed(0)
        torch.manual_seed(0)
        self.spec = spec
        self.keras = build_keras(spec)
        self.torch = build_torch(spec)
        import_weights(self.keras, randomize_batch_norm(export_weights(self.keras), seed=1))
        self.keras_weights = export_weights(self.keras)

    def sync_from_keras(self) -> None:
        """Reset both twins to the Keras model's starting weights."""
        from keras_impl.weights import import_weights as keras_import
        from torch_impl.weights import import_weights as torch_import

        keras_import(self.keras, self.keras_weights)
        torch_import(self.torch, self.keras_weights)


_PAIRS: dict = {}
TRAINING_PARAMS = [(4, a, t) for a, t in COMBOS] + [(16, "relu", "none"), (16, "mish", "scse")]


def _pair(param) -> TwinPair:
    """One twin pair per (width, activation, attention), built once per session; dropout 0 so
    training mode is deterministic."""
    if param not in _PAIRS:
        width, activation, attention = param
        spec = ResUNetSpec(
            start_neurons=width, activation=activation, attention=attention, dropout=0.0
        )
        _PAIRS[param] = TwinPair(spec)
    return _PAIRS[param]


# SGD runs eagerly in float64 (~10 s each at width 4): all 9 combinations, and width 16
SGD_PARAMS = [
    *[(4, act, att) for act in ("relu", "swish", "mish") for att in ("none", "se", "scse")],
    (16, "relu", "none"),  # the default spec
    (16, "mish", "scse"),
]


def _ident(param) -> str:
    return f"n{param[0]}-{param[1]}-{param[2]}"


@pytest.fixture(scope="session", params=[(w, a, t) for w in WIDTHS for a, t in COMBOS], ids=_ident)
def twins(request) -> TwinPair:
    """Every activation x attention at widths 4 and 16 (counts and forward parity)."""
    return _pair(request.param)


@pytest.fixture(scope="session", params=TRAINING_PARAMS, ids=_ident)
def train_twins(request) -> TwinPair:
    """Training-mode checks: every combination at width 4, two at width 16 (default, richest)."""
    return _pair(request.param)


@contextlib.contextmanager
def keras_float64():
    """Keras layers *and* compiled losses in float64 (a compiled loss casts to floatx)."""
    import keras

    policy, floatx = keras.config.dtype_policy(), keras.config.floatx()
    keras.config.set_dtype_policy("float64")
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def float64_twins(spec: ResUNetSpec, weights: dict):
    """Both twins in float64 holding `weights`: gradients then compare without float32 round-off
    amplified by cancellation (e.g. in gradients a downstream training-mode BN nearly cancels)."""

    from keras_impl.model import build_model as build_keras
    from keras_impl.weights import import_weights as keras_import
    from torch_impl.model import build_model as build_torch
    from torch_impl.weights import import_weights as torch_import

    with keras_float64():
        keras_model = build_keras(spec)
    torch_model = build_torch(spec).double()
    keras_import(keras_model, weights)
    torch_import(torch_model, weights)
    return keras_model, torch_model


@pytest.fixture(scope="session", params=SGD_PARAMS, ids=_ident)
def sgd_twins(request) -> TwinPair:
    """Five-step SGD parity: every activation x attention at width 4, the default spec at 16."""
    return _pair(request.param)


@pytest.fixture(scope="module")
def resnet34():
    """The ResNet34 U-Net twins of one test module, from the same neutral weights
    (tests/parity/resnet34_twins.py)."""
    from tests.parity.resnet34_twins import SPEC, Twins

    return Twins(SPEC)
