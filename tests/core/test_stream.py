"""common.core.stream: batches depend only on (seed, epoch, batch index); flips and order are deterministic."""

import numpy as np
import pytest

from common.core.stream import BatchStream, derive_seed


def make_stream(n=10, batch=4, seed=3, **kw):
    images = np.arange(n * 101 * 101, dtype=np.float32).reshape(n, 101, 101, 1)
    masks = np.zeros((n, 101, 101, 1), bool)
    masks[:, :, :50] = True  # left half: a flip moves it to the right
    return BatchStream(images, masks, batch, seed, **kw)


def test_batches_are_pure_functions_of_seed_epoch_index():
    a, b = make_stream(), make_stream()
    late_first = [b.batch(2, 1), b.batch(0, 0)]  # asked out of order, in another object
    assert np.array_equal(a.batch(0, 0)[0], late_first[1][0])
    assert np.array_equal(a.batch(2, 1)[1], late_first[0][1])


def test_epochs_and_seeds_change_the_order():
    s = make_stream(n=64, batch=8)
    assert not np.array_equal(s.epoch_plan(0)[0], s.epoch_plan(1)[0])
    assert not np.array_equal(
        s.epoch_plan(0)[0], make_stream(n=64, batch=8, seed=4).epoch_plan(0)[0]
    )


def test_each_epoch_is_a_permutation_and_flips_mirror_image_and_mask_together():
    s = make_stream(n=32, batch=8)
    seen = []
    for index in range(s.num_batches):
        items, flips = s.batch_indices(5, index)
        x, y = s.batch(5, index)
        for k, (item, flip) in enumerate(zip(items, flips, strict=True)):
            original = s.images[item]
            assert np.array_equal(x[k], original[:, ::-1] if flip else original)
            assert y[k, 0, 0, 0] == (0.0 if flip else 1.0)
        seen.extend(items.tolist())
    assert sorted(seen) == list(range(32))
    assert 0 < s.epoch_plan(5)[1].sum() < 32


def test_drop_last_and_shapes():
    s = make_stream(n=10, batch=4)
    assert s.num_batches == 2 and s.images_per_epoch == 8
    x, y = s.batch(0, 1)
    assert x.shape == (4, 101, 101, 1) and x.dtype == np.float32 and y.dtype == np.float32
    keep = make_stream(n=10, batch=4, drop_last=False)
    assert keep.num_batches == 3 and keep.batch(0, 2)[0].shape[0] == 2
    with pytest.raises(IndexError):
        s.batch(0, 2)


def test_no_flip_when_disabled_and_seed_mixing_is_stable():
    assert not make_stream(hflip=False).epoch_plan(0)[1].any()
    assert derive_seed(1, 2, 3) == derive_seed(1, 2, 3) != derive_seed(1, 2, 4)
