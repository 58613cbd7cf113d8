"""Time to each validation target, per unit and over units (common/compare/unit/targets.py)."""

from common.compare.unit.targets import summarize_time_to_targets, time_to_targets


def test_time_to_target_on_a_fabricated_history():
    history = [
        {"epoch": e, "val_score": s, "train_seconds": 10.0, "images": 100}
        for e, s in enumerate([0.40, 0.55, 0.52, 0.65, 0.61])
    ]
    got = {t["target"]: t for t in time_to_targets(history, [0.5, 0.6, 0.7])}
    assert (got[0.5]["seconds"], got[0.5]["images"], got[0.5]["epoch"]) == (20.0, 200, 1)
    assert (got[0.6]["seconds"], got[0.6]["images"], got[0.6]["epoch"]) == (40.0, 400, 3)
    assert got[0.7]["seconds"] is None and got[0.7]["images"] is None
    slower = time_to_targets([{**r, "train_seconds": 30.0} for r in history], [0.5, 0.6, 0.7])
    summary = summarize_time_to_targets([list(got.values()), slower])
    assert [s["reached"] for s in summary] == [2, 2, 0]
    assert summary[0]["seconds"] == 40.0 and summary[2]["seconds"] is None
