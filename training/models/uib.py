"""Universal Inverted Bottleneck (UIB), MobileNetV4 (Qin et al., 2024), Sec. 3.2 / Fig. 4.

MG-VTON builds both its feature pyramids (MF, Sec. 3.1 of the MG-VTON paper) and
its generator (MFG, Sec. 3.3) from UIB blocks in place of DM-VTON's MobileNetV2
inverted residuals. A UIB block is

    [start depthwise k x k]  ->  1x1 expand (+act)  ->  [middle depthwise k x k (+act)]  ->  1x1 project

with a residual connection when input and output shapes match. The two optional
depthwise convs give four variants:

=========  ==========  ===========  =============================================
variant    start dw    middle dw    note
=========  ==========  ===========  =============================================
ib         -           yes          MobileNetV2 inverted residual
convnext   yes         -            ConvNeXt-like: spatial mixing before expansion
extradw    yes         yes          both
ffn        -           -            two 1x1 convs (stride must be 1)
=========  ==========  ===========  =============================================

CPU note (measured, see training/README or the lab report): a depthwise conv on
the *expanded* tensor (ib, extradw) costs far more CPU time than its MAC count
suggests; the lite configs prefer convnext/ffn blocks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn as nn

from .common import ConvBNAct, make_act

VARIANTS = {
    # name: (start dw, middle dw)
    "ib": (False, True),
    "convnext": (True, False),
    "extradw": (True, True),
    "ffn": (False, False),
}


@dataclass
class UIBConfig:
    in_channels: int
    out_channels: int
    variant: str = "extradw"
    expand_ratio: float = 4.0
    stride: int = 1
    start_kernel: int = 3
    middle_kernel: int = 3
    middle_downsample: bool = True  # with both dws, stride on the middle one (MobileNetV4 default)
    act: str = "relu"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"UIB variant {self.variant!r}: want one of {sorted(VARIANTS)}")
        if self.stride not in (1, 2):
            raise ValueError(f"UIB stride {self.stride}: want 1 or 2")
        if self.variant == "ffn" and self.stride != 1:
            raise ValueError("UIB ffn variant has no depthwise conv to carry stride 2")

    @property
    def hidden_channels(self) -> int:
        return int(round(self.in_channels * self.expand_ratio))


class UIB(nn.Module):
    """One Universal Inverted Bottleneck block (see module docstring)."""

    def __init__(self, cfg: UIBConfig):
        super().__init__()
        self.cfg = cfg
        start, middle = VARIANTS[cfg.variant]
        stride_mid = cfg.stride if middle and (cfg.middle_downsample or not start) else 1
        stride_start = cfg.stride if stride_mid == 1 else 1
        hidden = cfg.hidden_channels
        self.start_dw = (ConvBNAct(cfg.in_channels, cfg.in_channels, cfg.start_kernel, stride_start,
                                   groups=cfg.in_channels, act=None) if start else nn.Identity())
        self.expand = ConvBNAct(cfg.in_channels, hidden, 1, act=cfg.act)
        self.middle_dw = (ConvBNAct(hidden, hidden, cfg.middle_kernel, stride_mid, groups=hidden, act=cfg.act)
                          if middle else nn.Identity())
        self.project = ConvBNAct(hidden, cfg.out_channels, 1, act=None)
        self.use_residual = cfg.stride == 1 and cfg.in_channels == cfg.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.start_dw(x)
        y = self.expand(y)
        y = self.middle_dw(y)
        y = self.project(y)
        return x + y if self.use_residual else y


@dataclass
class StageSpec:
    """``n`` UIB blocks producing ``channels``; the first carries ``stride``."""
    channels: int
    n: int = 1
    stride: int = 1
    expand_ratio: float = 4.0
    variant: str = "extradw"
    kernel: int = 3


def mobilenetv2_stages(stride_96: int) -> Tuple[StageSpec, ...]:
    """DM-VTON's MobileNetV2 settings as ExtraDW UIB stages (MG-VTON's paper size), shared by the pyramid
    (:mod:`.mf`) and the generator (:mod:`.mfg`).

    The two differ in one row: the pyramid (DM-VTON's ``MobileNetV2_dynamicFPN``) halves the resolution at
    the 96-channel stage, which gives it its fifth level (H/32); the U-Net generator (``MobileNetV2_unet``,
    torchvision's MobileNetV2 table) keeps that stage at stride 1, so its skips sit at H/2..H/16.
    """
    return (
        StageSpec(16, 1, 1, 1, "extradw"),
        StageSpec(24, 1, 2, 6, "extradw"),
        StageSpec(32, 1, 2, 6, "extradw"),
        StageSpec(64, 1, 2, 6, "extradw"),
        StageSpec(96, 1, stride_96, 6, "extradw"),
        StageSpec(160, 1, 2, 6, "extradw"),
        StageSpec(320, 1, 1, 6, "extradw"),
    )


def make_stage(cin: int, spec: StageSpec, act: str = "relu") -> nn.Sequential:
    blocks = []
    for i in range(spec.n):
        blocks.append(UIB(UIBConfig(cin, spec.channels, spec.variant, spec.expand_ratio,
                                    spec.stride if i == 0 else 1, spec.kernel, spec.kernel, act=act)))
        cin = spec.channels
    return nn.Sequential(*blocks)


__all__ = ["UIB", "UIBConfig", "StageSpec", "make_stage", "mobilenetv2_stages", "VARIANTS", "make_act"]
