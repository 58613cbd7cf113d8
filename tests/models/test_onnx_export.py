"""Both twins exported to ONNX compute the twins' function, and each other's (max |Δ| <= 1e-4)."""

from types import SimpleNamespace

import numpy as np
import pytest

from common.core.errors import SaltbenchError
from common.models.onnx_export import OnnxModel, export_twin
from common.models.spec import ResUNetSpec
from common.parity.check import random_tiles, randomize_batch_norm, real_tiles

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch, pytest.mark.slow]
TOLERANCE = 1e-4
# the richest ops of the spec (mish, scSE) at a small width: the export covers every layer type
SPEC = ResUNetSpec(start_neurons=4, activation="mish", attention="scse", dropout=0.0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> SimpleNamespace:
    """Twins holding the same weights (Keras built, BN made non-trivial, ported to torch), each
    exported by its own framework's exporter and opened in ONNX Runtime."""
    for module in ("onnxruntime", "onnxscript", "tf2onnx"):
        pytest.importorskip(module, reason=f"{module} missing: pip install 'saltbench[onnx]'")
    import keras
    import torch

    from keras_impl.model import build_model as build_keras
    from keras_impl.weights import export_weights, import_weights
    from torch_impl.model import build_model as build_torch
    from torch_impl.weights import import_weights as import_torch_weights

    keras.utils.set_random_seed(0)
    keras_model = build_keras(SPEC)
    import_weights(keras_model, randomize_batch_norm(export_weights(keras_model), seed=1))
    torch_model = build_torch(SPEC)
    import_torch_weights(torch_model, export_weights(keras_model))
    torch_model.eval()
    folder = tmp_path_factory.mktemp("onnx")
    return SimpleNamespace(
        keras=keras_model,
        torch=torch_model,
        torch_module=torch,
        from_keras=export_twin("keras", keras_model, folder, threads=1),
        from_torch=export_twin("torch", torch_model, folder, threads=1),
    )


def assert_same_function(exported: SimpleNamespace, tiles: np.ndarray) -> None:
    torch = exported.torch_module
    with torch.no_grad():
        nchw = torch.from_numpy(tiles).permute(0, 3, 1, 2)
        native_torch = exported.torch(nchw).permute(0, 2, 3, 1).numpy()
    native_keras = np.asarray(exported.keras.predict_on_batch(tiles))
    onnx_torch = exported.from_torch.predict_logits(tiles, batch_size=4)  # 4 + rest: dynamic batch
    onnx_keras = exported.from_keras.predict_logits(tiles, batch_size=4)
    assert onnx_torch.shape == onnx_keras.shape == tiles.shape
    deltas = {
        "onnx-from-torch vs torch twin": np.abs(onnx_torch - native_torch).max(),
        "onnx-from-keras vs Keras twin": np.abs(onnx_keras - native_keras).max(),
        "onnx-from-keras vs onnx-from-torch": np.abs(onnx_keras - onnx_torch).max(),
    }
    assert all(delta <= TOLERANCE for delta in deltas.values()), deltas
    assert np.abs(onnx_torch).max() > 10 * TOLERANCE  # the logits are not trivially zero


def test_the_two_files_come_from_the_two_frameworks(exported):
    assert exported.from_torch.producer.startswith("pytorch")
    assert exported.from_keras.producer.startswith("tf2onnx")
    assert exported.from_torch.path.stat().st_size > 0 and exported.from_keras.device == "cpu"


def test_onnx_graphs_compute_the_same_function_on_synthetic_tiles(exported):
    assert_same_function(exported, random_tiles(5, 101, seed=3))


@pytest.mark.realdata
def test_onnx_graphs_compute_the_same_function_on_real_tiles(exported, real_data_dir):
    assert_same_function(exported, real_tiles(real_data_dir, 5))


def test_onnx_model_is_inference_only_and_needs_its_file(exported, tmp_path):
    with pytest.raises(SaltbenchError, match="inference-only"):
        exported.from_torch.train_step(np.zeros((1, 101, 101, 1), np.float32), None)
    with pytest.raises(SaltbenchError, match="missing.onnx: ONNX file not found"):
        OnnxModel.load(tmp_path / "missing.onnx", threads=1)


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_onnx_runtime_profiles_each_exported_graph_into_the_shared_classes(exported, source):
    """`bench --breakdown` of an ONNX row: ONNX Runtime's own profiler, a session of its own."""
    from common.bench.breakdown.measure import measure_breakdown
    from common.subjects.table import get_variant

    model = getattr(exported, f"from_{source}")
    plain = model.session
    tiles = np.random.default_rng(0).random((2, 101, 101, 1), dtype=np.float32)
    result = measure_breakdown(get_variant(f"onnx-from-{source}"), "infer",
                               lambda: model.predict_logits(tiles), 2, SPEC, 0.01, model)  # fmt: skip
    assert result["profiler"] == "onnxruntime" and model.session is plain
    assert result["class_ms"]["conv_fwd"] > 0 and result["class_ms"]["tconv_fwd"] > 0
    assert sum(result["class_ms"].values()) == pytest.approx(result["profiled_ms"])
