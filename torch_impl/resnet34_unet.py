"""PyTorch twin of keras_impl/resnet34_unet.py; follows common.models.spec_resnet34.ResNet34UNetSpec (NCHW)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from common.models.spec_resnet34 import DECODER_LEVELS, STAGE_BLOCKS, ResNet34UNetSpec
from torch_impl.layers import batch_norm, make_activation, make_attention


class TilePad(nn.Module):
    """Pad each spatial axis by (before, after) pixels: 'reflect' or 'constant' zeros."""

    def __init__(self, before: int, after: int, mode: str = "reflect"):
        super().__init__()
        self.before, self.after, self.mode = before, after, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = (self.before, self.after, self.before, self.after)
        return F.pad(x, pads, mode=self.mode)


class TileCrop(nn.Module):
    """Cut the `size` x `size` window starting at (`before`, `before`) back out."""

    def __init__(self, before: int, size: int):
        super().__init__()
        self.before, self.size = before, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start, stop = self.before, self.before + self.size
        return x[..., start:stop, start:stop]


class StemPool(nn.Module):
    """3x3 stride-2 max-pool with one -inf pixel of padding on every side (torchvision's stem)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, 3, stride=2, padding=1)


class BasicBlock(nn.Module):
    """ResNet BasicBlock: conv3x3(stride) → BN → act → conv3x3 → BN, plus shortcut, then act.

    The shortcut is a 1x1 conv + BN (`downsample.0/1`) when stride or width changes.
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        stride: int = 1,
        activation: str = "relu",
        bn_momentum: float = 0.1,
        bn_epsilon: float = 1e-5,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, filters, 3, stride=stride, padding=1, bias=False)
        self.bn1 = batch_norm(filters, bn_momentum, bn_epsilon)
        self.act1 = make_activation(activation)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1, bias=False)
        self.bn2 = batch_norm(filters, bn_momentum, bn_epsilon)
        self.act2 = make_activation(activation)
        self.downsample = None
        if stride != 1 or in_channels != filters:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, filters, 1, stride=stride, bias=False),
                batch_norm(filters, bn_momentum, bn_epsilon),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act2(y + shortcut)


class DecoderBlock(nn.Module):
    """U-Net block: 2x2 stride-2 transposed conv of the deep path ∥ 1x1 conv of the skip → act → BN → attention."""

    def __init__(
        self,
        deep_channels: int,
        skip_channels: int,
        filters: int,
        activation: str = "relu",
        attention: str = "scse",
        se_hidden: int = 16,
        bn_momentum: float = 0.1,
        bn_epsilon: float = 1e-5,
    ):
        super().__init__()
        self.up = nn.ConvTranspose2d(deep_channels, filters // 2, 2, stride=2)
        self.skip = nn.Conv2d(skip_channels, filters // 2, 1)
        self.act = make_activation(activation)
        self.bn = batch_norm(filters, bn_momentum, bn_epsilon)
        self.att = make_attention(attention, filters, se_hidden)

    def forward(self, deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.act(torch.cat([self.up(deep), self.skip(skip)], dim=1)))
        return x if self.att is None else self.att(x)


class ResNet34UNet(nn.Module):
    """ResNet34 encoder + U-Net decoder; attribute paths are the spec's canonical names ('/' → '.')."""

    def __init__(self, spec: ResNet34UNetSpec):
        super().__init__()
        self.spec = spec
        before, _ = spec.padding
        momentum, epsilon = spec.torch_bn_momentum, spec.bn_epsilon
        self.pad = TilePad(*spec.padding, mode=spec.pad_mode)
        self.conv1 = nn.Conv2d(1, spec.stage_width(0), 7, stride=2, padding=3, bias=False)
        self.bn1 = batch_norm(spec.stage_width(0), momentum, epsilon)
        self.act1 = make_activation(spec.activation)
        self.pool = StemPool()
        for stage, blocks in enumerate(STAGE_BLOCKS, start=1):
            for block in range(blocks):
                cin = spec.stage_width(stage if block else stage - 1)
                stride = spec.stage_stride(stage) if block == 0 else 1
                unit = BasicBlock(
                    cin, spec.stage_width(stage), stride, spec.activation, momentum, epsilon
                )
                setattr(self, f"layer{stage}_{block}", unit)
        for level in DECODER_LEVELS:
            deep, skip = spec.decoder_inputs(level)
            width = spec.decoder_width
            unit = DecoderBlock(
                deep,
                skip,
                width,
                spec.activation,
                spec.attention,
                spec.se_hidden(width),
                momentum,
                epsilon,
            )
            setattr(self, f"dec{level}", unit)
        self.head_drop = nn.Dropout(spec.dropout)
        self.head = nn.ConvTranspose2d(spec.decoder_width, 1, 2, stride=2)
        self.crop = TileCrop(before, spec.input_size)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of the stem (after its activation) and of stages 1..4."""
        x = self.act1(self.bn1(self.conv1(self.pad(x))))
        features = [x]
        x = self.pool(x)
        for stage, blocks in enumerate(STAGE_BLOCKS, start=1):
            for block in range(blocks):
                x = getattr(self, f"layer{stage}_{block}")(x)
            features.append(x)
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encode(x)
        x = features[4]
        for level in DECODER_LEVELS:
            x = getattr(self, f"dec{level}")(x, features[4 - level])
        return self.crop(self.head(self.head_drop(x)))


def build_resnet34_unet(spec: ResNet34UNetSpec) -> nn.Module:
    """The seed-002 ResNet34 U-Net (common.models.spec_resnet34): 101x101 in, 101x101 logits out (NCHW)."""
    return ResNet34UNet(spec)
