"""The N-way report: in runs made before framework-level verdicts, Holm's correction can turn a
pair that is significant on its own into an inconclusive one; in this version's runs every pair
shows both levels, Bonferroni-adjusted, and the interval shown is the one that decides."""

from common.compare.analysis.verdicts import holm_verdict
from common.compare.report.pairs_table import pairs_section
from common.stats.intervals import holm


def _pair(estimate: float, p: float, p_eq: float) -> dict:
    return {
        "difference": {"estimate": estimate, "low": estimate - 0.01, "high": estimate + 0.01,
                       "n": 200, "method": "bootstrap", "p_difference": p, "p_equivalence": p_eq},
        "ratio_ci": {"train_img_s": {"estimate": 0.8, "low": 0.7, "high": 0.9, "n": 6,
                                     "method": "bootstrap"}},
    }  # fmt: skip


def _metrics(pairs: dict) -> dict:
    for key in ("p_difference", "p_equivalence"):
        adjusted = holm({s: p["difference"][key] for s, p in pairs.items()})
        for subject, value in adjusted.items():
            pairs[subject]["difference"][f"{key}_holm"] = value
    return {"reference": "torch", "pairs": pairs, "margins": {"score": 0.01, "speed": 0.05},
            "holm_family": len(pairs)}  # fmt: skip


def test_holm_turns_two_borderline_differences_inconclusive():
    metrics = _metrics({"keras-tf": _pair(0.02, 0.03, 0.9), "keras-jax": _pair(0.02, 0.04, 0.9)})
    alone = holm_verdict("keras-tf", "torch", {**metrics["pairs"]["keras-tf"]["difference"],
                         "p_difference_holm": 0.03}, 0.01)  # fmt: skip
    assert alone.startswith("Keras/TF scores higher by 0.0200")
    lines = pairs_section(metrics)
    verdicts = [line for line in lines if line.startswith("- Keras/")]
    assert len(verdicts) == 2 and all("inconclusive" in v for v in verdicts)
    assert any("Holm correction across them" in line for line in lines)


def test_the_table_of_pairs_has_a_row_per_subject_with_ratio_intervals():
    metrics = _metrics({"keras-tf": _pair(-0.03, 1e-6, 0.99), "keras-jax": _pair(0.0, 0.9, 1e-5)})
    lines = pairs_section(metrics)
    rows = [line for line in lines if line.startswith("| Keras/")]
    assert len(rows) == 2 and all("0.80 [0.70, 0.90] n=6" in row for row in rows)
    text = "\n".join(lines)
    assert "Keras/TF − PyTorch: PyTorch scores higher by 0.0300" in text
    assert "Keras/JAX − PyTorch: equivalent within ±0.01" in text


def _two_level_pair(shift: float, seed: int) -> dict:
    """A pair as this version stores it: both levels from common.stats.levels, 2 pairs adjusted."""
    import numpy as np

    from common.stats.levels import compare_levels

    rng = np.random.default_rng(seed)
    diff = np.round(rng.normal(shift, 0.1, (1, 5 * 200)), 1)
    folds = np.repeat(np.arange(5), 200)
    levels = compare_levels(diff, folds, 0.01, 0.25, 2, "Keras/TF", "PyTorch", n_resamples=999)
    ratio = {"estimate": 0.8, "low": 0.7, "high": 0.9, "n": 5, "method": "t"}
    return {
        "difference": {**levels["models"], "units": 5},
        "frameworks": levels["frameworks"],
        "ratio_ci": {"train_img_s": ratio, "infer_img_s": ratio},
        "ratio_ci90": {"train_img_s": ratio, "infer_img_s": ratio},
        "speed_unit": "training run",
    }


def test_two_level_pairs_show_the_adjusted_intervals_that_decide():
    pairs = {"keras-tf": _two_level_pair(0.2, 0), "keras-jax": _two_level_pair(0.0, 1)}
    metrics = {"reference": "torch", "pairs": pairs, "family": 2,
               "margins": {"score": 0.01, "speed": 0.05}}  # fmt: skip
    text = "\n".join(pairs_section(metrics))
    assert "Bonferroni-adjusted for 2 pairs" in text and "Holm" not in text
    assert text.count("Verdict, the frameworks on this dataset (") == 2
    assert text.count("Verdict, the frameworks across training sets (") == 2
    assert text.count("Verdict, these trained models (") == 2
    assert "97.5 % interval" in text  # 1 - 0.05/2: the interval shown is the one that decides
    runs = pairs["keras-tf"]["frameworks"]
    assert runs["verdict"]["kind"] == "higher" and runs["low"] > 0
    row = next(line for line in text.splitlines() if line.startswith("| Keras/TF |"))
    assert f"{runs['low']:+.4f}" in row and "n=5" in row  # the row shows the same interval
