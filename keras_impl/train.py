"""Keras twin of torch_impl/train.py; follows common.recipes (fit with callbacks over the common stream)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.io import save_arrays
from common.runtime import select_keras_backend

select_keras_backend(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402  (the backend is chosen above)

FRAMEWORK = "keras"


class TwinTrainer:
    """The Keras side of a fold: build, `fit` epochs over the common stream, predict, checkpoint."""

    framework = FRAMEWORK

    def __init__(self, spec, *, seed: int, threads: int) -> None:
        _pin_backend_threads(threads)
        keras.utils.set_random_seed(seed)
        from keras_impl.model import build_model

        self.spec = spec
        self.model = build_model(spec)
        self.trainer = None

    def backend(self) -> str:
        return keras.backend.backend()

    def versions(self) -> dict[str, str]:
        versions = {"keras": keras.__version__, "numpy": np.__version__}
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            versions["tensorflow"] = tf.__version__
        elif keras.backend.backend() == "torch":
            import torch

            versions["torch"] = torch.__version__
        return versions

    def get_weights(self) -> dict[str, np.ndarray]:
        from keras_impl.weights import export_weights

        return export_weights(self.model)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        from keras_impl.weights import import_weights

        import_weights(self.model, weights)

    def start_stage(self, loss: str, learning_rate: float) -> None:
        """A fresh optimiser and loss for a recipe stage (recompiles the model)."""
        from keras_impl.steps import Trainer

        self.trainer = Trainer(self.model, loss=loss, optimizer="adam", learning_rate=learning_rate)

    def reseed(self, seed: int) -> None:
        """Set every dropout seed generator from `seed`, so an epoch's masks depend on the epoch alone."""
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for index, variable in enumerate(states):
            variable.assign(np.array([seed, index], dtype=variable.dtype))

    def set_learning_rate(self, learning_rate: float) -> None:
        self.trainer.learning_rate = learning_rate

    def fit_epochs(self, stream, first: int, stop: int, session) -> None:
        """`model.fit` over epochs first..stop-1 of the stream; the session's callback may stop early."""
        dataset = StreamDataset(stream, first)
        callback = SessionCallback(session, dataset)
        self.model.fit(
            dataset,
            initial_epoch=first,
            epochs=stop,
            callbacks=[callback],
            verbose=0,
            shuffle=False,
        )

    def predict_logits(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Inference-mode logits, NHWC (the stage's Trainer when there is one)."""
        if self.trainer is not None:
            logits = self.trainer.predict_logits(images, batch_size=batch_size)
        else:
            logits = self.model.predict(images, batch_size=batch_size, verbose=0)
        return np.asarray(logits, dtype=np.float32)

    def save_checkpoint(self, path: Path) -> None:
        """Every model variable (BN statistics and dropout seeds included) and the optimiser state."""
        arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(self.model.variables)}
        opt = self.model.optimizer
        arrays.update({f"opt_{i}": np.asarray(v) for i, v in enumerate(opt.variables)})
        save_arrays(Path(f"{path}.npz"), **arrays)

    def load_checkpoint(self, path: Path) -> None:
        opt = self.model.optimizer
        if not opt.built:
            opt.build(self.model.trainable_variables)
        with np.load(f"{path}.npz") as npz:
            for i, variable in enumerate(self.model.variables):
                variable.assign(npz[f"model_{i}"])
            for i, variable in enumerate(opt.variables):
                variable.assign(npz[f"opt_{i}"])


def _pin_backend_threads(threads: int) -> None:
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised by an earlier fold in this process
            pass
    elif keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)


class StreamDataset(keras.utils.PyDataset):
    """Batches of common.stream.BatchStream for `fit`; SessionCallback sets the epoch before each one."""

    def __init__(self, stream, epoch: int) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.stream = stream
        self.epoch = epoch

    def __len__(self) -> int:
        return self.stream.num_batches

    def __getitem__(self, index: int):
        return self.stream.batch(self.epoch, index)


class SessionCallback(keras.callbacks.Callback):
    """Hands each epoch to the fold session: LR and dropout seeds, progress, validation, stop."""

    def __init__(self, session, dataset: StreamDataset) -> None:
        super().__init__()
        self.session = session
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.epoch = epoch
        self.session.begin_epoch(epoch, len(self.dataset))

    def on_train_batch_end(self, batch, logs=None):
        self.session.batch_done(float((logs or {}).get("loss", np.nan)))

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", np.nan))
        if self.session.end_epoch(epoch, loss, self.dataset.stream.images_per_epoch):
            self.model.stop_training = True
