"""Concurrent runs append to results/leaderboard.csv without losing or tearing rows."""

import multiprocessing as mp

import pandas as pd

from common.harness.aggregate import LEADERBOARD_COLUMNS, append_leaderboard


def fake_run(run_id: str) -> tuple[dict, dict]:
    fold = {
        "fold": 0,
        "score": 0.5,
        "threshold": 0.0,
        "train_img_s": 10.0,
        "infer_img_s": 50.0,
        "epochs": 3,
        "wall_s": 12.0,
    }
    summary = {
        "backend": "x",
        "versions": {"numpy": "2"},
        "folds": [fold],
        "score_mean": 0.5,
        "score_std": 0.0,
        "threshold": 0.0,
        "train_img_s": 10.0,
        "infer_img_s": 50.0,
        "epochs": 3,
        "wall_s": 12.0,
    }
    config = {
        "run_id": run_id,
        "recipe": {"model": {"name": "resunet"}, "recipe": "seed000", "profile": "smoke"},
    }
    metrics = {
        "finished": "2026-01-01T00:00:00",
        "frameworks": {"keras": summary, "torch": summary},
    }
    return config, metrics


def append_many(path: str, worker: int, count: int) -> None:
    for k in range(count):
        config, metrics = fake_run(f"run-{worker}-{k}")
        append_leaderboard(path, config, metrics)


def test_parallel_appends_keep_every_row(tmp_path):
    path = tmp_path / "leaderboard.csv"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=append_many, args=(path, w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns) == LEADERBOARD_COLUMNS
    assert len(table) == 4 * 5 * 4  # runs x (2 frameworks x (1 fold + mean))
    assert table["run_id"].nunique() == 20
    assert set(table["fold"]) == {"0", "mean"}


def test_the_same_run_is_not_appended_twice(tmp_path):
    path = tmp_path / "leaderboard.csv"
    config, metrics = fake_run("once")
    append_leaderboard(path, config, metrics)
    append_leaderboard(path, config, metrics)
    assert len(pd.read_csv(path)) == 4


def test_new_columns_are_appended_after_the_rows_of_an_older_leaderboard(tmp_path):
    path = tmp_path / "leaderboard.csv"
    old_columns = LEADERBOARD_COLUMNS[: LEADERBOARD_COLUMNS.index("versions") + 1]
    old = pd.DataFrame([dict.fromkeys(old_columns, "x") | {"run_id": "old-run"}])
    old.to_csv(path, index=False)
    config, metrics = fake_run("new-run")
    for summary in metrics["frameworks"].values():
        summary["time_to_target"] = [
            {"target": 0.5, "reached": 1, "folds": 1, "seconds": 12.0, "images": 96.0}
        ]
    append_leaderboard(path, config, metrics)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns[: len(old_columns)]) == old_columns
    assert list(table.columns[-2:]) == ["time_to_0.5_images", "time_to_0.5_s"]
    assert table.loc[table["run_id"] == "old-run", "score"].tolist() == ["x"]
    mean_rows = table[(table["run_id"] == "new-run") & (table["fold"] == "mean")]
    assert mean_rows["time_to_0.5_s"].tolist() == ["12.0", "12.0"]
