"""AFEN: the appearance-flow estimation network of MG-VTON (Sec. 3.2).

Coarse-to-fine appearance flow over the five pyramid levels, as in PF-AFN's and
DM-VTON's AFWM. At each level, coarsest first:

1. warp the garment features with the (upsampled) flow of the previous level;
2. local cost volume (correlation, 7x7 offsets = 49 channels) between the warped
   garment features and the person features, leaky ReLU;
3. flow estimation convs -> pixel displacements, composed with the previous flow;
4. refinement: warp the garment features with that flow, concatenate with the
   person features, convs -> displacements, composed again;
5. upsample the flow to the next level.

``corr_levels`` < 5 skips steps 1-3 on the finest levels (a CPU-cost option of
the lite config; the paper config uses all five).

Flows are absolute sampling grids in [-1, 1] (channel 0 = x), align_corners=False.
The final flow (full input resolution) warps the garment and its mask.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CostVolume, compose, offset_to_grid, resize_flow, warp


@dataclass
class AFENConfig:
    fpn_channels: int = 256
    num_levels: int = 5
    # (kernel, channels) of the hidden convs of the flow-estimation and refinement heads;
    # a final 3x3 conv to 2 * num_flows channels is appended. Paper/DM-VTON: 128-64-32, all 3x3.
    main_layers: Tuple[Tuple[int, int], ...] = ((3, 128), (3, 64), (3, 32))
    refine_layers: Tuple[Tuple[int, int], ...] = ((3, 128), (3, 64), (3, 32))
    max_displacement: int = 3
    # the cost volume + flow-estimation head run on the ``corr_levels`` coarsest levels; finer
    # levels only refine the upsampled flow (paper: all 5; the cost volume dominates CPU time
    # at the finest level, so mg-lite uses 4)
    corr_levels: int = 5
    detach_warp_features: bool = True  # as DM-VTON: no gradient through the pre-correlation warp
    head_init_std: float = 1e-3  # small last-conv init: the network starts near the identity flow

    @property
    def corr_channels(self) -> int:
        return (2 * self.max_displacement + 1) ** 2


def flow_head(cin: int, layers: Sequence[Tuple[int, int]], cout: int = 2, init_std: float = 1e-3) -> nn.Sequential:
    """Conv stack with leaky ReLU(0.1) ending in a 3x3 conv to ``cout`` displacement channels."""
    mods: List[nn.Module] = []
    for k, c in layers:
        mods += [nn.Conv2d(cin, c, k, padding=k // 2), nn.LeakyReLU(0.1)]
        cin = c
    last = nn.Conv2d(cin, cout, 3, padding=1)
    nn.init.normal_(last.weight, 0.0, init_std)
    nn.init.zeros_(last.bias)
    mods.append(last)
    return nn.Sequential(*mods)


class AFEN(nn.Module):
    """Coarse-to-fine appearance flow (see module docstring)."""

    def __init__(self, cfg: AFENConfig):
        super().__init__()
        self.cfg = cfg
        if not 1 <= cfg.corr_levels <= cfg.num_levels:
            raise ValueError(f"AFEN corr_levels {cfg.corr_levels}: want 1..{cfg.num_levels}")
        self.cost = CostVolume(cfg.fpn_channels, cfg.max_displacement)
        self.main = nn.ModuleList(
            [flow_head(cfg.corr_channels, cfg.main_layers, 2, cfg.head_init_std) for _ in range(cfg.corr_levels)])
        self.refine = nn.ModuleList(
            [flow_head(2 * cfg.fpn_channels, cfg.refine_layers, 2, cfg.head_init_std) for _ in range(cfg.num_levels)])

    def forward(self, person_feats: List[torch.Tensor], garment_feats: List[torch.Tensor],
                garment: torch.Tensor, garment_mask: torch.Tensor) -> Dict[str, object]:
        """Feature lists are finest first. Returns flow (B,2,H,W), flows (per level, coarse first),
        warped_garment (B,3,H,W), warped_mask (B,1,H,W)."""
        n = self.cfg.num_levels
        flows: List[torch.Tensor] = []
        last_flow = None
        for i in range(n):
            level = n - 1 - i  # coarsest first
            g_feat, p_feat = garment_feats[level], person_feats[level]
            if i < self.cfg.corr_levels:
                if last_flow is not None:
                    guide = last_flow.detach() if self.cfg.detach_warp_features else last_flow
                    g_in = warp(g_feat, guide, padding_mode="border")
                else:
                    g_in = g_feat
                cost = F.leaky_relu(self.cost(g_in, p_feat), 0.1)  # (B, 49, h, w)
                grid = offset_to_grid(self.main[i](cost))  # (B, 2, h, w)
                flow = grid if last_flow is None else compose(last_flow, grid)
            else:
                flow = last_flow
            g_warped = warp(g_feat, flow, padding_mode="border")
            delta = self.refine[i](torch.cat([g_warped, p_feat], dim=1))  # (B, 2, h, w)
            flow = compose(flow, offset_to_grid(delta))
            flows.append(flow)
            next_size = garment_feats[level - 1].shape[-2:] if level > 0 else garment.shape[-2:]
            last_flow = resize_flow(flow, next_size)
        return {
            "flow": last_flow,
            "flows": flows,
            "warped_garment": warp(garment, last_flow),
            "warped_mask": warp(garment_mask, last_flow),
        }
