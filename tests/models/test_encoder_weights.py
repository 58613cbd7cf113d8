"""Loading a torchvision-format ResNet34 state dict into the neutral layout (common/models/encoder_weights.py)."""

import numpy as np
import pytest

from common.core.errors import SaltbenchError
from common.models.encoder_weights import (
    encoder_shapes,
    load_encoder_weights,
    neutral_key,
    torchvision_key,
    with_encoder_weights,
)
from common.models.spec import ResUNetSpec
from common.models.spec_resnet34 import ResNet34UNetSpec

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

WIDTH = 8
SPEC = ResNet34UNetSpec(base_width=WIDTH, dropout=0.0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(path of a saved torchvision-layout state dict, the reference net it came from)."""
    from tests.resnet34_reference import save_reference

    path = tmp_path_factory.mktemp("encoder") / "resnet34.pth"
    return path, save_reference(path, WIDTH)


def test_key_rule_round_trips_torchvision_names():
    bn_layers = {"bn1", "layer2_0/downsample/1"}
    assert neutral_key("layer2.0.downsample.1.running_var", bn_layers) == (
        "layer2_0/downsample/1/moving_variance"
    )
    assert neutral_key("layer4.2.conv2.weight", bn_layers) == "layer4_2/conv2/kernel"
    for key in encoder_shapes(SPEC):
        layer = key.rsplit("/", 1)[0]
        bn = (
            {layer}
            if key.rsplit("/", 1)[1] in ("gamma", "beta", "moving_mean", "moving_variance")
            else set()
        )
        assert neutral_key(torchvision_key(key), bn) == key


def test_loads_every_encoder_weight_and_ignores_fc(reference):
    path, model = reference
    weights = load_encoder_weights(path, SPEC)
    expected = encoder_shapes(SPEC)
    assert {k: v.shape for k, v in weights.items()} == expected
    # an RGB stem is summed over its input channels; kernels move to (kh, kw, in, out)
    rgb = model.conv1.weight.detach().numpy()
    np.testing.assert_allclose(
        weights["conv1/kernel"], rgb.sum(1, keepdims=True).transpose(2, 3, 1, 0), rtol=1e-6
    )
    np.testing.assert_array_equal(
        weights["layer2_0/downsample/1/moving_variance"],
        model.layer2[0].downsample[1].running_var.numpy(),
    )


def test_torch_twin_with_loaded_encoder_matches_reference_features(reference):
    """Same features as the torchvision-layout net fed the grey tile on R, G and B: names and padding agree."""
    from torch_impl.model import build_model
    from torch_impl.weights import export_weights, import_weights

    path, model = reference
    twin = build_model(SPEC).eval()
    import_weights(twin, with_encoder_weights(export_weights(twin), path, SPEC))
    x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 101, 101), dtype=np.float32))
    with torch.no_grad():
        ours = twin.encode(x)[4]
        theirs = model.features(twin.pad(x).repeat(1, 3, 1, 1))
    assert ours.shape == theirs.shape == (2, 8 * WIDTH, 4, 4)
    assert float((ours - theirs).abs().max()) < 1e-4


def test_state_dict_wrapper_and_module_prefix_are_accepted(reference, tmp_path):
    path, model = reference
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, wrapped)
    assert load_encoder_weights(wrapped, SPEC).keys() == encoder_shapes(SPEC).keys()


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(SaltbenchError, match="encoder weights file not found"):
        load_encoder_weights(tmp_path / "nope.pth", SPEC)


def test_not_a_torch_file(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_text("not a checkpoint")
    with pytest.raises(SaltbenchError, match="junk.pth: not a readable torch state dict") as err:
        load_encoder_weights(path, SPEC)
    assert "\n" not in str(err.value)


def test_missing_key_is_named(reference, tmp_path):
    path, model = reference
    state = model.state_dict()
    del state["layer3.5.conv2.weight"]
    broken = tmp_path / "missing.pth"
    torch.save(state, broken)
    with pytest.raises(SaltbenchError, match=r"missing key layer3\.5\.conv2\.weight"):
        load_encoder_weights(broken, SPEC)


def test_wrong_width_names_the_key_and_shapes(reference):
    path, _ = reference
    with pytest.raises(
        SaltbenchError, match=r"conv1\.weight has shape \(8, 3, 7, 7\).*base_width 16"
    ):
        load_encoder_weights(path, ResNet34UNetSpec(base_width=16))


def test_foreign_key_is_rejected(reference, tmp_path):
    path, model = reference
    state = {**model.state_dict(), "layer1.0.conv3.weight": torch.zeros(8, 8, 1, 1)}
    foreign = tmp_path / "resnet50ish.pth"
    torch.save(state, foreign)
    with pytest.raises(SaltbenchError, match=r"unexpected key layer1\.0\.conv3\.weight"):
        load_encoder_weights(foreign, SPEC)


def test_only_the_resnet34_unet_takes_encoder_weights(reference):
    path, _ = reference
    with pytest.raises(SaltbenchError, match="needs --model resnet34_unet"):
        with_encoder_weights({}, path, ResUNetSpec())


def test_model_summary_checks_an_encoder_file(reference, capsys):
    from common.cli import main

    path, _ = reference
    args = ["model", "summary", "--model", "resnet34_unet", "--base-width", str(WIDTH)]
    assert main([*args, "--encoder-weights", str(path)]) == 0
    assert f"{len(encoder_shapes(SPEC))} tensors from {path} fit" in capsys.readouterr().out
    assert main([*args[:-1], "16", "--encoder-weights", str(path)]) == 2
    assert "conv1.weight has shape" in capsys.readouterr().err
