"""MF: the multi-scale feature pyramid of MG-VTON (Sec. 3.1), one instance per input.

Same topology as DM-VTON's ``MobileNetV2_dynamicFPN`` with UIB blocks in place of
inverted residuals: a stem conv, a stack of UIB stages, five of which halve the
resolution and feed an FPN lateral 1x1 conv, and a final stage whose globally
pooled output is the FPN top. Top-down: upsample + add the lateral, then a 3x3
smoothing conv (shared by all levels in the paper config, as in DM-VTON) to a
common ``fpn_channels``.

Output: a list of five (B, fpn_channels, H/2^k, W/2^k) maps, finest first (k = 1..5
with the paper's stem stride 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import ConvBNAct, init_weights
from .uib import StageSpec, make_stage, mobilenetv2_stages


def _paper_stages() -> Tuple[StageSpec, ...]:
    return mobilenetv2_stages(stride_96=2)  # the pyramid strides the 96-channel stage: five levels


@dataclass
class MFConfig:
    in_channels: int = 3
    stem_channels: int = 32
    stem_stride: int = 1
    stages: Tuple[StageSpec, ...] = field(default_factory=_paper_stages)
    fpn_channels: int = 256
    smooth: str = "conv3x3"  # "conv3x3" | "dwsep" (depthwise 3x3 + BN + 1x1: far cheaper)
    share_smooth: bool = True  # one smoothing conv for all levels (DM-VTON / paper size)
    global_top: bool = True  # FPN top = global average pool of the last stage (DM-VTON)
    act: str = "relu"

    @property
    def num_levels(self) -> int:
        return sum(1 for s in self.stages[:-1] if s.stride > 1)


class MF(nn.Module):
    """Multi-scale feature pyramid (see module docstring)."""

    def __init__(self, cfg: MFConfig):
        super().__init__()
        self.cfg = cfg
        self.stem = ConvBNAct(cfg.in_channels, cfg.stem_channels, 3, cfg.stem_stride, act=cfg.act)
        stages, laterals, self.level_of_stage = [], [], []
        cin = cfg.stem_channels
        for i, spec in enumerate(cfg.stages):
            stages.append(make_stage(cin, spec, cfg.act))
            cin = spec.channels
            is_level = spec.stride > 1 and i < len(cfg.stages) - 1
            self.level_of_stage.append(len(laterals) if is_level else -1)
            if is_level:
                laterals.append(nn.Conv2d(spec.channels, cfg.fpn_channels, 1))
        self.stages = nn.ModuleList(stages)
        self.laterals = nn.ModuleList(laterals)
        self.pool = nn.AdaptiveAvgPool2d(1) if cfg.global_top else nn.Identity()
        self.top = nn.Conv2d(cin, cfg.fpn_channels, 1)
        n = len(laterals)
        if cfg.share_smooth:
            smooth = self._make_smooth()
            self.smooth = nn.ModuleList([smooth] * n)
        else:
            self.smooth = nn.ModuleList([self._make_smooth() for _ in range(n)])
        init_weights(self)

    def _make_smooth(self) -> nn.Module:
        c = self.cfg.fpn_channels
        if self.cfg.smooth == "conv3x3":
            return nn.Conv2d(c, c, 3, padding=1)
        if self.cfg.smooth == "dwsep":
            return nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.BatchNorm2d(c),
                                 nn.Conv2d(c, c, 1))
        raise ValueError(f"MF smooth {self.cfg.smooth!r}: want conv3x3 or dwsep")

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.stem(x)
        lateral_feats = []
        for stage, level in zip(self.stages, self.level_of_stage):
            x = stage(x)
            if level >= 0:
                lateral_feats.append(self.laterals[level](x))
        top = self.top(self.pool(x))  # (B, C, 1, 1) with global_top
        merged = []
        for lat in reversed(lateral_feats):  # coarse to fine
            top = F.interpolate(top, size=lat.shape[-2:], mode="bilinear", align_corners=False) + lat
            merged.append(top)
        merged.reverse()  # fine to coarse
        return [s(m) for s, m in zip(self.smooth, merged)]
