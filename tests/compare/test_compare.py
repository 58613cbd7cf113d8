"""`saltbench compare` end to end on the smoke profile (keras + torch), then `predict` and `report`."""

import json

import numpy as np
import pandas as pd
import pytest

from common.compare.report.leaderboard import LEADERBOARD_COLUMNS
from common.core.submission import validate_submission
from tests.compare.conftest import predict_submission, saltbench

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]


def test_run_directory_has_every_artefact(smoke_run):
    config = json.loads((smoke_run / "config.json").read_text())
    assert config["recipe"]["profile"] == "smoke" and config["subjects"] == ["keras", "torch"]
    assert config["seeds"] == [config["recipe"]["train"]["seed"]]  # one repeat unless --seeds
    assert config["threads"] == 1 and config["versions"]["numpy"]
    for name in [
        "metrics.json",
        "report.md",
        "FINISHED",
        "folds.csv",
        "init_weights_seed0.npz",
        "submission_keras.csv",
        "submission_torch.csv",
        "submission_ensemble.csv",
        "oof_keras.npz",
        "oof_torch.npz",
        "plots/learning_curves.png",
        "plots/score_vs_throughput.png",
        "plots/validation_tiles.png",
    ]:
        assert (smoke_run / name).is_file(), name
    for fw in ("keras", "torch"):
        fold = smoke_run / fw / "seed0" / "fold0"
        history = pd.read_csv(fold / "history.csv")
        assert list(history["stage"]) == ["bce", "bce", "lovasz"]
        assert history["val_score"].between(0, 1).all()
        assert (fold / "model_best.npz").is_file()
        assert len(list(fold.glob("ckpt_e*"))) == 0  # finished stages drop their resume checkpoints


def test_metrics_scores_and_submissions_agree(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    test_ids = (
        pd.read_csv(
            json.loads((smoke_run / "config.json").read_text())["data_dir"]
            + "/sample_submission.csv"
        )["id"]
        .astype(str)
        .tolist()
    )
    for fw, summary in metrics["subjects"].items():
        assert 0 <= summary["score_mean"] <= 1 and summary["train_img_s"] > 0
        assert summary["infer_img_s"] > 0 and summary["folds"][0]["n_val"] > 0
        assert 0 < summary["empty_baseline"] < 1 and summary["pooled_score"] <= 1
        validate_submission(smoke_run / f"submission_{fw}.csv", test_ids)
        with np.load(smoke_run / f"oof_{fw}.npz") as oof:
            assert len(oof["ids"]) == summary["folds"][0]["n_val"]
    assert metrics["reference"] == "torch" and list(metrics["pairs"]) == ["keras"]
    assert "ensemble" in metrics and set(metrics["pairs"]["keras"]["ratio"]) == {
        "train_img_s",
        "infer_img_s",
    }


def test_each_run_reports_its_step_speed_time_to_target_and_threshold_honesty(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    targets = json.loads((smoke_run / "config.json").read_text())["recipe"]["eval"]["targets"]
    for summary in metrics["subjects"].values():
        fold = summary["folds"][0]
        assert [p["stage"] for p in fold["step_probes"]] == ["bce", "lovasz"]
        assert summary["step_img_s"] > 0 and np.isfinite(summary["loop_vs_step_pct"])
        assert 0 <= summary["pooled_score_cross_fitted"] <= 1
        assert [t["target"] for t in summary["time_to_target"]] == targets
    report = (smoke_run / "report.md").read_text()
    assert "train step images/s (bare burst)" in report and "loop vs step" in report
    assert f"time to {targets[0]:g} (train s incl. tracing / images)" in report


def test_leaderboard_and_report(smoke_run):
    board = pd.read_csv(smoke_run.parent / "leaderboard.csv", dtype=str, keep_default_na=False)
    targets = json.loads((smoke_run / "config.json").read_text())["recipe"]["eval"]["targets"]
    assert list(board.columns)[: len(LEADERBOARD_COLUMNS)] == LEADERBOARD_COLUMNS
    assert list(board.columns)[len(LEADERBOARD_COLUMNS) :] == [
        f"time_to_{t:g}_{unit}" for t in targets for unit in ("images", "s")
    ]
    mine = board[board["run_id"] == smoke_run.name]
    assert sorted(zip(mine["twin"], mine["fold"], mine["seed"], strict=True)) == [
        ("keras", "0", "0"),
        ("keras", "mean", ""),
        ("torch", "0", "0"),
        ("torch", "mean", ""),
    ]
    report = (smoke_run / "report.md").read_text()
    assert "| Keras | PyTorch | Keras vs PyTorch |" in report and "train images/s" in report
    assert "n=1" in report and "± 0.0000" not in report  # one unit: no fake spread
    assert "Verdict, the frameworks across training sets (Keras − PyTorch" in report
    assert (
        "Verdict, the frameworks on this dataset (Keras − PyTorch, 1 seed(s) × 1 fold(s)" in report
    )
    assert "## Twin drift" in report
    assert "1 training set (folds; 1 training run per framework): too few to speak across" in report
    assert "Verdict, these trained models (Keras − PyTorch" in report


def test_two_seeds_give_n2_intervals_a_paired_verdict_and_twin_drift(smoke_run_two_seeds):
    run_dir, stdout = smoke_run_two_seeds
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for fw in ("keras", "torch"):
        assert sorted((m["seed"], m["fold"]) for m in metrics["subjects"][fw]["folds"]) == [
            (0, 0),
            (1, 0),
        ]
        ci = metrics["subjects"][fw]["score_ci"]
        assert ci["n"] == 2 and ci["low"] <= ci["estimate"] <= ci["high"]
        assert (run_dir / fw / "seed1" / "fold0" / "fold_metrics.json").is_file()
    with (
        np.load(run_dir / "init_weights_seed0.npz") as a,
        np.load(run_dir / "init_weights_seed1.npz") as b,
    ):
        assert any(not np.array_equal(a[k], b[k]) for k in a.files)  # each seed its own init
    diff = metrics["pairs"]["keras"]["difference"]
    n_tiles = metrics["subjects"]["keras"]["folds"][0]["n_val"]
    assert diff["n_seeds"] == 2 and diff["n"] == n_tiles and diff["low"] <= diff["high"]
    assert "Verdict, the frameworks on this dataset (Keras − PyTorch, 2 seed(s)" in stdout
    assert "n=2" in stdout and "one training set (2 seeds on one fold)" in stdout
    runs = metrics["pairs"]["keras"]["frameworks"]
    assert runs["verdict"]["kind"] == "too few runs" and runs["lead"] == "across"
    assert runs["dataset"]["verdict"]["kind"] == "too few runs"  # 2 seeds on one fold: 1 df
    report = (run_dir / "report.md").read_text().splitlines()
    answer = "\n".join(report[:10])  # the answer first: both levels named in the first 10 lines
    assert (
        report[2] == "## Answer"
        and "**the frameworks across training sets** (2 training runs)" in answer
    )
    assert "**these trained models**" in answer and "- Machine: " in answer
    spm = metrics["score_per_minute"]  # score per CPU minute: every budget, both runs, paired
    assert spm["budgets_min"] and spm["unit"].startswith("CPU minutes")
    assert all(cell["n"] == 2 for cell in spm["subjects"]["keras"] + spm["differences"]["keras"])
    assert "## Score per CPU minute" in report and "best validation score within" in answer
    assert (run_dir / "plots" / "score_vs_cpu_minutes.png").is_file()
    assert metrics["machine"]["cpus"] >= 1 and metrics["machine"]["cpu_model"]
    drift = pd.read_csv(run_dir / "drift_keras.csv")
    assert sorted(set(zip(drift["seed"], drift["epoch"], strict=True))) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    assert (drift["weights_total"] >= 0).all() and drift["mask_iou"].between(0, 1).all()
    assert not (run_dir / "drift_keras").exists()  # per-epoch weights deleted once paired
    assert (run_dir / "plots" / "twin_drift.png").is_file()


def test_report_command_rebuilds_from_files(smoke_run, smoke_cache):
    (smoke_run / "report.md").unlink()
    result = saltbench("report", str(smoke_run), cache=smoke_cache)
    assert (smoke_run / "report.md").is_file() and "inference images/s" in result.stdout


def test_finished_run_is_never_resumed_over(smoke_run, smoke_cache):
    before = (smoke_run / "metrics.json").read_text()
    result = saltbench("compare", "--resume", str(smoke_run), cache=smoke_cache, check=False)
    assert result.returncode == 2
    assert (
        result.stderr.strip().startswith("saltbench: error:")
        and "already finished" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert (smoke_run / "metrics.json").read_text() == before


def test_predict_writes_a_valid_submission(smoke_run, smoke_cache, tmp_path):
    data_dir = json.loads((smoke_run / "config.json").read_text())["data_dir"]
    out = tmp_path / "sub.csv"
    written = predict_submission(smoke_run, smoke_cache, out)
    # the run's own ensemble submission came from the same models and threshold
    own = pd.read_csv(smoke_run / "submission_ensemble.csv", dtype=str, keep_default_na=False)
    assert written.equals(own)
    again = saltbench(
        "predict",
        "--run",
        str(smoke_run),
        "--data",
        data_dir,
        "--out",
        str(out),
        cache=smoke_cache,
        check=False,
    )
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda df: df.iloc[1:], "missing"),
        (lambda df: df.iloc[::-1], "expected"),
        (lambda df: df.assign(rle_mask=["1 5 3 2"] + list(df["rle_mask"][1:])), "overlapping"),
    ],
)
def test_predict_check_rejects_bad_submissions(smoke_run, smoke_cache, tmp_path, damage, message):
    data_dir = json.loads((smoke_run / "config.json").read_text())["data_dir"]
    good = pd.read_csv(smoke_run / "submission_torch.csv", dtype=str, keep_default_na=False)
    bad = tmp_path / "bad.csv"
    damage(good).to_csv(bad, index=False)
    result = saltbench(
        "predict", "--data", data_dir, "--check", str(bad), cache=smoke_cache, check=False
    )
    assert result.returncode == 2, result.stdout
    line = result.stderr.strip()
    assert line.startswith("saltbench: error:") and len(line.splitlines()) == 1
    assert message in line.lower()
    ok = saltbench(
        "predict",
        "--data",
        data_dir,
        "--check",
        str(smoke_run / "submission_torch.csv"),
        cache=smoke_cache,
    )
    assert "valid" in ok.stdout


def test_report_recompute_rederives_the_same_statistics_from_the_per_tile_outputs(
    smoke_run_two_seeds, smoke_cache, tmp_path
):
    """`report --recompute` rescores the kept OOF logits with this version's methods: on a run this
    version made, it reproduces metrics.json's statistics exactly, and keeps what was measured."""
    import shutil

    run_dir, _ = smoke_run_two_seeds
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    before = json.loads((copy / "metrics.json").read_text())
    result = saltbench("report", str(copy), "--recompute", cache=smoke_cache)
    assert "statistics recomputed" in result.stdout
    after = json.loads((copy / "metrics.json").read_text())
    for level in ("difference", "frameworks"):
        a, b = before["pairs"]["keras"][level], after["pairs"]["keras"][level]
        assert (b["estimate"], b["low"], b["high"]) == (a["estimate"], a["low"], a["high"])
    assert after["pairs"]["keras"]["drift"] == before["pairs"]["keras"]["drift"]
    assert after["subjects"]["torch"]["folds"] == before["subjects"]["torch"]["folds"]
    assert "recomputed" in after and (copy / "report.md").read_text().startswith("# saltbench")
    (copy / "oof_torch.npz").unlink()
    missing = saltbench("report", str(copy), "--recompute", cache=smoke_cache, check=False)
    assert missing.returncode != 0 and "oof_torch.npz: not found" in missing.stderr
    assert "Traceback" not in missing.stderr
