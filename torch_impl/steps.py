"""PyTorch twin of keras_impl/steps.py; follows common.models.spec.ResUNetSpec (NHWC NumPy at the boundary)."""

from __future__ import annotations

import numpy as np
import torch

from common.core.errors import SaltbenchError
from common.models.weights import Weights, torch_to_neutral
from torch_impl.losses import get_loss
from torch_impl.weights import canonical_variables

ADAM_EPSILON = 1e-7  # both twins; Keras applies it before bias correction, torch after (README: exact-twin mode)


def make_optimizer(name: str, params, learning_rate: float) -> torch.optim.Optimizer:
    """'adam' (torch's own), 'adam_matched' (exact-twin mode) or 'sgd' (plain, no momentum).

    adam_matched is torch.optim.Adam itself: the Keras twin's MatchedAdam follows torch's order
    (epsilon after the bias correction), so in exact-twin mode both run this rule.
    """
    if name in ("adam", "adam_matched"):
        return torch.optim.Adam(params, lr=learning_rate, eps=ADAM_EPSILON)
    if name == "sgd":
        return torch.optim.SGD(params, lr=learning_rate)
    raise SaltbenchError(f"unknown optimizer {name!r}; choose from adam, adam_matched, sgd")


def to_nchw(
    array: np.ndarray,
    device: torch.device,
    dtype=torch.float32,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> torch.Tensor:
    """NHWC NumPy → NCHW tensor (float32 unless told) on `device`, in `memory_format`.

    With torch.channels_last the NHWC buffer is used as it is (a permuted view, no copy).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    nchw = tensor.permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
    return nchw.to(device=device, dtype=dtype)


def model_memory_format(model: torch.nn.Module) -> torch.memory_format:
    """torch.channels_last when the model's convolution weights are stored NHWC, else contiguous."""
    kernels = [  # where NCHW and NHWC strides differ: more than one channel, a spatial kernel
        p
        for p in model.parameters()
        if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1
    ]
    if kernels and all(
        k.is_contiguous(memory_format=torch.channels_last) and not k.is_contiguous()
        for k in kernels
    ):
        return torch.channels_last
    return torch.contiguous_format


def to_nhwc(tensor: torch.Tensor) -> np.ndarray:
    """NCHW tensor → NHWC float32 NumPy."""
    return tensor.detach().permute(0, 2, 3, 1).cpu().numpy().astype(np.float32, copy=False)


class Trainer:
    """A plain training loop step; torch.compile only when jit_compile=True."""

    def __init__(
        self,
        model,
        loss="bce",
        optimizer="adam",
        learning_rate=1e-3,
        *,
        jit_compile=False,
        precision="fp32",
    ):
        self.model = model
        self.loss_name = loss
        self.loss_fn = get_loss(loss)
        self.optimizer = make_optimizer(optimizer, model.parameters(), learning_rate)
        self.forward = torch.compile(model) if jit_compile else model
        self.memory_format = model_memory_format(model)  # inputs follow the model's layout
        self.precision = precision  # "bf16": autocast compute, float32 weights, loss and logits
        # fp16 (GPU): float16 gradients underflow without loss scaling
        self.scaler = torch.amp.GradScaler(self.device.type) if precision == "fp16" else None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(value)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step on an NHWC batch (training mode); returns the batch loss."""
        x_t, y_t = (to_nchw(a, self.device, self.dtype, self.memory_format) for a in (x, y))
        return self.train_step_nchw(x_t, y_t)

    def train_step_nchw(self, x_t: torch.Tensor, y_t: torch.Tensor) -> float:
        """One optimiser step on an NCHW batch already on the model's device."""
        from torch_impl.device import autocast

        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(x_t.device, self.precision):
            logits = self.forward(x_t)
        loss = self.loss_fn(y_t, logits.to(self.dtype))  # bf16 logits -> the weights' dtype
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        return float(loss.detach())

    @torch.no_grad()
    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits (N, H, W, 1) in inference mode."""
        from torch_impl.device import autocast

        self.model.eval()
        x = np.asarray(x, np.float32)
        chunks = []
        for i in range(0, len(x), batch_size):
            batch = to_nchw(x[i : i + batch_size], self.device, self.dtype, self.memory_format)
            with autocast(self.device, self.precision):
                logits = self.forward(batch)
            chunks.append(to_nhwc(logits.to(self.dtype)))
        return np.concatenate(chunks) if chunks else np.zeros((0, *x.shape[1:3], 1), np.float32)


def loss_and_gradients(model, loss, x: np.ndarray, y: np.ndarray) -> tuple[float, Weights]:
    """Training-mode loss and the gradient of every trainable weight, keyed in the neutral layout."""
    loss_fn = get_loss(loss) if isinstance(loss, str) else loss
    first = next(model.parameters())
    model.train()
    model.zero_grad(set_to_none=True)
    x_t, y_t = (to_nchw(a, first.device, first.dtype) for a in (x, y))
    value = loss_fn(y_t, model(x_t))
    value.backward()
    grads = {
        key: torch_to_neutral(key.rsplit("/", 1)[1], tensor.grad.detach().cpu().double().numpy())
        for key, tensor in canonical_variables(model).items()
        if tensor.grad is not None
    }
    return float(value.detach()), grads
