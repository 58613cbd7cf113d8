"""PyTorch twin: canonical names, TF-exact transposed convs, losses vs the NumPy references, Trainer."""

import numpy as np
import pytest

from common.models import losses_ref
from common.models.spec import ResUNetSpec

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
SPEC = ResUNetSpec(start_neurons=4, activation="swish", attention="se")


@pytest.fixture(scope="module")
def model():
    from torch_impl.model import build_model

    return build_model(SPEC)


def test_output_is_one_logit_channel_and_names_are_canonical(model):
    from torch_impl.weights import canonical_layers

    assert model(torch.zeros(2, 1, 101, 101)).shape == (2, 1, 101, 101)
    assert list(canonical_layers(model)) == SPEC.layer_names()


def test_bn_momentum_is_converted_and_epsilon_shared(model):
    assert model.enc1_bn.momentum == pytest.approx(1 - SPEC.bn_momentum)
    assert model.enc1_bn.eps == SPEC.bn_epsilon


def test_same_transposed_conv_drops_the_trailing_pixel_not_the_leading_one():
    from torch_impl.layers import ConvTranspose2dTF

    up = ConvTranspose2dTF(1, 1, 3, stride=2, tf_padding="same")
    x = torch.randn(1, 1, 6, 6)
    full = torch.nn.functional.conv_transpose2d(x, up.weight, up.bias, stride=2)  # 13x13
    assert torch.equal(up(x), full[..., :12, :12])
    shifted = torch.nn.functional.conv_transpose2d(
        x, up.weight, up.bias, stride=2, padding=1, output_padding=1
    )
    assert not torch.allclose(up(x), shifted)  # torch's own 'same' is one pixel off


@pytest.mark.parametrize("name", losses_ref.LOSS_NAMES)
def test_loss_matches_numpy_reference(name):
    from torch_impl.losses import get_loss

    rng = np.random.default_rng(0)
    y = (rng.random((3, 1, 101, 101)) < 0.3).astype(np.float32)
    y[1] = 0  # empty mask
    z = rng.normal(0, 2, y.shape).astype(np.float32)
    got = float(get_loss(name)(torch.from_numpy(y), torch.from_numpy(z)))
    assert got == pytest.approx(losses_ref.REFERENCES[name](y, z), abs=1e-5)


def test_native_save_and_load_keep_outputs(model, tmp_path):
    from torch_impl.weights import load_model, save_model

    loaded = load_model(save_model(model, tmp_path / "m.pt")).eval()
    x = torch.rand(2, 1, 101, 101)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))


def test_trainer_steps_and_learning_rate(model):
    from torch_impl.steps import Trainer

    rng = np.random.default_rng(2)
    x = rng.random((2, 101, 101, 1), dtype=np.float32)
    y = (x > 0.5).astype(np.float32)
    trainer = Trainer(model, loss="bce", optimizer="sgd", learning_rate=0.05)
    losses = [trainer.train_step(x, y) for _ in range(3)]
    assert losses[-1] < losses[0]
    trainer.learning_rate = 0.5
    assert trainer.learning_rate == 0.5
    assert trainer.predict_logits(x, batch_size=1).shape == x.shape


def test_channels_last_twin_keeps_weights_and_logits_and_feeds_nhwc_without_a_copy():
    from common.models.execution import ExecutionMode
    from torch_impl.steps import Trainer, model_memory_format, to_nchw
    from torch_impl.train import TwinTrainer

    plain = TwinTrainer(SPEC, ExecutionMode(), seed=3)
    nhwc = TwinTrainer(SPEC, ExecutionMode(layout="nhwc"), seed=3)
    assert model_memory_format(plain.model) == torch.contiguous_format
    assert model_memory_format(nhwc.model) == torch.channels_last
    weights = plain.get_weights()
    assert all(np.array_equal(weights[k], v) for k, v in nhwc.get_weights().items())
    x = np.random.default_rng(0).random((3, 101, 101, 1), np.float32)
    np.testing.assert_allclose(
        plain.predict_logits(x), nhwc.predict_logits(x), rtol=1e-5, atol=1e-5
    )
    assert Trainer(nhwc.model).memory_format == torch.channels_last
    x2 = np.random.default_rng(1).random((2, 7, 7, 3), np.float32)
    view = to_nchw(x2, torch.device("cpu"), memory_format=torch.channels_last)
    assert view.is_contiguous(memory_format=torch.channels_last)
    assert np.array_equal(view.permute(0, 2, 3, 1).numpy(), x2)
