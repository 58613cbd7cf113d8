"""Concurrent runs append to results/leaderboard.csv without losing or tearing rows."""

import multiprocessing as mp

import pandas as pd
import pytest

from common.compare.report.leaderboard import (
    LEADERBOARD_COLUMNS,
    ROWS_FILE,
    append_leaderboard,
    keep_and_append,
    reappend_run_rows,
)
from common.core.errors import DamagedTableError
from tests.compare.conftest import SMOKE_ARGS, saltbench


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
        "subjects": {"keras": summary, "torch": summary},
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
    for summary in metrics["subjects"].values():
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


def test_an_older_board_names_the_twin_column_twin_after_its_next_append(tmp_path):
    """A board written before the one vocabulary has `framework` (the twin): the next append gives
    its rows one `twin` column, old rows' values kept; a run's kept rows read the same way."""
    path = tmp_path / "leaderboard.csv"
    columns = ["framework" if c == "twin" else c for c in LEADERBOARD_COLUMNS]
    pd.DataFrame(
        [dict.fromkeys(columns, "x") | {"run_id": "old-run", "framework": "keras"}]
    ).to_csv(path, index=False)
    append_leaderboard(path, *fake_run("new-run"))
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert "framework" not in table.columns and list(table.columns) == LEADERBOARD_COLUMNS
    assert table.loc[table["run_id"] == "old-run", "twin"].tolist() == ["keras"]
    assert set(table.loc[table["run_id"] == "new-run", "twin"]) == {"keras", "torch"}


def damage(path) -> int:
    """Append one line with an unbalanced quote (as an editor slip would); returns its number."""
    with open(path, "a") as board:
        board.write('bad-run,"2026-01-01,keras\n')
    return len(path.read_text().splitlines())


def test_a_damaged_board_is_one_line_naming_the_file_and_the_line(tmp_path):
    path = tmp_path / "leaderboard.csv"
    config, metrics = fake_run("first")
    append_leaderboard(path, config, metrics)
    line = damage(path)
    with pytest.raises(DamagedTableError) as caught:
        append_leaderboard(path, *fake_run("second"))
    message = str(caught.value)
    assert message.startswith(f"{path}: damaged at line {line} (") and "bad-run" in message
    assert "\n" not in message


def test_a_damaged_board_keeps_the_run_rows_in_the_run_folder(tmp_path):
    results = tmp_path / "results"
    run_dir = results / "second"
    run_dir.mkdir(parents=True)
    board = results / "leaderboard.csv"
    append_leaderboard(board, *fake_run("first"))
    damage(board)
    damaged = board.read_bytes()
    config, metrics = fake_run("second")
    problem = keep_and_append(run_dir, config, metrics)
    assert problem is not None and f"{board}: damaged at line 6" in problem
    assert f"saltbench report --run {run_dir} --leaderboard" in problem
    assert board.read_bytes() == damaged  # nothing of the user's file is lost or rewritten
    kept = pd.read_csv(run_dir / ROWS_FILE, dtype=str, keep_default_na=False)
    assert kept["run_id"].tolist() == ["second"] * 4
    board.write_bytes(damaged[: damaged.rindex(b"bad-run")])  # the user mends the line
    assert reappend_run_rows(run_dir, config, metrics) == 4
    assert reappend_run_rows(run_dir, config, metrics) == 0  # never twice
    table = pd.read_csv(board, dtype=str, keep_default_na=False)
    assert table["run_id"].tolist() == ["first"] * 4 + ["second"] * 4


def test_compare_refuses_a_damaged_board_before_training(tmp_path):
    board = tmp_path / "leaderboard.csv"
    append_leaderboard(board, *fake_run("first"))
    line = damage(board)
    result = saltbench(
        "compare", *SMOKE_ARGS, "--out", str(tmp_path), cache=tmp_path / "cache", check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"saltbench: error: {board}: damaged at line {line} (unexpected end of data): "
        f"'bad-run,\"2026-01-01,keras'; mend or move it, then start again (nothing was run)"
    ]
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # no run folder, no cache


def test_report_appends_a_finished_run_rows_once(smoke_run, smoke_cache, tmp_path):
    """`saltbench report --run RUN --leaderboard` on a copy of a finished run beside an empty board."""
    import shutil

    run_dir = shutil.copytree(smoke_run, tmp_path / smoke_run.name)
    (run_dir / ROWS_FILE).unlink()  # a run older than the kept copy: rows rebuilt from metrics
    first = saltbench("report", str(run_dir), "--leaderboard", cache=smoke_cache)
    assert f"appended 4 rows of run {smoke_run.name}" in first.stdout
    again = saltbench("report", str(run_dir), "--leaderboard", cache=smoke_cache)
    assert "nothing appended" in again.stdout
    table = pd.read_csv(tmp_path / "leaderboard.csv", dtype=str, keep_default_na=False)
    assert table["run_id"].tolist() == [smoke_run.name] * 4
