"""`saltbench export`: every subject's best model as native and ONNX files, each loaded by a plain
loader in a fresh process and matching saltbench's own prediction within 1e-4."""

import json
import shutil

import numpy as np
import pytest

from common.core.io import load_neutral
from common.export.run import TOLERANCE, run_check
from tests.compare.conftest import saltbench

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]
FILES = {
    ("keras", "native"): "keras/seed0/fold0/model.keras",
    ("keras", "onnx"): "keras/seed0/fold0/model.onnx",
    ("torch", "native"): "torch/seed0/fold0/model.pt",
    ("torch", "onnx"): "torch/seed0/fold0/model.onnx",
}


@pytest.fixture(scope="module")
def exported(smoke_run, smoke_cache, tmp_path_factory):
    pytest.importorskip("onnxruntime", reason="pip install 'saltbench[onnx]'")
    out = tmp_path_factory.mktemp("export") / "smoke"
    result = saltbench("export", "--run", str(smoke_run), "--out", str(out), cache=smoke_cache)
    return out, json.loads((out / "export.json").read_text()), result.stdout


def test_every_subject_gets_native_and_onnx_files_that_pass_fresh_process_checks(exported):
    out, manifest, stdout = exported
    found = {(e["subject"], e["format"]): e for e in manifest["files"]}
    assert {key: e["path"] for key, e in found.items()} == FILES
    for key, entry in found.items():
        assert (out / entry["path"]).is_file()
        assert entry["ok"], (key, entry)
        assert entry["tiles"] > 0 and 0 <= entry["max_abs_diff"] <= TOLERANCE, key
        assert entry["rule"] == "1e-4", key  # the smoke model is small: no round-off excuse
        assert entry["path"] in stdout
    # the ONNX files ran in a process that could not import saltbench, and did not
    assert found["keras", "onnx"]["saltbench_modules"] == []
    assert found["torch", "onnx"]["loader"].startswith("onnxruntime")
    # a native file loads with its twin alone: no harness, no other twin
    keras_modules = found["keras", "native"]["saltbench_modules"]
    torch_modules = found["torch", "native"]["saltbench_modules"]
    assert not any(m.startswith(("torch_impl", "common.compare")) for m in keras_modules)
    assert not any(m.startswith(("keras_impl", "common.compare")) for m in torch_modules)
    assert "torch_impl.weights" in torch_modules


def test_the_exported_files_hold_the_best_weights(exported, smoke_run):
    """The torch file is the spec plus the state_dict of model_best.npz, unchanged."""
    import torch

    from torch_impl.weights import export_weights, load_model

    out, _, _ = exported
    saved = torch.load(out / FILES["torch", "native"], weights_only=True)
    assert set(saved) == {"spec", "state_dict"}
    best = load_neutral(smoke_run / "torch" / "seed0" / "fold0" / "model_best.npz")
    loaded = export_weights(load_model(out / FILES["torch", "native"]))
    assert loaded.keys() == best.keys()
    for key in best:
        np.testing.assert_array_equal(loaded[key], best[key], err_msg=key)


@pytest.mark.parametrize("key", list(FILES))
def test_a_check_fails_when_the_file_does_not_compute_the_reference(exported, tmp_path, key):
    """A file computing another function fails: the reference (float32 and float64 logits
    alike) moved by 1e-3 stands for a file that is 1e-3 off saltbench's function."""
    out, _, _ = exported
    unit = shutil.copytree((out / FILES[key]).parent, tmp_path / "unit")
    with np.load(unit / "reference.npz") as npz:
        arrays = dict(npz)
    arrays["logits"] = arrays["logits"] + np.float32(1e-3)
    arrays["logits_float64"] = arrays["logits_float64"] + 1e-3
    np.savez(unit / "reference.npz", **arrays)
    result = run_check(key[0], key[1], unit / FILES[key].rsplit("/", 1)[1], "tensorflow")
    assert not result["ok"] and result["error"].startswith("max |Δ|")
    assert result["max_abs_diff"] == pytest.approx(1e-3, rel=0.1)
    assert result["max_abs_diff_float64"] == pytest.approx(1e-3, rel=0.1)


def test_the_round_off_rule_passes_only_files_as_exact_as_saltbench():
    from common.export.run import passing_rule

    close = {"max_abs_diff": 5e-5, "max_abs_diff_float64": 9e-5, "saltbench_diff_float64": 6e-5}
    assert passing_rule(close) == "1e-4"
    # torch's own float32 is 2.3e-4 off float64 and the ONNX file 5.5e-5: round-off, passes
    rounded = {
        "max_abs_diff": 2.6e-4,
        "max_abs_diff_float64": 5.5e-5,
        "saltbench_diff_float64": 2.3e-4,
    }
    assert passing_rule(rounded) == "float64"
    # farther from float64 than saltbench itself: a different function, fails
    wrong = {"max_abs_diff": 2.6e-4, "max_abs_diff_float64": 3e-4, "saltbench_diff_float64": 5e-5}
    assert passing_rule(wrong) is None


def test_an_earlier_export_is_never_replaced_silently(exported, smoke_run, smoke_cache):
    out, _, _ = exported
    before = (out / "export.json").read_bytes()
    again = saltbench(
        "export", "--run", str(smoke_run), "--out", str(out), cache=smoke_cache, check=False
    )
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1] == (
        f"saltbench: error: {out / 'keras'} already exists; pass --force to replace that export "
        "or choose --out"
    )
    assert (out / "export.json").read_bytes() == before


def test_an_unfinished_run_or_unknown_subject_is_one_line(smoke_run, smoke_cache, tmp_path):
    run_dir = shutil.copytree(
        smoke_run, tmp_path / smoke_run.name, ignore=shutil.ignore_patterns("FINISHED")
    )
    unfinished = saltbench("export", "--run", str(run_dir), cache=smoke_cache, check=False)
    assert unfinished.returncode == 2
    assert unfinished.stderr.strip() == (
        f"saltbench: error: {run_dir}: the run has not finished; continue it with "
        f"saltbench compare --run {run_dir}"
    )
    unknown = saltbench(
        "export", "--run", str(smoke_run), "--subject", "jax", cache=smoke_cache, check=False
    )
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        f"saltbench: error: --subjects jax: not in run {smoke_run.name} (it has keras, torch)"
    )
