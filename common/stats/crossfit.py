"""Cross-fitted cuts: every tile scored at a cut (threshold, minimum area) searched without it.

The tiles are split into K groups by tile id (seeded, the same groups for every subject and seed,
so one tile's rows of several seeds always sit in one group); each group is scored at the cut
searched on the other K - 1 groups. Comparing two subjects on these scores compares them at cuts
neither chose on the tile being scored, and the gap between the searched score and this one is
the optimism of the search by construction (cross-validation of a tuning step: Varma & Simon
2006; Tibshirani & Tibshirani 2009).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.core.postprocess import Cut, cut_scores, search_cut, tile_scores

GROUPS = 5


def tile_groups(ids, k: int = GROUPS, seed: int = 0) -> np.ndarray:
    """The group (0..k-1) of each row's tile: a seeded shuffle of the distinct ids dealt round-robin."""
    distinct = sorted(set(map(str, ids)))
    order = np.random.default_rng(seed).permutation(len(distinct))
    group_of = {distinct[j]: rank % k for rank, j in enumerate(order)}
    return np.array([group_of[str(i)] for i in ids], dtype=np.int64)


def crossfit_scores(
    truth: np.ndarray, logits: np.ndarray, groups: np.ndarray, thresholds, areas=(0,)
) -> tuple[np.ndarray, list[Cut]]:
    """(per-row score, each group's cut): rows of group g scored at the cut with the best mean on
    the rows outside g (ties: lowest threshold, then area, as common.core.postprocess.search_cut)."""
    thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
    table = cut_scores(truth, logits, thresholds, areas)  # (T, A, N)
    totals, counts = table.sum(axis=2), len(groups)
    scores, cuts = np.empty(len(groups)), []
    for group in range(int(groups.max()) + 1 if len(groups) else 0):
        held = groups == group
        outside = counts - int(held.sum())
        if not held.any():
            continue
        if outside == 0:  # one tile only: nothing outside it to choose on; the searched cut
            means = totals / counts
        else:
            means = (totals - table[:, :, held].sum(axis=2)) / outside
        i, j = np.unravel_index(int(np.argmax(means)), means.shape)
        cut = Cut(float(thresholds[i]), int(areas[j]))
        scores[held] = table[i, j, held]
        cuts.append(cut)
    return scores, cuts


def cross_fitted_score(
    truth: np.ndarray, logits: np.ndarray, grid, seed: int = 0, areas=(0,)
) -> dict[str, Any]:
    """Score with the cut (threshold, and minimum area over `areas`) chosen on held-out tiles: the
    tiles are split in two halves at random (seeded), each half is scored at the cut searched on
    the other half, and the per-tile scores of both halves are averaged. Unlike the cut searched
    on the scored tiles themselves, no tile helps choose the cut it is scored with."""
    n = len(truth)
    if n < 2:
        return {"score": float("nan"), "thresholds": [], "min_areas": []}
    order = np.random.default_rng(seed).permutation(n)
    halves = (order[: n // 2], order[n // 2 :])
    scores = np.empty(n)
    thresholds, min_areas = [], []
    for scored, chooser in (halves, halves[::-1]):
        cut, _ = search_cut(truth[chooser], logits[chooser], grid, areas)
        scores[scored] = tile_scores(truth[scored], logits[scored], cut)
        thresholds.append(cut.threshold)
        min_areas.append(cut.min_area)
    return {"score": float(scores.mean()), "thresholds": thresholds, "min_areas": min_areas}
