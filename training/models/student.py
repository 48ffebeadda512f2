"""MGStudent: the parser-free MG-VTON student (Sec. 3, Fig. 2 of the paper).

MF(person) + MF(garment) -> AFEN (appearance flow, warped garment and mask)
-> MFG (rendered person + composite mask) -> try-on.

``forward`` returns the same dict in training and inference; losses live in
``training.losses``. ``warp_forward`` / ``gen_forward`` are the two exported
stages of docs/model-contract.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .afen import AFEN, AFENConfig
from .common import resize_flow, warp
from .dmvton import MobileNetV2UNet
from .mf import MF, MFConfig
from .mfg import MFG, MFGConfig, TwoStageTryOn


@dataclass
class StudentConfig:
    person_mf: MFConfig = field(default_factory=MFConfig)
    garment_mf: MFConfig = field(default_factory=MFConfig)
    afen: AFENConfig = field(default_factory=AFENConfig)
    mfg: MFGConfig = field(default_factory=MFGConfig)
    # "mfg", or "mbv2-unet": DM-VTON's MobileNetV2 U-Net in MFG's place (the ablation's "MF only" row)
    generator: str = "mfg"
    # appearance flow estimated at 1/flow_downsample of the input (1 or 2), then upsampled
    flow_downsample: int = 1
    person_skip: bool = False  # generator renders a residual over the person picture (training/models/mfg.py)

    def __post_init__(self) -> None:
        c = {self.person_mf.fpn_channels, self.garment_mf.fpn_channels, self.afen.fpn_channels}
        if len(c) != 1:
            raise ValueError(f"student: pyramid channel counts disagree: {sorted(c)}")
        if self.flow_downsample not in (1, 2):
            raise ValueError(f"student: flow_downsample must be 1 or 2, got {self.flow_downsample}")
        if self.generator not in ("mfg", "mbv2-unet"):
            raise ValueError(f"student: unknown generator {self.generator!r}")


class PyramidTryOn(TwoStageTryOn):
    """MF(person) + MF(garment) -> a flow module -> MFG: the layout the student and the parser-based
    teacher share; they differ in the flow module and in what the person pyramid sees."""

    flow_align_corners = False

    def __init__(self, cfg, afen_cls):
        super().__init__()
        self.cfg = cfg
        self.person_mf = MF(cfg.person_mf)
        self.garment_mf = MF(cfg.garment_mf)
        self.afen = afen_cls(cfg.afen)
        # (the attribute keeps its name for either generator: checkpoints and stage lists refer to it)
        if getattr(cfg, "generator", "mfg") == "mbv2-unet":
            self.mfg = MobileNetV2UNet(cfg.mfg.in_channels, cfg.mfg.out_channels)
        else:
            self.mfg = MFG(cfg.mfg)

    # the parts trained in each stage of the paper's two-stage schedule
    def warp_modules(self) -> List[nn.Module]:
        return [self.person_mf, self.garment_mf, self.afen]

    def gen_modules(self) -> List[nn.Module]:
        return [self.mfg]

    def generator(self) -> nn.Module:
        return self.mfg

    def warp_forward(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor,
                     person_feats: Optional[List[torch.Tensor]] = None) -> Dict[str, object]:
        """``person_feats``: the person pyramid when already computed (distillation dresses the same person
        in two garments)."""
        mask = (garment_mask > 0.5).to(garment.dtype)
        garment = garment * mask
        k = getattr(self.cfg, "flow_downsample", 1)
        # flow at 1/k of the input: pyramids and AFEN see k x k average-pooled images (what training at
        # 1/k resolution showed them); the final flow is upsampled and warps the full-resolution garment
        p_in, g_in, m_in = (person, garment, mask) if k == 1 else (F.avg_pool2d(x, k) for x in (person, garment, mask))
        if person_feats is None:
            person_feats = self.person_mf(p_in)
        garment_feats = self.garment_mf(g_in)
        out = self.afen(person_feats, garment_feats, g_in, m_in)
        if k > 1:
            flow = resize_flow(out["flow"], garment.shape[-2:])
            out.update(flow=flow, warped_garment=warp(garment, flow), warped_mask=warp(mask, flow))
        out["person_feats"] = person_feats
        out["garment_feats"] = garment_feats
        return out


class MGStudent(PyramidTryOn):
    """Parser-free student: inputs person (B,3,H,W), garment (B,3,H,W) in [-1,1], garment_mask (B,1,H,W)."""

    person_channels = 3

    def __init__(self, cfg: StudentConfig):
        super().__init__(cfg, AFEN)
