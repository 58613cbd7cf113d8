"""Speed of the framework-free core: RLE encode/decode of 18000 masks, metric over 4000, data loading.

Run: .venv/bin/pytest benchmarks/test_core_bench.py --benchmark-only
Targets on the 2-core dev box: encode 18000 masks < 0.5 s, metric over 4000 masks < 0.2 s.
Under --benchmark-disable every body runs once on small inputs, so the suite stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.core.kaggle import load_dataset
from common.core.metric import competition_score
from common.core.rle import rle_decode_many, rle_encode_many
from common.core.synth import make_tile, tile_rng, write_synthetic_dataset

REAL_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "tgs-salt"
N_TEST_MASKS = 18000
N_TRAIN_MASKS = 4000


def _disabled(config: pytest.Config) -> bool:
    return bool(config.getoption("benchmark_disable", False))


def _count(config: pytest.Config, full: int) -> int:
    return 40 if _disabled(config) else full


def _run(benchmark, func, *, rounds=5, warmup=1, items=0, unit="masks"):
    result = benchmark.pedantic(func, rounds=rounds, warmup_rounds=warmup, iterations=1)
    if benchmark.stats is not None and items:
        median = benchmark.stats.stats.median
        benchmark.extra_info[f"{unit}_per_s"] = round(items / median, 1)
        benchmark.extra_info["items"] = items
    return result


@pytest.fixture(scope="module")
def masks(request) -> np.ndarray:
    """Realistic masks: 500 synthetic salt bodies (about 40 % empty) tiled to 18000."""
    n = _count(request.config, N_TEST_MASKS)
    distinct = np.stack([make_tile(tile_rng(0, 0, i)).mask for i in range(min(n, 500))])
    return np.resize(distinct, (n, 101, 101))


@pytest.fixture(scope="module")
def rles(masks) -> list[str]:
    return rle_encode_many(masks)


@pytest.mark.benchmark(group="rle")
def test_rle_encode_18000(benchmark, masks):
    encoded = _run(benchmark, lambda: rle_encode_many(masks), items=len(masks))
    assert len(encoded) == len(masks)


@pytest.mark.benchmark(group="rle")
def test_rle_decode_18000(benchmark, masks, rles):
    decoded = _run(benchmark, lambda: rle_decode_many(rles), items=len(rles))
    assert decoded.shape == masks.shape


@pytest.mark.benchmark(group="metric")
def test_metric_4000(benchmark, request, masks):
    n = _count(request.config, N_TRAIN_MASKS)
    truth = masks[:n]
    pred = np.roll(truth, 2, axis=2)
    score = _run(benchmark, lambda: competition_score(truth, pred), rounds=10, items=n)
    assert 0 <= score <= 1


@pytest.fixture(scope="module")
def synth_root(request, tmp_path_factory) -> Path:
    n = _count(request.config, N_TRAIN_MASKS)
    root = tmp_path_factory.mktemp("bench") / "synthetic"
    return write_synthetic_dataset(root, n, n // 4, seed=0, progress=False)


def _bench_load(benchmark, root: Path, *, cached: bool, tmp_path, monkeypatch):
    monkeypatch.setenv("SALTBENCH_CACHE", str(tmp_path / "cache"))
    if cached:
        load_dataset(root, progress=False)  # fill the cache once
    rounds = 3 if cached else 2
    data = _run(
        benchmark,
        lambda: load_dataset(root, use_cache=cached, progress=False),
        rounds=rounds,
        warmup=1 if cached else 0,
        items=0,
    )
    tiles = len(data.train_ids) + len(data.test_ids)
    if benchmark.stats is not None:
        benchmark.extra_info["tiles_per_s"] = round(tiles / benchmark.stats.stats.median, 1)
        benchmark.extra_info["tiles"] = tiles
    assert len(data.train_ids) > 0


@pytest.mark.benchmark(group="load-synthetic")
@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cached"])
def test_load_synthetic(benchmark, synth_root, cached, tmp_path, monkeypatch):
    _bench_load(benchmark, synth_root, cached=cached, tmp_path=tmp_path, monkeypatch=monkeypatch)


@pytest.mark.benchmark(group="load-real")
@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cached"])
def test_load_real(benchmark, request, cached, tmp_path, monkeypatch):
    if _disabled(request.config) or not (REAL_DATA_DIR / "train.csv").is_file():
        pytest.skip("real TGS data absent (or benchmarks disabled)")
    _bench_load(benchmark, REAL_DATA_DIR, cached=cached, tmp_path=tmp_path, monkeypatch=monkeypatch)
