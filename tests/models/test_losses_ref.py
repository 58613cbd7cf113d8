"""common.models.losses_ref: the NumPy references agree with hand-computed values."""

import numpy as np
import pytest

from common.models import losses_ref


def test_bce_at_zero_logits_is_log2():
    y = np.zeros((2, 5, 5, 1))
    y[0, 0, 0, 0] = 1
    assert losses_ref.bce(y, np.zeros_like(y)) == pytest.approx(np.log(2))


def test_lovasz_at_zero_logits_telescopes():
    """All errors equal 1: the Lovasz weights sum to the final Jaccard loss, 1."""
    y = (np.random.default_rng(0).random((3, 7, 7, 1)) < 0.4).astype(float)
    y[1] = 0  # an empty mask
    z = np.zeros_like(y)
    assert losses_ref.lovasz_hinge(y, z) == pytest.approx(1.0)
    assert losses_ref.lovasz_elu(y, z) == pytest.approx(2.0)  # elu(1) + 1
    assert losses_ref.symmetric_lovasz(y, z) == pytest.approx(1.0)


def test_confident_correct_logits_cost_nothing():
    y = (np.random.default_rng(1).random((2, 6, 6, 1)) < 0.5).astype(float)
    z = np.where(y > 0, 5.0, -5.0)
    assert losses_ref.lovasz_hinge(y, z) == 0.0
    assert losses_ref.bce(y, z) < 0.01


def test_lovasz_grad_matches_definition():
    gt = np.array([1.0, 0.0, 1.0, 0.0])
    jaccard = [1 - (2 - c_in) / (2 + c_out) for c_in, c_out in [(1, 0), (1, 1), (2, 1), (2, 2)]]
    expected = np.diff(np.concatenate([[0.0], jaccard]))
    assert np.allclose(losses_ref.lovasz_grad(gt), expected)


def test_mix_is_the_sum_and_shapes_are_checked():
    y = np.zeros((1, 4, 4, 1))
    z = np.full_like(y, 0.3)
    assert losses_ref.bce_lovasz(y, z) == pytest.approx(
        losses_ref.bce(y, z) + losses_ref.lovasz_hinge(y, z)
    )
    with pytest.raises(ValueError, match="shape"):
        losses_ref.bce(y, z[..., 0])
