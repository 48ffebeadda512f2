"""Parser-based teacher (the "tutor" of MG-VTON's distillation, Sec. 3.4).

The teacher sees what the student may not: its person branch takes the
clothing-agnostic person image, the 18 OpenPose heatmaps and the DensePose
rendering (3 + 18 + 3 = 24 channels) instead of the clothed person; the garment
branch takes the masked garment like the student's. Its pyramids have the
student's channel count so that distillation can pull the student's person and
garment pyramid features towards the teacher's.

Warping follows GP-VTON's idea (Xie et al., CVPR 2023) of *local* flows for the
left sleeve, the torso and the right sleeve combined by a predicted garment
parsing. Simplified here, and honest about it:

* three flow fields are estimated jointly by shared heads (2 x 3 output
  channels) from one cost volume per level, computed against the garment
  features warped by the *blended* flow (GP-VTON has one cost volume per part);
* a per-level parsing head on the person features predicts 3-part logits,
  refined coarse to fine; softmax weights blend the three absolute grids into
  one flow (GP-VTON blends warped garment parts with a parsing it supervises
  with labels and adds dynamic gradient truncation - neither is done here: the
  parsing is learned only through the warping losses);
* the garment is not split into part images.

The generator is an MFG U-Net whose input is the person representation, the
warped garment and its mask (24 + 3 + 1 channels).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .afen import AFENConfig, flow_head
from .common import CostVolume, compose, offset_to_grid, resize_flow, warp
from .mf import MFConfig
from .mfg import MFGConfig
from .student import PyramidTryOn

PERSON_CHANNELS = 3 + 18 + 3  # agnostic RGB, pose heatmaps, densepose RGB


def person_representation(batch: Dict[str, torch.Tensor]) -> torch.Tensor:
    """The teacher's person input: agnostic image, pose heatmaps, densepose, (B, 24, H, W)."""
    return torch.cat([batch["agnostic"], batch["pose_map"], batch["densepose"]], dim=1)


@dataclass
class PartAFENConfig(AFENConfig):
    num_parts: int = 3  # left sleeve, torso, right sleeve
    parse_channels: int = 32


class PartAFEN(nn.Module):
    """AFEN with ``num_parts`` local flows blended by a predicted soft garment parsing."""

    def __init__(self, cfg: PartAFENConfig):
        super().__init__()
        self.cfg = cfg
        p, n = cfg.num_parts, cfg.num_levels
        self.cost = CostVolume(cfg.fpn_channels, cfg.max_displacement)
        self.main = nn.ModuleList([flow_head(cfg.corr_channels, cfg.main_layers, 2 * p, cfg.head_init_std)
                                   for _ in range(cfg.corr_levels)])
        self.refine = nn.ModuleList([flow_head(2 * cfg.fpn_channels, cfg.refine_layers, 2 * p, cfg.head_init_std)
                                     for _ in range(n)])
        self.parse = nn.ModuleList([
            nn.Sequential(nn.Conv2d(cfg.fpn_channels, cfg.parse_channels, 3, padding=1), nn.LeakyReLU(0.1),
                          nn.Conv2d(cfg.parse_channels, p, 3, padding=1))
            for _ in range(n)])

    def _step(self, flows: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """Compose per-part flows (B, P, 2, h, w) with per-part displacements (B, 2P, h, w)."""
        b, p, _, h, w = flows.shape
        grids = offset_to_grid(deltas.reshape(b * p, 2, h, w))  # (B*P, 2, h, w)
        return compose(flows.reshape(b * p, 2, h, w), grids).reshape(b, p, 2, h, w)

    def forward(self, person_feats: List[torch.Tensor], garment_feats: List[torch.Tensor],
                garment: torch.Tensor, garment_mask: torch.Tensor) -> Dict[str, object]:
        n, p = self.cfg.num_levels, self.cfg.num_parts
        flows_out: List[torch.Tensor] = []
        part_flows = None  # (B, P, 2, h, w)
        logits = None  # (B, P, h, w)
        blended = None
        for i in range(n):
            level = n - 1 - i
            g_feat, p_feat = garment_feats[level], person_feats[level]
            b, _, h, w = p_feat.shape
            logits = self.parse[i](p_feat) + (0 if logits is None else
                                              F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False))
            weights = torch.softmax(logits, dim=1).unsqueeze(2)  # (B, P, 1, h, w)
            if i < self.cfg.corr_levels:  # cost volume + estimation (finest levels may only refine)
                g_in = g_feat if blended is None else warp(g_feat, blended.detach(), padding_mode="border")
                cost = F.leaky_relu(self.cost(g_in, p_feat), 0.1)  # (B, 49, h, w)
                deltas = self.main[i](cost)  # (B, 2P, h, w)
                if part_flows is None:
                    part_flows = offset_to_grid(deltas.reshape(b * p, 2, h, w)).reshape(b, p, 2, h, w)
                else:
                    part_flows = self._step(part_flows, deltas)
            blended = (weights * part_flows).sum(dim=1)  # (B, 2, h, w)
            g_warped = warp(g_feat, blended, padding_mode="border")
            part_flows = self._step(part_flows, self.refine[i](torch.cat([g_warped, p_feat], dim=1)))
            blended = (weights * part_flows).sum(dim=1)
            flows_out.append(blended)
            next_size = garment_feats[level - 1].shape[-2:] if level > 0 else garment.shape[-2:]
            part_flows = resize_flow(part_flows.reshape(b * p, 2, h, w), next_size).reshape(b, p, 2, *next_size)
            blended = resize_flow(blended, next_size)
        logits = F.interpolate(logits, size=garment.shape[-2:], mode="bilinear", align_corners=False)
        weights = torch.softmax(logits, dim=1)  # (B, P, H, W)
        flow = (weights.unsqueeze(2) * part_flows).sum(dim=1)  # (B, 2, H, W)
        return {
            "flow": flow,
            "flows": flows_out,
            "part_weights": weights,
            "warped_garment": warp(garment, flow),
            "warped_mask": warp(garment_mask, flow),
        }


def _teacher_person_mf() -> MFConfig:
    return MFConfig(in_channels=PERSON_CHANNELS)


@dataclass
class TeacherConfig:
    person_mf: MFConfig = field(default_factory=_teacher_person_mf)
    garment_mf: MFConfig = field(default_factory=MFConfig)
    afen: PartAFENConfig = field(default_factory=PartAFENConfig)
    mfg: MFGConfig = field(default_factory=lambda: MFGConfig(in_channels=PERSON_CHANNELS + 4))
    person_skip: bool = False  # generator renders a residual over the person picture (training/models/mfg.py)

    def __post_init__(self) -> None:
        if self.person_mf.in_channels != PERSON_CHANNELS:
            raise ValueError(f"teacher person branch takes {PERSON_CHANNELS} channels")
        c = {self.person_mf.fpn_channels, self.garment_mf.fpn_channels, self.afen.fpn_channels}
        if len(c) != 1:
            raise ValueError(f"teacher: pyramid channel counts disagree: {sorted(c)}")


def keep_person(gen_out: Dict[str, torch.Tensor], batch: Dict[str, torch.Tensor]) -> torch.Tensor:
    """The teacher's try-on as the student's input: wherever the person shows neither the garment being
    replaced (``garment_region``, from the parsing only the teacher may use) nor the new garment (the
    composite mask), the person's own pixels are kept - face, arms, background, which the agnostic input
    greys out and a briefly trained generator paints back blurred and grey. (B,3,H,W) in [-1,1]."""
    keep = (1 - batch["garment_region"]) * (1 - gen_out["composite_mask"].float())
    return gen_out["tryon"].float() * (1 - keep) + batch["person"] * keep


class Teacher(PyramidTryOn):
    """Parser-based teacher. ``forward(person_repr (B,24,H,W), garment, garment_mask)``; same dict as the student
    plus ``part_weights``."""

    person_channels = PERSON_CHANNELS

    def __init__(self, cfg: TeacherConfig):
        super().__init__(cfg, PartAFEN)
