"""Architecture specs shared by both twins: canonical layer names, weight shapes, FLOPs (DESIGN.md §4)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from common.errors import SaltbenchError

ACTIVATIONS = ("relu", "swish", "mish")
ATTENTIONS = ("none", "se", "scse")
LEVELS = (1, 2, 3, 4)


class LayerInfo(NamedTuple):
    """One weight-bearing layer: canonical name, kind, channels, kernel size, input and output sides."""

    name: str
    kind: str  # "conv" | "conv_transpose" | "bn"
    in_channels: int
    out_channels: int
    kernel: int
    in_size: int
    out_size: int


def conv_out_size(size: int, padding: str, stride: int = 1, kernel: int = 3) -> int:
    """Output side of a TF-style convolution ('same' rounds up, 'valid' drops the rest)."""
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def conv_transpose_out_size(size: int, padding: str, stride: int = 2, kernel: int = 3) -> int:
    """Output side of a TF-style transposed convolution."""
    if padding == "same":
        return size * stride
    return (size - 1) * stride + kernel


class LayerSpec:
    """What every model spec derives from its `layers()`: names, weight shapes, counts, FLOPs, I/O.

    A subclass is a frozen dataclass with a `model` ClassVar, a `bn_momentum` field in the Keras
    convention, and `layers()` listing every weight-bearing layer in forward order.
    """

    model: ClassVar[str]
    bn_momentum: float

    def layers(self) -> list[LayerInfo]:
        raise NotImplementedError

    # --- batch norm, per framework -------------------------------------------------------------
    @property
    def keras_bn_momentum(self) -> float:
        """Keras keeps `momentum` of the old running statistic."""
        return self.bn_momentum

    @property
    def torch_bn_momentum(self) -> float:
        """torch gives `momentum` to the new batch statistic: the complement of Keras."""
        return 1.0 - self.bn_momentum

    # --- weights ---------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Canonical names ('/' separates a block from its sub-layer; torch uses '.')."""
        return [layer.name for layer in self.layers()]

    @staticmethod
    def has_bias(layer: LayerInfo) -> bool:
        """Whether a convolution carries a bias (all do unless a spec says otherwise)."""
        return True

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Neutral-layout shape of every weight (see common.weights), keyed '<layer>/<param>'."""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in self.layers():
            k, cin, cout = layer.kernel, layer.in_channels, layer.out_channels
            if layer.kind == "bn":
                for param in ("gamma", "beta", "moving_mean", "moving_variance"):
                    shapes[f"{layer.name}/{param}"] = (cout,)
                continue
            shapes[f"{layer.name}/kernel"] = (
                (k, k, cin, cout) if layer.kind == "conv" else (k, k, cout, cin)
            )
            if self.has_bias(layer):
                shapes[f"{layer.name}/bias"] = (cout,)
        return shapes

    def parameter_count(self, trainable_only: bool = False) -> int:
        """All weights (BN running statistics included unless trainable_only)."""
        return sum(
            math.prod(shape)
            for key, shape in self.weight_shapes().items()
            if not (trainable_only and key.rsplit("/", 1)[1] in ("moving_mean", "moving_variance"))
        )

    def flops_per_image(self) -> int:
        """Forward FLOPs of one image, multiply-add = 2: convolutions of every kind.

        Element-wise work (BN, activations, pooling, additions) is not counted, as in
        torch.utils.flop_counter. A transposed conv costs k*k*cin*cout per *input* pixel.
        """
        total = 0
        for layer in self.layers():
            if layer.kind == "bn":
                continue
            pixels = layer.in_size**2 if layer.kind == "conv_transpose" else layer.out_size**2
            total += 2 * pixels * layer.kernel**2 * layer.in_channels * layer.out_channels
        return total

    # --- (de)serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerSpec:
        data = dict(data)
        model = data.pop("model", cls.model)
        if model != cls.model:
            raise SaltbenchError(f"spec is for model {model!r}, not {cls.model!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SaltbenchError(f"unknown {cls.model} spec field(s): {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class ResUNetSpec(LayerSpec):
    """The ResUNet of DESIGN.md §4; batch-norm momentum/epsilon stated once, in the Keras convention."""

    model: ClassVar[str] = "resunet"

    start_neurons: int = 16
    dropout: float = 0.25
    activation: str = "relu"
    attention: str = "none"
    se_reduction: int = 8
    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    input_size: int = 101

    def __post_init__(self) -> None:
        problems = []
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


MODEL_SPECS: dict[str, type] = {"resunet": ResUNetSpec}


def spec_from_dict(data: dict[str, Any]) -> ResUNetSpec:
    """Rebuild any registered spec from its to_dict() form (the 'model' key picks the class)."""
    model = data.get("model")
    if model not in MODEL_SPECS:
        raise SaltbenchError(f"unknown model {model!r}; known: {', '.join(sorted(MODEL_SPECS))}")
    return MODEL_SPECS[model].from_dict(data)


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The spec options every model command shares (--model, --activation, ...)."""
    parser.add_argument("--model", default="resunet", choices=sorted(MODEL_SPECS))
    parser.add_argument("--activation", choices=ACTIVATIONS, default=None)
    parser.add_argument("--attention", choices=ATTENTIONS, default=None)
    parser.add_argument("--start-neurons", type=int, default=None)
    parser.add_argument("--dropout", type=float, default=None)
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


# Further architectures register themselves in MODEL_SPECS when imported; importing them here
# (after everything they use is defined) makes the registry complete whichever module loads first.
import common.spec_resnet34  # noqa: E402, F401
