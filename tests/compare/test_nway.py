"""N-way compare: three subjects (PyTorch, Keras on TensorFlow, Keras on JAX) in one run, with
pairs against the reference, verdicts at both levels in one family of claims, a schedule that never oversubscribes the
cores, and a kill/resume that ends with the same metrics as the uninterrupted run."""

import json
from pathlib import Path

import pandas as pd
import pytest

from common.stats.claims import MODELS, PRIMARY, ClaimPlan
from tests.compare.conftest import saltbench, start_compare, the_run_dir
from tests.compare.test_resume import fold_state, kill_when
from tests.conftest import NWAY_ARGS, NWAY_SUBJECTS

pytestmark = [pytest.mark.slow, pytest.mark.keras, pytest.mark.torch]

SUBJECTS = NWAY_SUBJECTS


def test_three_subjects_get_columns_pairs_and_adjusted_verdicts(nway_run):
    run_dir, stdout = nway_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["subjects"]) == set(SUBJECTS)  # the noise-floor copy is no subject
    assert metrics["reference"] == "torch" and set(metrics["pairs"]) == {"keras-tf", "keras-jax"}
    assert metrics["subjects"]["keras-jax"]["backend"] == "jax"
    assert metrics["subjects"]["keras-tf"]["backend"] == "tensorflow"
    targets = len(json.loads((run_dir / "config.json").read_text())["recipe"]["eval"]["targets"])
    plan = ClaimPlan(pairs=2, targets=targets)  # one family over every claim of both pairs
    assert metrics["claims"]["levels"][PRIMARY] == pytest.approx(plan.levels(PRIMARY)[0])
    for pair in metrics["pairs"].values():
        diff, runs = pair["difference"], pair["frameworks"]
        assert runs["confidence"] == pytest.approx(1 - 0.05 / 4)  # half of alpha over 2 pairs
        assert diff["confidence"] == pytest.approx(plan.levels(MODELS)[0]) and diff["verdict"]
        assert runs["verdict"]["line"]
        assert set(pair["ratio_ci"]) == {"train_img_s", "infer_img_s"}
        assert pair["ratio_ci"]["train_img_s"]["confidence"] == pytest.approx(diff["confidence"])
        assert pair["memory_ratio"]["what"] == "peak_rss_mib"
        assert pair["drift"]["epochs"], "no drift recorded against the reference"
    assert "| | PyTorch | Keras/TF | Keras/JAX |" in stdout  # the run's order, one column each
    assert stdout.count("Verdict, the frameworks on this dataset (") == 2
    assert stdout.count("Verdict, the frameworks across training sets (") == 2
    assert stdout.count("Verdict, these trained models (") == 2
    assert "Bonferroni-adjusted" in stdout and "each decided by the interval shown" in stdout
    report = (run_dir / "report.md").read_text()
    assert "Schedule: at most 2 workers at a time" in report
    assert report.count("- Claims: the primary outcome is the score at the level of the") == 1
    speed = [line for line in report.splitlines() if line.startswith("- Speed, training")]
    assert len(speed) == 2 and all("n=1 training run" in line for line in speed)
    assert all("shared the machine with" in line and "`saltbench bench`" in line for line in speed)
    for subject in ("keras-tf", "keras-jax"):
        assert (run_dir / f"drift_{subject}.csv").is_file()
    assert (run_dir / "submission_ensemble.csv").is_file() and "all subjects'" in report


def test_the_schedule_never_runs_more_workers_than_cores(nway_run):
    run_dir, _ = nway_run
    records = json.loads((run_dir / "schedule.json").read_text())
    assert [r["subject"] for r in records] == [*SUBJECTS, "torch_ulp"]
    assert all(r["returncode"] == 0 and r["threads"] == 1 and r["slots"] == 2 for r in records)
    for k, record in enumerate(records):  # at every start, at most one other worker is running
        running = [r for r in records[:k] if r["end"] > record["start"] + 0.01]
        assert len(running) <= 1, (record["subject"], running)


def test_leaderboard_rows_name_the_subject_and_its_twin(nway_run):
    run_dir, _ = nway_run
    rows = pd.read_csv(run_dir / "leaderboard_rows.csv", dtype=str, keep_default_na=False)
    assert set(rows["subject"]) == set(SUBJECTS)
    twin = dict(zip(rows["subject"], rows["twin"], strict=False))
    assert twin == {"torch": "torch", "keras-tf": "keras", "keras-jax": "keras"}
    compiled = dict(zip(rows["subject"], rows["jit_compile"], strict=False))
    assert compiled == {"torch": "False", "keras-tf": "False", "keras-jax": "True"}  # jax.jit


def test_three_subjects_killed_then_resumed_match_the_uninterrupted_run(
    nway_run, smoke_cache, tmp_path
):
    reference, _ = nway_run
    out = tmp_path / "results"
    proc = start_compare([*NWAY_ARGS, "--out", str(out)], smoke_cache)

    def run_dir() -> Path | None:
        return the_run_dir(out)

    # Kill while a Keras subject is between its epochs (its optimiser state must resume).
    killed = kill_when(
        proc,
        run_dir,
        lambda: run_dir() and fold_state(run_dir(), "keras-tf").get("next_epoch", 0) >= 1,
    )
    assert killed, "the run finished before it could be killed"
    assert not (run_dir() / "metrics.json").exists()
    saltbench("compare", "--resume", str(run_dir()), cache=smoke_cache)
    expected = json.loads((reference / "metrics.json").read_text())
    resumed = json.loads((run_dir() / "metrics.json").read_text())
    for subject in SUBJECTS:
        a, b = expected["subjects"][subject], resumed["subjects"][subject]
        for key in ("pooled_score", "threshold", "pooled_score_cross_fitted", "epochs"):
            assert b[key] == pytest.approx(a[key], abs=1e-9), (subject, key)
        ha = pd.read_csv(reference / subject / "seed0" / "fold0" / "history.csv")
        hb = pd.read_csv(run_dir() / subject / "seed0" / "fold0" / "history.csv")
        assert hb["train_loss"].tolist() == pytest.approx(ha["train_loss"].tolist(), rel=1e-6)
    for subject in ("keras-tf", "keras-jax"):
        a = expected["pairs"][subject]["difference"]
        b = resumed["pairs"][subject]["difference"]
        assert b["estimate"] == pytest.approx(a["estimate"], abs=1e-9), subject
    assert (run_dir() / "submission_ensemble.csv").read_text() == (
        reference / "submission_ensemble.csv"
    ).read_text()


def test_every_unit_records_its_worker_peak_memory(nway_run):
    """Peak RSS per unit in fold metrics, the report's tables and the leaderboard's last columns."""
    run_dir, stdout = nway_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for subject in SUBJECTS:
        unit = metrics["subjects"][subject]["folds"][0]
        # a worker holds its framework, the model and the data: hundreds of MiB at the least
        assert unit["peak_rss_mib"] > 100 and 0 <= unit["working_set_mib"] <= unit["peak_rss_mib"]
        assert unit["memory_method"] in ("hwm-reset", "sampled")
        assert metrics["subjects"][subject]["peak_rss_mib"] == unit["peak_rss_mib"]
    assert "peak RSS MiB per unit, mean [95 % CI] n = units (largest; its working set)" in stdout
    assert "peak RSS MiB (working set) |" in (run_dir / "report.md").read_text()
    rows = pd.read_csv(run_dir / "leaderboard_rows.csv")
    columns = list(rows.columns)  # appended after the issue-18 columns, old rows still read
    assert columns.index("peak_rss_mib") == columns.index("jit_compile") + 1
    assert (rows["peak_rss_mib"] > 100).all()


def test_every_subject_and_the_noise_floor_copy_get_their_own_curves(nway_run):
    """N-way: one TensorBoard run per subject, the noise floor's one-ulp copy included."""
    pytest.importorskip("tensorboard")
    from tests.compare.curves_reader import assert_curves_match_history

    run_dir, _ = nway_run
    for subject in (*SUBJECTS, "torch_ulp"):
        assert_curves_match_history(run_dir, subject)
