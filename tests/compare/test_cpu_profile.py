"""Profile `cpu` (tuned on the real tiles for a 2-core CPU): its code path at smoke size, end to end.

The profile's own length (about an hour) is measured by hand and reported in docs/recipes.md and
results/examples/; here every setting of the profile stays as it is except the sizes (tiles, width,
epochs), so the same stages, schedules, filters, layout options, precision choice (auto) and
post-processing (the empty-tile rule searched and cross-fitted with the threshold) run in seconds.
"""

import json

import pandas as pd
import pytest

from common.recipes.resolve import resolve_recipe
from tests.compare.conftest import predict_submission, saltbench

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]

SHRINK = {  # sizes only
    "model.start_neurons": 2,
    "data.synthetic": {"n_train": 40, "n_test": 8, "seed": 0},
    "data.num_folds": 2,
    "stages.bce.epochs": 2,
    "stages.lovasz.epochs": 1,
}


def test_profile_keeps_the_seed_recipe_shape():
    cpu = resolve_recipe("seed000", "cpu")
    full = resolve_recipe("seed000", "full")
    assert cpu["model"]["name"] == full["model"]["name"] == "resunet"
    assert [s["name"] for s in cpu["stages"]] == [s["name"] for s in full["stages"]]
    assert cpu["stages"][0]["loss"] == "bce" and "lovasz" in cpu["stages"][1]["loss"]
    assert cpu["train"]["hflip"] and cpu["eval"]["tta"] == "hflip"
    assert cpu["run"]["folds"] == [0]
    assert cpu["stages"][0]["exclude_coverage_below"] is not None  # the seed's BCE filter


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory, smoke_cache):
    out = tmp_path_factory.mktemp("results_cpu")
    sets = [arg for k, v in SHRINK.items() for arg in ("--set", f"{k}={json.dumps(v)}")]
    saltbench("compare", "--profile", "cpu", *sets, "--out", str(out), cache=smoke_cache)
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def test_cpu_profile_trains_both_twins_with_its_settings(cpu_run):
    config = json.loads((cpu_run / "config.json").read_text())
    recipe = config["recipe"]
    expected = resolve_recipe("seed000", "cpu", SHRINK)
    assert recipe["profile"] == "cpu"
    for key in ("train", "stages", "model", "eval"):
        assert recipe[key] == expected[key]
    metrics = json.loads((cpu_run / "metrics.json").read_text())
    assert set(metrics["subjects"]) == {"keras", "torch"}
    for framework in ("keras", "torch"):
        history = pd.read_csv(cpu_run / framework / "seed0" / "fold0" / "history.csv")
        assert list(history["stage"].unique()) == ["bce", "lovasz"]
        assert history["wall_seconds"].is_monotonic_increasing
        assert (history["wall_seconds"] >= history["train_seconds"].cumsum() - 1e-6).all()


def test_report_plots_validation_score_against_wall_time(cpu_run):
    assert (cpu_run / "plots" / "score_vs_wall.png").stat().st_size > 1000
    assert "plots/score_vs_wall.png" in (cpu_run / "report.md").read_text()


def test_predict_from_the_cpu_run_writes_a_valid_submission(cpu_run, smoke_cache, tmp_path):
    written = predict_submission(cpu_run, smoke_cache, tmp_path / "submission.csv")
    assert len(written) == 8  # the profile's shrunk synthetic test set


def test_post_processing_is_searched_and_cross_fitted_alike_for_both_twins(cpu_run):
    from common.core.postprocess import MIN_AREA_GRID

    metrics = json.loads((cpu_run / "metrics.json").read_text())
    for framework, summary in metrics["subjects"].items():
        assert summary["min_area"] in MIN_AREA_GRID, framework
        (unit,) = summary["folds"]
        assert unit["min_area"] in MIN_AREA_GRID
        assert len(unit["min_areas_cross_fitted"]) == len(unit["thresholds_cross_fitted"]) == 2
        assert unit["score_cross_fitted"] <= 1.0
        # the joint search includes area 0, so it can only match or beat the threshold alone
        assert summary["pooled_score"] >= summary["pooled_score_no_min_area"]
        assert 0 < summary["pooled_score_cross_fitted_no_min_area"] <= 1
    assert metrics["ensemble"]["min_area"] in MIN_AREA_GRID


def test_both_twins_ran_the_precision_auto_chose_here(cpu_run):
    from common.core.device import resolve_precision

    expected, why = resolve_precision("auto", "cpu")
    metrics = json.loads((cpu_run / "metrics.json").read_text())
    chosen = {fw: s["numerics"]["precision"] for fw, s in metrics["subjects"].items()}
    assert chosen == {"keras": expected, "torch": expected}
    assert f"cpu, {expected} ({why})" in (cpu_run / "report.md").read_text()


def test_predict_applies_the_runs_minimum_area(cpu_run, smoke_cache, tmp_path):
    import shutil

    copy = tmp_path / cpu_run.name
    shutil.copytree(cpu_run, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["ensemble"]["min_area"] = 101 * 101 + 1  # no mask can be that large: all emptied
    (copy / "metrics.json").write_text(json.dumps(metrics))
    written = predict_submission(copy, smoke_cache, tmp_path / "submission.csv")
    assert len(written) == 8 and (written["rle_mask"] == "").all()
