"""Spec of the ResNet34-encoder U-Net with scSE decoder (the seed-002 kernel), shared by both twins.

Canonical names follow torchvision's ResNet34 with one rule (see common.models.encoder_weights):
the stem is `conv1`, `bn1`; block i of stage s is `layer{s}_{i}` with `conv1`, `bn1`, `conv2`,
`bn2` and, where the shape changes, `downsample/0` (1x1 conv) and `downsample/1` (BN).
Decoder blocks `dec1`..`dec4` hold `up` (2x2 stride-2 transposed conv of the deep path),
`skip` (1x1 conv of the skip), `bn`, and optional attention `att/{squeeze,excite,spatial}`;
`head` is a 2x2 stride-2 transposed conv to one logit.

Padding follows torchvision in both twins (so ImageNet weights behave as trained): a stride-2
kxk conv pads k//2 on every side, the stem max-pool pads one -inf pixel on every side. Tiles
enter by padding 101→`padded_size` (`pad_mode` reflect or constant zeros; the odd extra pixel
goes to the bottom/right) and leave by cropping the same window back out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from common.core.errors import SaltbenchError
from common.models.layerspec import ACTIVATIONS, ATTENTIONS, LayerInfo, LayerSpec

STAGE_BLOCKS = (3, 4, 6, 3)  # BasicBlocks per stage: ResNet34
DECODER_LEVELS = (1, 2, 3, 4)  # dec1 sits on layer4, dec4 on the stem
PAD_MODES = ("reflect", "constant")
DOWNSAMPLING = 32  # stem conv, stem pool, and stages 2-4 each halve the side


@dataclass(frozen=True)
class ResNet34UNetSpec(LayerSpec):
    """ResNet34 U-Net; `base_width` 64 is the real ResNet34, smaller values shrink every layer."""

    model: ClassVar[str] = "resnet34_unet"

    base_width: int = 64
    dropout: float = 0.0
    activation: str = "relu"
    attention: str = "scse"
    se_reduction: int = 16
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    input_size: int = 101
    padded_size: int = 128
    pad_mode: str = "reflect"

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise SaltbenchError("invalid resnet34_unet spec: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        problems = []
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation {self.activation!r} not in {ACTIVATIONS}")
        if self.attention not in ATTENTIONS:
            problems.append(f"attention {self.attention!r} not in {ATTENTIONS}")
        if self.pad_mode not in PAD_MODES:
            problems.append(f"pad_mode {self.pad_mode!r} not in {PAD_MODES}")
        if not _positive_int(self.base_width) or self.base_width % 2:
            problems.append(f"base_width must be a positive even integer, got {self.base_width!r}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not _positive_int(self.se_reduction):
            problems.append(f"se_reduction must be a positive integer, got {self.se_reduction!r}")
        if not 0.0 < self.bn_momentum < 1.0:
            problems.append(f"bn_momentum must be in (0, 1), got {self.bn_momentum!r}")
        if self.bn_epsilon <= 0:
            problems.append(f"bn_epsilon must be > 0, got {self.bn_epsilon!r}")
        if not _positive_int(self.input_size):
            problems.append(f"input_size must be a positive integer, got {self.input_size!r}")
        elif not _positive_int(self.padded_size) or self.padded_size % DOWNSAMPLING:
            problems.append(
                f"padded_size must be a positive multiple of {DOWNSAMPLING}, got {self.padded_size!r}"
            )
        elif not self.input_size <= self.padded_size:
            problems.append(f"padded_size {self.padded_size} < input_size {self.input_size}")
        elif self.pad_mode == "reflect" and max(self.padding) >= self.input_size:
            problems.append(
                f"reflect padding {self.padding} must be smaller than input_size {self.input_size}"
            )
        return problems

    # --- geometry -------------------------------------------------------------------------------
    @property
    def padding(self) -> tuple[int, int]:
        """(before, after) pixels added on each spatial axis; the odd one goes after."""
        total = self.padded_size - self.input_size
        return total // 2, total - total // 2

    def stage_width(self, stage: int) -> int:
        """Channels of encoder stage 1..4 (64, 128, 256, 512 at base_width 64); stage 0 is the stem."""
        return self.base_width * 2 ** max(stage - 1, 0)

    def stage_size(self, stage: int) -> int:
        """Spatial side after the stem conv (stage 0) and after stage 1..4: P/2, P/4 ... P/32."""
        return self.padded_size // 2 ** (stage + 1)

    @staticmethod
    def stage_stride(stage: int) -> int:
        return 1 if stage == 1 else 2

    @property
    def decoder_width(self) -> int:
        """Channels out of each decoder block (256 at base_width 64): half upsampled, half skip."""
        return 4 * self.base_width

    def decoder_inputs(self, level: int) -> tuple[int, int]:
        """(deep-path channels, skip channels) entering decoder block 1..4."""
        deep = self.stage_width(4) if level == 1 else self.decoder_width
        return deep, self.stage_width(4 - level)

    def decoder_size(self, level: int) -> int:
        """Spatial side out of decoder block 1..4 (the side of its skip)."""
        return self.stage_size(4 - level)

    def has_downsample(self, stage: int, block: int) -> bool:
        """A 1x1 projection on the shortcut where the block changes stride or width."""
        if block != 0:
            return False
        return self.stage_stride(stage) != 1 or self.stage_width(stage - 1) != self.stage_width(
            stage
        )

    def se_hidden(self, channels: int) -> int:
        return max(1, channels // self.se_reduction)

    # --- canonical layers -----------------------------------------------------------------------
    def _stem(self) -> list[LayerInfo]:
        width, size = self.stage_width(0), self.stage_size(0)
        return [
            LayerInfo("conv1", "conv", 1, width, 7, self.padded_size, size),
            LayerInfo("bn1", "bn", width, width, 1, size, size),
        ]

    def _block(self, stage: int, block: int) -> list[LayerInfo]:
        name, width, out = f"layer{stage}_{block}", self.stage_width(stage), self.stage_size(stage)
        cin = width if block else self.stage_width(stage - 1)
        size_in = out if block else self.stage_size(stage - 1)
        layers = [
            LayerInfo(f"{name}/conv1", "conv", cin, width, 3, size_in, out),
            LayerInfo(f"{name}/bn1", "bn", width, width, 1, out, out),
            LayerInfo(f"{name}/conv2", "conv", width, width, 3, out, out),
            LayerInfo(f"{name}/bn2", "bn", width, width, 1, out, out),
        ]
        if self.has_downsample(stage, block):
            layers += [
                LayerInfo(f"{name}/downsample/0", "conv", cin, width, 1, size_in, out),
                LayerInfo(f"{name}/downsample/1", "bn", width, width, 1, out, out),
            ]
        return layers

    def _attention(self, prefix: str, channels: int, size: int) -> list[LayerInfo]:
        if self.attention == "none":
            return []
        hidden = self.se_hidden(channels)
        layers = [
            LayerInfo(f"{prefix}/squeeze", "conv", channels, hidden, 1, 1, 1),
            LayerInfo(f"{prefix}/excite", "conv", hidden, channels, 1, 1, 1),
        ]
        if self.attention == "scse":
            layers.append(LayerInfo(f"{prefix}/spatial", "conv", channels, 1, 1, size, size))
        return layers

    def _decoder(self, level: int) -> list[LayerInfo]:
        deep, skip = self.decoder_inputs(level)
        width, size, half = self.decoder_width, self.decoder_size(level), self.decoder_width // 2
        name = f"dec{level}"
        return [
            LayerInfo(f"{name}/up", "conv_transpose", deep, half, 2, size // 2, size),
            LayerInfo(f"{name}/skip", "conv", skip, half, 1, size, size),
            LayerInfo(f"{name}/bn", "bn", width, width, 1, size, size),
            *self._attention(f"{name}/att", width, size),
        ]

    def layers(self) -> list[LayerInfo]:
        """Every weight-bearing layer in forward order, with canonical names shared by both twins."""
        out = self._stem()
        for stage, blocks in enumerate(STAGE_BLOCKS, start=1):
            for block in range(blocks):
                out += self._block(stage, block)
        for level in DECODER_LEVELS:
            out += self._decoder(level)
        size = self.stage_size(0)
        out.append(LayerInfo("head", "conv_transpose", self.decoder_width, 1, 2, size, 2 * size))
        return out

    @staticmethod
    def has_bias(layer: LayerInfo) -> bool:
        """Encoder convolutions have no bias (as in torchvision); decoder and head convs do."""
        return not (layer.name.startswith(("conv1", "layer")) and layer.kind == "conv")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
