"""Both twins' epoch loops feed the model exactly the common stream's batches, epoch by epoch."""

import numpy as np
import pytest

from common.core.stream import BatchStream


class FakeSession:
    """Records what a twin's loop asks of the fold session; stops after `stop_after` epochs."""

    def __init__(self, stop_after: int = 99) -> None:
        self.begun, self.ended, self.batches, self.stop_after = [], [], 0, stop_after

    def begin_epoch(self, epoch, num_batches):
        self.begun.append((epoch, num_batches))
        return 0.01

    def batch_done(self, loss):
        self.batches += 1

    def end_epoch(self, epoch, loss, images):
        self.ended.append((epoch, images))
        return len(self.ended) >= self.stop_after


def tiny_stream() -> BatchStream:
    rng = np.random.default_rng(0)
    images = rng.random((12, 101, 101, 1), dtype=np.float32)
    return BatchStream(images, images > 0.5, 4, seed=11)


@pytest.mark.torch
def test_torch_loop_trains_on_the_stream_batches_and_stops_when_told():
    import torch

    from torch_impl.train import TwinTrainer

    seen = []

    class RecordingTrainer:
        def train_step(self, x, y):
            seen.append((x.copy(), y.copy()))
            return 0.5

    twin = TwinTrainer.__new__(TwinTrainer)
    twin.trainer = RecordingTrainer()
    twin.device = torch.device("cpu")  # on the CPU the stream's NumPy batches are fed as they are
    stream, session = tiny_stream(), FakeSession(stop_after=2)
    twin.fit_epochs(stream, 3, 6, session)
    assert session.begun == [(3, 3), (4, 3)] and session.ended == [(3, 12), (4, 12)]
    expected = [stream.batch(e, i) for e in (3, 4) for i in range(3)]
    for (x, y), (ex, ey) in zip(seen, expected, strict=True):
        assert np.array_equal(x, ex) and np.array_equal(y, ey)


@pytest.mark.keras
def test_keras_fit_trains_on_the_stream_batches_and_stops_when_told():
    """The real `fit_epochs` (endless PyDataset, one iterator per call) with a recording model."""
    import keras

    from keras_impl.train import TwinTrainer

    seen = []

    class RecordingModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            seen.append((np.asarray(x).copy(), np.asarray(y).copy()))
            return {"loss": 0.5}

    model = RecordingModel()
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    twin = TwinTrainer.__new__(TwinTrainer)
    twin.model = model
    twin.device = "cpu"
    stream, session = tiny_stream(), FakeSession(stop_after=2)
    twin.fit_epochs(stream, 3, 6, session)
    assert session.begun == [(3, 3), (4, 3)] and session.ended == [(3, 12), (4, 12)]
    assert session.batches == 6
    expected = [stream.batch(e, i) for e in (3, 4) for i in range(3)]
    for (x, y), (ex, ey) in zip(seen, expected, strict=True):
        assert np.array_equal(x, ex) and np.array_equal(y, ey)
