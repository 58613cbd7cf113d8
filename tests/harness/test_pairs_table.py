"""The N-way report: Holm's correction can turn a pair that is significant on its own into an
inconclusive one, and the table of pairs shows every subject against the reference."""

from common.harness.pairs_table import pairs_section
from common.harness.verdicts import holm_verdict
from common.stats import holm


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
