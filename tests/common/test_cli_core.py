"""CLI of the core: data synth/check/download, folds, score; bad input gives one line, no traceback."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from common.cli import main


def saltbench(*args, env_extra=None, tmp_path=None):
    import os

    env = dict(os.environ)
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR"):
        env.pop(name, None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "common", *map(str, args)], capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "data"
    assert (
        main(
            ["data", "synth", "--out", str(out), "--n-train", "40", "--n-test", "5", "--seed", "1"]
        )
        == 0
    )
    return out


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SALTBENCH_CACHE", str(tmp_path / "cache"))


def test_check_clean(synth_dir, capsys):
    assert main(["data", "check", str(synth_dir), "--quiet"]) == 0
    assert "ok: 40 train tiles" in capsys.readouterr().out


def test_check_broken_copy_names_each_file(synth_dir, tmp_path):
    import shutil

    root = shutil.copytree(synth_dir, tmp_path / "bad")
    ids = pd.read_csv(root / "train.csv", dtype=str, keep_default_na=False).id
    png = root / "train" / "images" / f"{ids[0]}.png"
    png.write_bytes(png.read_bytes()[:150])
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(
        root / "train" / "images" / f"{ids[1]}.png"
    )
    result = saltbench("data", "check", root, "--quiet")
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and f"{ids[0]}.png" in lines[1] + lines[0] and "100x100" in result.stdout
    assert result.stderr.strip().count("\n") == 0


def test_folds_command(synth_dir, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["folds", str(synth_dir), "--k", "4", "--seed", "2", "--out", str(out)]) == 0
    first = out.read_bytes()
    assert main(["folds", str(synth_dir), "--k", "4", "--seed", "2", "--out", str(out)]) == 0
    assert out.read_bytes() == first and "reused" in capsys.readouterr().out
    assert main(["folds", str(synth_dir), "--k", "3", "--out", str(out)]) == 2  # inconsistent file


def test_score_command(synth_dir, tmp_path):
    truth = synth_dir / "train.csv"
    result = saltbench("score", truth, truth)
    assert result.returncode == 0 and float(result.stdout) == 1.0
    table = pd.read_csv(truth, dtype=str, keep_default_na=False)
    table.rle_mask = ""
    table.to_csv(tmp_path / "empty.csv", index=False)
    result = saltbench("score", tmp_path / "empty.csv", truth)
    assert float(result.stdout) == pytest.approx((pd.read_csv(truth).rle_mask.isna()).mean())
    table.iloc[1:].to_csv(tmp_path / "bad.csv", index=False)
    for bad, message in [("bad.csv", "missing"), ("nope.csv", "not found")]:
        result = saltbench("score", tmp_path / bad, truth)
        assert result.returncode == 2 and message in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    table.loc[2, "rle_mask"] = "1 2 3"
    table.to_csv(tmp_path / "odd.csv", index=False)
    pd.concat([table.iloc[:1], table]).to_csv(tmp_path / "dup.csv", index=False)
    assert "odd number" in saltbench("score", tmp_path / "odd.csv", truth).stderr
    assert f"duplicate id {table.id[0]}" in saltbench("score", tmp_path / "dup.csv", truth).stderr


def test_download_without_credentials_is_one_line(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    result = saltbench("data", "download", tmp_path / "dl", env_extra=env)
    assert result.returncode == 2 and "no Kaggle credentials" in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "dl").exists()


def test_synth_refuses_foreign_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = saltbench("data", "synth", "--out", tmp_path / "x", "--n-train", "3", "--n-test", "1")
    assert result.returncode == 2 and "not a saltbench synthetic dataset" in result.stderr
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"
