"""An independent torchvision-layout ResNet34 (torchvision is not a dependency) for encoder-weight tests.

Written from torchvision's resnet.py structure: conv1/bn1/relu/maxpool, layer1..4 as nn.Sequential
of BasicBlocks (conv1, bn1, conv2, bn2, downsample = Sequential(conv 1x1, BN)), avgpool, fc, so its
state_dict() keys are exactly torchvision's.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class RefBasicBlock(nn.Module):
    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, width, 1, stride, bias=False), nn.BatchNorm2d(width)
            )

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class RefResNet34(nn.Module):
    """torchvision.models.resnet34 with a configurable base width and 3 input channels."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        for stage, blocks in enumerate((3, 4, 6, 3), start=1):
            out = width * 2 ** (stage - 1)
            stride = 1 if stage == 1 else 2
            units = [
                RefBasicBlock(cin if i == 0 else out, out, stride if i == 0 else 1)
                for i in range(blocks)
            ]
            setattr(self, f"layer{stage}", nn.Sequential(*units))
            cin = out
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, 1000)

    def features(self, x):
        """layer4 output (what the U-Net's encoder sees last)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def randomized_reference(width: int, seed: int = 0) -> RefResNet34:
    """A reference net in eval mode with random weights and non-trivial BN statistics."""
    torch.manual_seed(seed)
    model = RefResNet34(width)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def save_reference(path: Path, width: int, seed: int = 0) -> RefResNet34:
    """torch.save a reference net's state dict to `path` and return the net."""
    model = randomized_reference(width, seed)
    torch.save(model.state_dict(), path)
    return model
