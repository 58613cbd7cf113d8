"""PyTorch twin of keras_impl/model.py; follows common.models.spec.ResUNetSpec (NCHW in, NCHW logits out)."""

from __future__ import annotations

import torch
from torch import nn

from common.models.spec import LEVELS, ResUNetSpec
from torch_impl.layers import (
    ConvTranspose2dTF,
    ResidualBlock,
    batch_norm,
    conv3x3,
    dropout,
    make_activation,
    make_attention,
)
from torch_impl.resnet34_unet import build_resnet34_unet


class ResUNet(nn.Module):
    """The seed-000 ResUNet (common.models.spec); attribute paths are the spec's canonical names ('/' → '.')."""

    def __init__(self, spec: ResUNetSpec):
        super().__init__()
        self.spec = spec
        cin = 1
        for level in LEVELS:
            f = spec.filters(level)
            self._add_stage(f"enc{level}", cin, f)
            attention = make_attention(spec.attention, f, spec.se_hidden(f))
            if attention is not None:
                setattr(self, f"enc{level}_att", attention)
            setattr(self, f"enc{level}_pool", nn.MaxPool2d(2))
            rate = spec.dropout_rate(level)
            setattr(self, f"enc{level}_drop", dropout(rate, spec.dropout_masks, level - 1))
            cin = f
        self._add_stage("mid", cin, spec.filters(5))
        cin = spec.filters(5)
        for level in reversed(LEVELS):
            f = spec.filters(level)
            up = ConvTranspose2dTF(cin, f, 3, stride=2, tf_padding=spec.up_padding(level))
            setattr(self, f"dec{level}_up", up)
            setattr(self, f"dec{level}_drop", dropout(spec.dropout, spec.dropout_masks, 8 - level))
            self._add_stage(f"dec{level}", 2 * f, f)
            cin = f
        self.head = nn.Conv2d(cin, 1, 1)

    def _add_stage(self, prefix: str, cin: int, filters: int) -> None:
        """conv3x3 → residual → residual → BN → activation, modules named '<prefix>_...'."""
        spec = self.spec
        setattr(self, f"{prefix}_conv", conv3x3(cin, filters))
        for i in (1, 2):
            block = ResidualBlock(filters, spec.activation, spec.torch_bn_momentum, spec.bn_epsilon)
            setattr(self, f"{prefix}_res{i}", block)
        setattr(self, f"{prefix}_bn", batch_norm(filters, spec.torch_bn_momentum, spec.bn_epsilon))
        setattr(self, f"{prefix}_act", make_activation(spec.activation))

    def _stage(self, prefix: str, x: torch.Tensor) -> torch.Tensor:
        x = getattr(self, f"{prefix}_conv")(x)
        x = getattr(self, f"{prefix}_res2")(getattr(self, f"{prefix}_res1")(x))
        return getattr(self, f"{prefix}_act")(getattr(self, f"{prefix}_bn")(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = {}
        for level in LEVELS:
            x = self._stage(f"enc{level}", x)
            if self.spec.attention != "none":
                x = getattr(self, f"enc{level}_att")(x)
            skips[level] = x
            x = getattr(self, f"enc{level}_drop")(getattr(self, f"enc{level}_pool")(x))
        x = self._stage("mid", x)
        for level in reversed(LEVELS):
            up = getattr(self, f"dec{level}_up")(x)
            x = getattr(self, f"dec{level}_drop")(torch.cat([up, skips[level]], dim=1))
            x = self._stage(f"dec{level}", x)
        return self.head(x)


BUILDERS = {"resunet": ResUNet, "resnet34_unet": build_resnet34_unet}


def build_model(spec: ResUNetSpec | None = None) -> nn.Module:
    """Build the model the spec names (a dict entry per architecture); NCHW in, NCHW logits out."""
    spec = spec or ResUNetSpec()
    return BUILDERS[spec.model](spec)
