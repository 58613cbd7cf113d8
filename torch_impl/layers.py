"""PyTorch twin of keras_impl/layers.py; follows common.models.spec.ResUNetSpec (NCHW nn.Modules)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Swish(nn.Module):
    """x * sigmoid(x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class Mish(nn.Module):
    """x * tanh(softplus(x))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x))


def make_activation(name: str) -> nn.Module:
    """The spec's activation as a module: relu | swish | mish."""
    if name == "relu":
        return nn.ReLU()
    if name == "swish":
        return Swish()
    if name == "mish":
        return Mish()
    raise ValueError(f"unknown activation {name!r}")


def conv3x3(in_channels: int, filters: int) -> nn.Conv2d:
    """3x3 'same' convolution with bias (stride 1, so padding=1 is exactly TF 'same')."""
    return nn.Conv2d(in_channels, filters, 3, padding=1)


def batch_norm(channels: int, momentum: float, epsilon: float) -> nn.BatchNorm2d:
    """BatchNorm2d; `momentum` in torch's convention (1 - Keras momentum)."""
    return nn.BatchNorm2d(channels, eps=epsilon, momentum=momentum)


class ConvTranspose2dTF(nn.ConvTranspose2d):
    """Transposed conv with TensorFlow padding: 'valid' is padding=0; 'same' crops the full output

    the way TF does (the odd extra pixel is dropped at the end, not the start), so kernels ported
    from Keras give identical outputs. torch's padding=1/output_padding=1 would shift one pixel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 2,
        tf_padding: str = "same",
    ):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0)
        if tf_padding not in ("same", "valid"):
            raise ValueError(f"tf_padding must be 'same' or 'valid', got {tf_padding!r}")
        self.tf_padding = tf_padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        if self.tf_padding == "valid":
            return y
        k, s = self.kernel_size[0], self.stride[0]
        start = max(k - s, 0) // 2
        h, w = x.shape[-2] * s, x.shape[-1] * s
        return y[..., start : start + h, start : start + w]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tf_padding={self.tf_padding!r}"


class ResidualBlock(nn.Module):
    """Pre-activation residual block: BN → act → conv3x3 → BN → act → conv3x3, plus identity.

    `bn_momentum` is in torch's convention (the builder passes spec.torch_bn_momentum).
    """

    def __init__(
        self,
        filters: int,
        activation: str = "relu",
        bn_momentum: float = 0.01,
        bn_epsilon: float = 1e-3,
    ):
        super().__init__()
        self.bn1 = batch_norm(filters, bn_momentum, bn_epsilon)
        self.act1 = make_activation(activation)
        self.conv1 = conv3x3(filters, filters)
        self.bn2 = batch_norm(filters, bn_momentum, bn_epsilon)
        self.act2 = make_activation(activation)
        self.conv2 = conv3x3(filters, filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(self.act1(self.bn1(x)))
        y = self.conv2(self.act2(self.bn2(y)))
        return x + y


class SqueezeExcite(nn.Module):
    """Channel squeeze-and-excitation: x * sigmoid(excite(relu(squeeze(mean_hw(x)))))."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.excite = nn.Conv2d(hidden, channels, 1)

    def channel_gate(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.excite(F.relu(self.squeeze(pooled))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.channel_gate(x)


class SCSE(SqueezeExcite):
    """Concurrent spatial and channel SE: x * channel_gate + x * sigmoid(spatial(x))."""

    def __init__(self, channels: int, hidden: int):
        super().__init__(channels, hidden)
        self.spatial = nn.Conv2d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.channel_gate(x) + x * torch.sigmoid(self.spatial(x))


def make_attention(kind: str, channels: int, hidden: int) -> nn.Module | None:
    """The spec's attention after an encoder level: none | se | scse."""
    if kind == "none":
        return None
    cls = SqueezeExcite if kind == "se" else SCSE
    return cls(channels, hidden)


# ---- exact-twin dropout: the same masks as keras_impl.layers.SharedMaskDropout -----------------
# A counter-based hash rather than masks drawn outside and fed in: each twin stays an ordinary
# module (a step-counter buffer, no extra inputs), and the mask is a pure function of
# (counter, layer, element) computed with int32 ops whose results the frameworks define alike:
# wrapping multiply, arithmetic right shift, xor, and. Constants stay below 2**31.
HASH_MULTIPLIER = 0x045D9F3B
LAYER_MULTIPLIER = 0x0019660D
MASK_BITS = 23


def mask_counter_start(seed: int) -> int:
    """The epoch seed as the counter's first value (int32, non-negative), alike in both twins."""
    return int(seed) % 2**31


def mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (xor-shift-multiply), on int32 tensors."""
    for _ in range(2):
        x = torch.bitwise_xor(x, torch.bitwise_right_shift(x, 16))
        x = x * HASH_MULTIPLIER
    return torch.bitwise_xor(x, torch.bitwise_right_shift(x, 16))


def keep_mask(shape_nhwc, counter: torch.Tensor, layer_index: int, rate: float, device):
    """1 where an NHWC element is kept: hash(counter, layer, element index) >= rate * 2**23."""
    count = 1
    for dim in shape_nhwc:
        count *= int(dim)
    index = torch.arange(count, dtype=torch.int32, device=device).reshape(shape_nhwc)
    key = mix32(counter.to(torch.int32) * LAYER_MULTIPLIER + layer_index)
    bits = torch.bitwise_and(mix32(torch.bitwise_xor(index, key)), (1 << MASK_BITS) - 1)
    return bits >= int(rate * (1 << MASK_BITS))


class SharedMaskDropout(nn.Module):
    """Dropout whose mask both twins compute identically (see keep_mask); `counter` advances by one
    per training call and is set from the epoch's seed by TwinTrainer.reseed."""

    def __init__(self, rate: float, layer_index: int):
        super().__init__()
        self.rate = float(rate)
        self.layer_index = int(layer_index)
        self.register_buffer("counter", torch.zeros((), dtype=torch.int32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        n, c, h, w = x.shape
        keep = keep_mask((n, h, w, c), self.counter, self.layer_index, self.rate, x.device)
        self.counter += 1
        return x * keep.permute(0, 3, 1, 2).to(x.dtype) * (1.0 / (1.0 - self.rate))


def dropout(rate: float, masks: str, layer_index: int) -> nn.Module:
    """The spec's dropout: torch's own, or the exact twins' shared masks."""
    if masks == "shared":
        return SharedMaskDropout(rate, layer_index)
    return nn.Dropout(rate)
