"""Run as a script with KERAS_BACKEND=jax (tests/keras_impl/test_twin.py): the Keras twin under
jax.jit trains one epoch of `fit`, and a learning rate set mid-epoch (a per-batch schedule) takes
effect at the next step: after the LR drops to 0 no trainable weight moves. Prints 'ok'."""

import numpy as np

from common.core.stream import BatchStream
from common.models.execution import ExecutionMode
from common.models.spec import ResUNetSpec
from common.models.weights import is_trainable
from keras_impl.train import TwinTrainer

twin = TwinTrainer(
    ResUNetSpec(start_neurons=2, attention="scse", activation="swish"),
    ExecutionMode(jit_compile=True), seed=0,
)  # fmt: skip
twin.start_stage("lovasz_hinge", 1e-2)
images = np.random.default_rng(0).random((12, 101, 101, 1), dtype=np.float32)
stream = BatchStream(images, images > 0.5, 4, seed=11)


class ZeroAfterFirstBatch:
    """A session whose schedule sets the LR to 0 after the first batch of the epoch."""

    def __init__(self):
        self.after_first = None

    def begin_epoch(self, epoch, num_batches):
        twin.set_learning_rate(1e-2)
        return 1e-2

    def batch_done(self, loss):
        if self.after_first is None:
            twin.set_learning_rate(0.0)
            self.after_first = twin.get_weights()

    def end_epoch(self, epoch, loss, images):
        assert np.isfinite(loss)
        return True


session = ZeroAfterFirstBatch()
start = twin.get_weights()
twin.fit_epochs(stream, 0, 1, session)
end = twin.get_weights()
trainable = [k for k in end if is_trainable(k)]
assert any(not np.array_equal(start[k], session.after_first[k]) for k in trainable), "no step"
moved = [k for k in trainable if not np.array_equal(session.after_first[k], end[k])]
assert not moved, f"weights moved at LR 0 (the mid-epoch LR was not seen): {moved[:3]}"
assert twin.predict_logits(images[:2]).shape == (2, 101, 101, 1)
print("ok")
