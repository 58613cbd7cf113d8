"""The base every model spec derives from: layer records, TF-style sizes, weight shapes, counts, FLOPs."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, NamedTuple

from common.core.errors import SaltbenchError

ACTIVATIONS = ("relu", "swish", "mish")
ATTENTIONS = ("none", "se", "scse")


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
        """Neutral-layout shape of every weight (see common.models.weights), keyed '<layer>/<param>'."""
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
