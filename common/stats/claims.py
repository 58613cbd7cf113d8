"""The claims a comparison makes about each pair, and one error budget over all of them.

The score difference at the level of the frameworks (over training runs) is the declared primary
outcome. The secondary claims are the score of these trained models (over tiles), training and
inference speed, peak memory, and time to target. All of them form one family per run, under a
weighted Bonferroni rule: half of alpha goes to the primary, the other half is split equally over
the secondary claims (time to target's share split again over its targets), and everything is
divided over the pairs. By Bonferroni's inequality the chance that any claim of the run is wrong
stays at most alpha, whatever the dependence between the claims (the "one family over all claims"
option of Dmitrienko & Tamhane, 2007, with the primary weighted). Gatekeeping was the alternative;
it would leave every speed claim untested whenever the score comparison is inconclusive, which on
a few training runs is the common case.

Each claim reads its verdict off its own interval: a (1 - a) interval for "higher"/"faster" and a
(1 - 2a) one for equivalence (two one-sided tests), a being the claim's share of alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALPHA = 0.05
PRIMARY_SHARE = 0.5
PRIMARY = "score, the frameworks"
MODELS = "score, these trained models"
TRAIN_SPEED = "training speed"
INFER_SPEED = "inference speed"
MEMORY = "peak memory"
TIME_TO_TARGET = "time to target"
SECONDARY = (MODELS, TRAIN_SPEED, INFER_SPEED, MEMORY, TIME_TO_TARGET)


@dataclass(frozen=True)
class ClaimPlan:
    """The error budget of one run: `pairs` compared, `targets` time-to-target targets each."""

    pairs: int = 1
    targets: int = 1

    def divisor(self, claim: str) -> float:
        """alpha / divisor is the two-sided error `claim` may spend, for each pair."""
        if claim == PRIMARY:
            return self.pairs / PRIMARY_SHARE
        if claim not in SECONDARY:
            raise ValueError(f"unknown claim {claim!r}")
        share = self.pairs * len(SECONDARY) / (1 - PRIMARY_SHARE)
        return share * max(1, self.targets) if claim == TIME_TO_TARGET else share

    def levels(self, claim: str) -> tuple[float, float]:
        """(confidence of the interval that decides a difference, of the equivalence one)."""
        error = ALPHA / self.divisor(claim)
        return 1.0 - error, 1.0 - 2.0 * error

    def spent(self) -> float:
        """The alpha all claims of the run spend together (== ALPHA by construction)."""
        per_pair = sum(ALPHA / self.divisor(c) for c in (PRIMARY, *SECONDARY))
        extra_targets = (max(1, self.targets) - 1) * ALPHA / self.divisor(TIME_TO_TARGET)
        return self.pairs * (per_pair + extra_targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": PRIMARY,
            "secondary": list(SECONDARY),
            "pairs": self.pairs,
            "targets": self.targets,
            "alpha": ALPHA,
            "levels": {c: self.levels(c)[0] for c in (PRIMARY, *SECONDARY)},
            "method": "one family, weighted Bonferroni (half of alpha to the primary)",
        }


def claims_line(stored: dict[str, Any]) -> str:
    """The one line that names the primary outcome and the correction (metrics.json `claims`)."""
    levels = stored["levels"]
    secondary = levels[MODELS]
    per_target = levels[TIME_TO_TARGET]
    pairs = stored["pairs"]
    over = f" and over {pairs} pairs" if pairs > 1 else ""
    return (
        f"Claims: the primary outcome is the score at the level of the frameworks "
        f"({_pct(levels[PRIMARY])} interval); secondary, at {_pct(secondary)} each: these trained "
        f"models, training and inference speed, peak memory, and time to target "
        f"({_pct(per_target)} for each of {stored['targets']} targets). One family, weighted "
        f"Bonferroni (half of α = {stored['alpha']:g} to the primary, the rest split over the "
        f"secondary claims{over}): the chance that any claim here is wrong is at most "
        f"{stored['alpha']:.0%}."
    )


def _pct(confidence: float) -> str:
    return f"{confidence * 100:.4g} %"
