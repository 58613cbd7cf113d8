"""Verdict lines of a pair of subjects: the three-way score verdict (equivalent, higher,
inconclusive), the three-way speed readings and, across several pairs, the Holm-corrected one."""

from __future__ import annotations

from typing import Any

from common.subjects.selection import label

ALPHA = 0.05


def plain_interval(interval: dict[str, Any]) -> dict[str, Any]:
    """The Interval fields of a stored difference (it carries n_seeds and confidence too)."""
    return {k: interval[k] for k in ("estimate", "low", "high", "n", "method")}


def format_p(value: float | None) -> str:
    return "n/a" if value is None else ("< 0.0001" if value < 1e-4 else f"{value:.4f}")


def holm_verdict(subject: str, reference: str, diff: dict[str, Any], margin: float) -> str:
    """'equivalent within ±0.01', '<subject> scores higher by …' or 'inconclusive', each decided
    on the Holm-adjusted p-value of its family (equivalence tests, difference tests)."""
    p_eq, p_diff = diff.get("p_equivalence_holm"), diff.get("p_difference_holm")
    if p_eq is None or p_diff is None:
        return "no test (run made before Holm-corrected verdicts)"
    estimate = diff["estimate"]
    if p_eq < ALPHA:
        return f"equivalent within ±{margin:g} (TOST, Holm-adjusted p {format_p(p_eq)})"
    if p_diff < ALPHA:
        higher = subject if estimate > 0 else reference
        return f"{label(higher)} scores higher by {abs(estimate):.4f} (Holm-adjusted p {format_p(p_diff)})"
    return (
        f"inconclusive: neither a difference (Holm-adjusted p {format_p(p_diff)}) nor equivalence "
        f"within ±{margin:g} (Holm-adjusted p {format_p(p_eq)}) is shown"
    )


def verdict_line(
    diff: dict[str, Any],
    margins: dict[str, float] | None = None,
    first: str = "Keras",
    second: str = "PyTorch",
) -> str:
    """The tile-level verdict of a run made before framework-level verdicts, labelled as such:
    three-way (TOST) where it kept a 90 % interval, else the two-way line."""
    from common.stats.intervals import Interval, difference_verdict
    from common.stats.verdict_rules import three_way_verdict

    seeds = diff.get("n_seeds", 1)
    what = (
        f"Verdict, these trained models only ({first} − {second} pooled OOF score, paired 95 % "
        f"bootstrap over {diff['n']} tiles × {seeds} seed{'s' * (seeds > 1)}"
    )
    interval = Interval(**plain_interval(diff))
    if "tost" not in diff or margins is None:
        return f"{what}): {difference_verdict(interval, first, second)}"
    margin = margins["score"]
    tost = Interval(**plain_interval(diff["tost"]))
    verdict = three_way_verdict(interval, tost, margin, first, second)
    return f"{what}; equivalence margin ±{margin:g}): {verdict['line']}"


def level_lines(pair: dict[str, Any], margins: dict[str, float] | None, first: str, second: str):
    """The two verdict lines of a pair, frameworks first; a run made before them keeps its
    tile-level line, labelled as being about the trained models only."""
    diff, runs = pair.get("difference"), pair.get("frameworks")
    if not diff:
        return []
    if not runs or "verdict" not in diff:
        return [verdict_line(diff, margins, first, second)]
    margin = f"equivalence margin ±{margins['score']:g}" if margins else "no margin"
    conf = f"{diff['confidence'] * 100:.4g} %"
    adjusted = " Bonferroni-adjusted," if diff["confidence"] > 0.95 + 1e-9 else ""
    conf_runs = f"{runs['confidence'] * 100:.4g} %"
    units = len(runs["unit_differences"])
    sd = runs.get("between_unit_sd")
    sets = runs.get("set_differences")
    what = (
        f"the seed-averaged differences of {len(sets)} training set{'s' * (len(sets) != 1)} "
        f"(folds; {units} training runs)"
        if sets is not None
        else f"per-run mean differences of {units} training run{'s' * (units != 1)}"
    )
    spread = (
        f", between-{'set' if sets is not None else 'run'} sd {sd:.4f}" if sd is not None else ""
    )
    across = (
        f"Verdict, the frameworks{' across training sets' if 'dataset' in runs else ''} "
        f"({first} − {second}, {what}{spread}; {runs['method']};{adjusted} "
        f"{conf_runs} interval; {margin}): {runs['verdict']['line']}"
    )
    lines = [across]
    if "dataset" in runs:
        lines = dataset_lines(runs, margin, adjusted, first, second) + [
            across
            + f" {ACROSS_MEANS.format(rho=runs['test_over_train'] / (1 + runs['test_over_train']))}"
        ]
        if runs.get("lead") != "dataset":
            lines.reverse()
    return [
        *lines,
        f"Verdict, these trained models ({first} − {second} on {diff['n']} tiles × "
        f"{diff.get('n_seeds', 1)} seed(s), {diff['differing_tiles']} tiles differ; "
        f"{diff['method']};{adjusted} {conf} interval; {margin}): {diff['verdict']['line']}",
    ]


DATASET_MEANS = (
    "(What it generalises to: another seed of each framework on these same folds of these tiles; "
    "not a new training set.)"
)
ACROSS_MEANS = (
    "(What it generalises to: new training sets of this size, under an assumed correlation "
    "{rho:.2f} between folds that share training data (Nadeau-Bengio), not a measured one.)"
)


def dataset_lines(runs: dict[str, Any], margin: str, adjusted: str, first: str, second: str):
    """The verdict line of the frameworks on this dataset (seeds on fixed folds), with its meaning."""
    d = runs["dataset"]
    parts = [f"seed sd {d['seed_sd']:.4f}" if d.get("seed_sd") is not None else "",
             f"fold sd {d['fold_sd']:.4f}" if d.get("fold_sd") is not None else ""]  # fmt: skip
    spread = "".join(f", {p}" for p in parts if p)
    return [
        f"Verdict, the frameworks on this dataset ({first} − {second}, {d['seeds']} seed(s) × "
        f"{d['folds']} fold(s){spread}; {d['method']};{adjusted} {d['confidence'] * 100:.4g} % "
        f"interval; {margin}): {d['verdict']['line']} {DATASET_MEANS}"
    ]


def _count(n: int, per_run: bool) -> str:
    if not per_run:
        return f"n={n}"
    return f"n={n} training run{'s' * (n != 1)}"


def speed_lines(
    pair: dict[str, Any],
    margins: dict[str, float] | None,
    first: str = "Keras",
    second: str = "PyTorch",
) -> list[str]:
    """The three-way reading of each throughput ratio of a pair (runs with 90 % intervals)."""
    from common.stats.intervals import Interval
    from common.stats.verdict_rules import ratio_verdict

    ci95, ci90 = pair.get("ratio_ci"), pair.get("ratio_ci90")
    if not (ci95 and ci90 and margins):
        return []
    lines = []
    per_run = bool(pair.get("speed_unit"))
    for key, what, verb in (
        ("train_img_s", "training", "trains"),
        ("infer_img_s", "inference", "infers"),
    ):
        if ci95[key].get("estimate") is None:
            continue
        verdict = ratio_verdict(
            Interval(**plain_interval(ci95[key])),
            Interval(**plain_interval(ci90[key])),
            margins["speed"],
            first,
            second,
            verb,
        )
        more = ""
        if verdict["kind"] == "no interval" and per_run:
            more = " (intervals over runs start at 3 runs; `saltbench bench` measures speed with intervals)"
        level = ci95[key].get("confidence")
        at = f"{level * 100:.4g} % interval; " if level else ""
        lines.append(
            f"Speed, {what} ({first} / {second} images/s, {_count(ci95[key]['n'], per_run)}; {at}margin "
            f"±{margins['speed']:.0%}, log-symmetric): {verdict['line']}{more}"
            + sharing_note(pair.get("sharing"), first, second)
        )
    return lines


def sharing_note(sharing: dict[str, Any] | None, first: str, second: str) -> str:
    """'; Keras shared the machine with PyTorch, PyTorch with Keras' and, where the two sides had
    different company, that the ratio mixes machine shares."""
    from common.subjects.selection import label

    if not sharing:
        return ""
    names = {}
    for side, company in sharing["co_runners"].items():
        names[side] = ", ".join(label(s) if not s.endswith("_ulp") else f"{label(s[:-4])} +1 ulp"
                                for s in company) or "no one"  # fmt: skip
    company_a, company_b = names.values()
    note = f"; {first} shared the machine with {company_a}, {second} with {company_b}"
    if not sharing["same"]:
        note += (
            " (different company: read the ratio as timing under different loads; "
            "`--sequential` times every subject alone)"
        )
    return note


def uncertainty_paragraph(metrics: dict[str, Any]) -> str:
    """How to read the intervals: the two levels for runs that have them, else the old reading."""
    from common.compare.analysis.uncertainty import pairs_of

    if not any(p.get("frameworks") for p in pairs_of(metrics).values()):
        return (
            "Uncertainty: a unit is one fold trained from one seed. A framework's score is the "
            "mean over units with a Student-t 95 % interval (n=1: no interval). The difference "
            "pairs both subjects on the same out-of-fold tiles (each at its pooled threshold) and "
            "bootstraps the per-tile differences over tiles and seeds: an interval about these "
            "trained models on these tiles, not about the frameworks (this run was made before "
            "framework-level verdicts). Throughput ratios: bootstrap of the ratio of mean "
            "images/s over timed epochs (training) or units (inference)."
        )
    return (
        "Uncertainty, at two levels. **The frameworks**: would another training run come out the "
        "same way? The unit of replication is the training run (fold × seed): a t interval on "
        "the per-run mean differences with the Nadeau–Bengio correction for folds that share "
        "training data (variance × (1/U + n_test/n_train)); below 3 runs it says there are too "
        "few, unless a noise floor stands in for the between-run spread. **These trained "
        "models**: are these weights equally good on these tiles? A bootstrap over tiles (and "
        "seeds) of the per-tile differences (BCa where at least 100 tiles differ, else "
        "percentile; where no tile differs, the Clopper–Pearson bound on the share that could). "
        "Both compare each tile at a cut (threshold, minimum area) searched on the other 4 of 5 "
        "tile groups, never on the tile itself. Equivalent = the (1 − 2a) interval inside "
        "±margin (TOST), different = the (1 − a) interval excluding 0, a being the claim's "
        + claims_share(metrics)
        + " Speed and peak memory: a run's rate is its timed images over its timed seconds, its "
        "peak the highest it reached; ratios are geometric means of per-run ratios with a t "
        "interval over runs (from 3 runs)."
    )


def claims_share(metrics: dict[str, Any]) -> str:
    """How the run shared alpha among its claims (runs made before `claims`: over pairs only)."""
    if metrics.get("claims"):
        return (
            "share of α (the Claims line in the Answer: one family over every claim of the run, "
            "so the interval shown is the one that decides)."
        )
    return "α over the pairs compared (Bonferroni; 5 % for a lone pair)."
