"""The ResUNet spec (the seed-000 kernels) and the registry of every model spec both twins build from."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from common.core.errors import SaltbenchError
from common.models.layerspec import (
    ACTIVATIONS,
    ATTENTIONS,
    LayerInfo,
    LayerSpec,
    conv_out_size,
    conv_transpose_out_size,
)
from common.models.spec_resnet34 import ResNet34UNetSpec

LEVELS = (1, 2, 3, 4)

__all__ = [
    "ACTIVATIONS",
    "ATTENTIONS",
    "LEVELS",
    "MODEL_SPECS",
    "LayerInfo",
    "LayerSpec",
    "ResNet34UNetSpec",
    "ResUNetSpec",
    "add_spec_arguments",
    "conv_out_size",
    "conv_transpose_out_size",
    "spec_from_args",
    "spec_from_dict",
]


DROPOUT_MASKS = ("framework", "shared")


@dataclass(frozen=True)
class ResUNetSpec(LayerSpec):
    """The seed-000 ResUNet; batch-norm momentum/epsilon stated once, in the Keras convention."""

    model: ClassVar[str] = "resunet"

    start_neurons: int = 16
    dropout: float = 0.25
    activation: str = "relu"
    attention: str = "none"
    se_reduction: int = 8
    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    input_size: int = 101
    # "framework": each twin's own dropout (its own random masks); "shared": both twins drop the
    # same units, from a counter-based hash of (epoch seed, batch, layer, element) computed with
    # the same int32 ops in keras.ops and torch (exact-twin mode, recipe train.exact_twins).
    dropout_masks: str = "framework"

    def __post_init__(self) -> None:
        problems = []
        if self.dropout_masks not in DROPOUT_MASKS:
            problems.append(f"dropout_masks {self.dropout_masks!r} not in {DROPOUT_MASKS}")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation {self.activation!r} not in {ACTIVATIONS}")
        if self.attention not in ATTENTIONS:
            problems.append(f"attention {self.attention!r} not in {ATTENTIONS}")
        if int(self.start_neurons) != self.start_neurons or self.start_neurons < 1:
            problems.append(f"start_neurons must be a positive integer, got {self.start_neurons!r}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.se_reduction < 1:
            problems.append(f"se_reduction must be >= 1, got {self.se_reduction!r}")
        if not 0.0 < self.bn_momentum < 1.0:
            problems.append(f"bn_momentum must be in (0, 1), got {self.bn_momentum!r}")
        if self.bn_epsilon <= 0:
            problems.append(f"bn_epsilon must be > 0, got {self.bn_epsilon!r}")
        if self.input_size != 101:
            problems.append(
                f"input_size must be 101 (the decoder's paddings assume it), got {self.input_size!r}"
            )
        if problems:
            raise SaltbenchError("invalid ResUNet spec: " + "; ".join(problems))

    # --- derived sizes --------------------------------------------------------------------------
    def filters(self, level: int) -> int:
        """Channels at encoder/decoder level 1..4 (n, 2n, 4n, 8n); level 5 is the middle (16n)."""
        return self.start_neurons * 2 ** (level - 1)

    def level_sizes(self) -> list[int]:
        """Spatial side at levels 1..5: 101, 50, 25, 12, 6."""
        sizes = [self.input_size]
        for _ in LEVELS:
            sizes.append(sizes[-1] // 2)
        return sizes

    def se_hidden(self, channels: int) -> int:
        """Width of the squeeze-excite bottleneck for `channels` channels."""
        return max(1, channels // self.se_reduction)

    @staticmethod
    def up_padding(level: int) -> str:
        """Transposed-conv padding into decoder level: 'same' for 6→12 and 25→50, 'valid' otherwise."""
        return "same" if level in (4, 2) else "valid"

    def dropout_rate(self, level: int) -> float:
        """Encoder dropout after pooling: half the rate at level 1."""
        return self.dropout / 2 if level == 1 else self.dropout

    # --- canonical layers -----------------------------------------------------------------------
    def _residual(self, prefix: str, channels: int, size: int) -> list[LayerInfo]:
        return [
            LayerInfo(f"{prefix}/bn1", "bn", channels, channels, 1, size, size),
            LayerInfo(f"{prefix}/conv1", "conv", channels, channels, 3, size, size),
            LayerInfo(f"{prefix}/bn2", "bn", channels, channels, 1, size, size),
            LayerInfo(f"{prefix}/conv2", "conv", channels, channels, 3, size, size),
        ]

    def _stage(self, prefix: str, cin: int, channels: int, size: int) -> list[LayerInfo]:
        """conv3x3 → residual → residual → BN (the BN of the closing BN-activation)."""
        return [
            LayerInfo(f"{prefix}_conv", "conv", cin, channels, 3, size, size),
            *self._residual(f"{prefix}_res1", channels, size),
            *self._residual(f"{prefix}_res2", channels, size),
            LayerInfo(f"{prefix}_bn", "bn", channels, channels, 1, size, size),
        ]

    def _attention(self, prefix: str, channels: int, size: int) -> list[LayerInfo]:
        if self.attention == "none":
            return []
        hidden = self.se_hidden(channels)
        layers = [
            LayerInfo(f"{prefix}_att/squeeze", "conv", channels, hidden, 1, 1, 1),
            LayerInfo(f"{prefix}_att/excite", "conv", hidden, channels, 1, 1, 1),
        ]
        if self.attention == "scse":
            layers.append(LayerInfo(f"{prefix}_att/spatial", "conv", channels, 1, 1, size, size))
        return layers

    def layers(self) -> list[LayerInfo]:
        """Every weight-bearing layer in forward order, with canonical names shared by both twins."""
        sizes = self.level_sizes()
        out: list[LayerInfo] = []
        cin = 1
        for level in LEVELS:
            f, size = self.filters(level), sizes[level - 1]
            out += self._stage(f"enc{level}", cin, f, size)
            out += self._attention(f"enc{level}", f, size)
            cin = f
        out += self._stage("mid", cin, self.filters(5), sizes[4])
        cin = self.filters(5)
        for level in reversed(LEVELS):
            f, size = self.filters(level), sizes[level - 1]
            out.append(LayerInfo(f"dec{level}_up", "conv_transpose", cin, f, 3, sizes[level], size))
            out += self._stage(f"dec{level}", 2 * f, f, size)
            cin = f
        out.append(LayerInfo("head", "conv", cin, 1, 1, sizes[0], sizes[0]))
        return out


MODEL_SPECS: dict[str, type[LayerSpec]] = {
    ResUNetSpec.model: ResUNetSpec,
    ResNet34UNetSpec.model: ResNet34UNetSpec,
}


def spec_from_dict(data: dict[str, Any]) -> ResUNetSpec:
    """Rebuild any registered spec from its to_dict() form (the 'model' key picks the class)."""
    model = data.get("model")
    if model not in MODEL_SPECS:
        raise SaltbenchError(f"unknown model {model!r}; known: {', '.join(sorted(MODEL_SPECS))}")
    return MODEL_SPECS[model].from_dict(data)


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The spec options every model command shares (--model, --activation, ...)."""
    parser.add_argument(
        "--model", default="resunet", choices=sorted(MODEL_SPECS), help="model (default resunet)"
    )
    parser.add_argument(
        "--activation", choices=ACTIVATIONS, help="activation (default: the spec's, relu)"
    )
    parser.add_argument(
        "--attention", choices=ATTENTIONS, help="attention module (default: the spec's, none)"
    )
    parser.add_argument(
        "--start-neurons", type=int, help="resunet width: first level's channels (default 16)"
    )
    parser.add_argument("--dropout", type=float, help="dropout rate (default: the spec's, 0.25)")
    parser.add_argument(
        "--base-width", type=int, default=None, help="resnet34_unet only: stem/stage-1 channels"
    )


def spec_from_args(args: argparse.Namespace) -> ResUNetSpec:
    """A spec from parsed options; unset options keep the spec's defaults."""
    cls = MODEL_SPECS[args.model]
    fields = {f.name for f in dataclasses.fields(cls)}
    given = {
        name: getattr(args, name)
        for name in ("activation", "attention", "start_neurons", "dropout", "base_width")
        if getattr(args, name, None) is not None and name in fields
    }
    return cls(**given)
