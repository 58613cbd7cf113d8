"""Keras twin of torch_impl/train.py; follows common.recipes.resolve (fit with callbacks over the common stream)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.core.io import save_arrays
from common.core.runtime import select_keras_backend

select_keras_backend(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402  (the backend is chosen above)

FRAMEWORK = "keras"


class TwinTrainer:
    """The Keras side of a fold: build, `fit` epochs over the common stream, predict, checkpoint."""

    framework = FRAMEWORK

    def __init__(self, spec, mode, *, seed: int, exact_twins: bool = False) -> None:
        """`mode`: the common.models.execution.ExecutionMode (device, precision, compile, layout,
        threads); `exact_twins`: both twins update with one Adam rule and one dropout mask."""
        # mode.layout: Keras computes NHWC ("native", "nhwc") or NCHW ("nchw": channels_first)
        _pin_backend_threads(mode.threads)
        from common.core.device import resolve_precision
        from keras_impl.device import configure, precision_policy

        self.mode = mode
        self.device, self.numerics = configure(
            mode.device, tf32=mode.tf32, cudnn_benchmark=mode.cudnn_benchmark
        )
        precision, why = resolve_precision(mode.precision, self.device)
        self.numerics["precision"] = self.precision = precision
        self.numerics["precision_choice"] = why
        # exact-twin mode: torch's Adam rule in both twins (the spec carries the shared masks)
        self.optimizer = "adam_matched" if exact_twins else "adam"
        self.numerics["exact_twins"] = bool(exact_twins)
        self.jit_compile = self.numerics["jit_compile"] = bool(mode.jit_compile)
        keras.utils.set_random_seed(seed)
        from keras_impl.model import build_model

        self.spec = spec
        if mode.layout == "nchw" and spec.dropout_masks == "shared":
            raise ValueError("layout nchw: the exact twins' shared dropout masks index NHWC")
        data_format = "channels_first" if mode.layout == "nchw" else "channels_last"
        with precision_policy(precision):  # mixed_bfloat16: float32 variables, bf16 compute
            self.model = build_model(spec, data_format)
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
        """A fresh optimiser and loss for a recipe stage (recompiles the model; XLA or jax.jit
        when jit_compile)."""
        from keras_impl.steps import Trainer

        self.trainer = Trainer(
            self.model,
            loss=loss,
            optimizer=self.optimizer,
            learning_rate=learning_rate,
            jit_compile=self.jit_compile,
        )

    def reseed(self, seed: int) -> None:
        """Set every dropout seed generator from `seed`, so an epoch's masks depend on the epoch alone."""
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for index, variable in enumerate(states):
            # The state's integer type is the backend's (uint32 on TensorFlow and JAX, int32 on
            # torch): fold the seed into its range, or a seed above 2**31 overflows on torch.
            top = np.iinfo(np.dtype(variable.dtype)).max
            variable.assign(np.array([seed % (top + 1), index], dtype=variable.dtype))
        from keras_impl.layers import SharedMaskDropout, mask_counter_start

        for layer in self.model.layers:  # exact-twin dropout: the counter starts at the seed
            if isinstance(layer, SharedMaskDropout):
                layer.counter.assign(np.int32(mask_counter_start(seed)))

    def set_learning_rate(self, learning_rate: float) -> None:
        """The optimiser's LR from the next step on, also mid-epoch inside `fit` on JAX, whose
        trainer holds the variables outside the model until it syncs them back."""
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:  # a no-op outside fit or when already synced
            sync()
        self.trainer.learning_rate = learning_rate

    def fit_epochs(self, stream, first: int, stop: int, session) -> None:
        """`model.fit` over epochs first..stop-1 of the stream; the session's callback may stop early.

        One endless PyDataset and `steps_per_epoch` keep ONE input iterator for the whole call:
        with a finite PyDataset, Keras (TF backend) rebuilds its `tf.data.from_generator`
        iterator every epoch, and tearing down the old one stalled each epoch by 1-4 s on a
        2-core CPU (the loop ran at half the bare step's speed; issue 9).
        """
        dataset = StreamDataset(stream, first)
        callback = SessionCallback(session, stream, self.device)
        self.model.fit(
            dataset,
            initial_epoch=first,
            epochs=stop,
            steps_per_epoch=stream.num_batches,
            callbacks=[callback],
            verbose=0,
            shuffle=False,
        )

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One bare optimiser step of the current stage (the harness's overhead probe)."""
        return self.trainer.train_step(x, y)

    def synchronize(self) -> None:
        """Wait for this trainer's device, so a clock stopped next measures finished work."""
        from keras_impl.device import synchronize

        synchronize(self.device)

    def reset_device_peak(self) -> None:
        """Restart the device allocator's peak counter (a bench memory window opens)."""
        from keras_impl.device import reset_peak_memory

        reset_peak_memory(self.device)

    @property
    def device_memory_method(self) -> str | None:
        from keras_impl.device import peak_memory_method

        return peak_memory_method(self.device)

    def device_peak_mib(self) -> float | None:
        """Allocator-level peak device memory of this process (None on the CPU)."""
        from keras_impl.device import peak_memory_mib

        return peak_memory_mib(self.device)

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
    """common.core.stream.BatchStream as one endless sequence from epoch `first` on, for `fit`.

    Item i is batch i % num_batches of epoch first + i // num_batches: a pure function of i
    (the stream is), so Keras may prefetch across epoch ends and `fit` keeps one iterator.
    """

    def __init__(self, stream, first: int) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.stream = stream
        self.first = first

    @property
    def num_batches(self) -> None:
        return None  # endless: `fit` gets steps_per_epoch

    def __getitem__(self, index: int):
        epoch, batch = divmod(index, self.stream.num_batches)
        return self.stream.batch(self.first + epoch, batch)


class SessionCallback(keras.callbacks.Callback):
    """Hands each epoch to the fold session: LR and dropout seeds, progress, validation, stop."""

    def __init__(self, session, stream, device: str = "cpu") -> None:
        super().__init__()
        self.session = session
        self.stream = stream
        self.device = device

    def on_epoch_begin(self, epoch, logs=None):
        self.session.begin_epoch(epoch, self.stream.num_batches)

    def on_train_batch_end(self, batch, logs=None):
        self.session.batch_done(float((logs or {}).get("loss", np.nan)))

    def on_epoch_end(self, epoch, logs=None):
        from keras_impl.device import synchronize

        synchronize(self.device)  # the epoch's clock stops on finished device work
        loss = float((logs or {}).get("loss", np.nan))
        if self.session.end_epoch(epoch, loss, self.stream.images_per_epoch):
            self.model.stop_training = True
