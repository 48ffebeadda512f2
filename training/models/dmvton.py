"""DM-VTON baseline (Nguyen-Ngoc et al., ISMAR 2023): the student MG-VTON improves on.

MobileNetV2 FPN pyramids (person and garment) + AFWM appearance flow + MobileNetV2
U-Net generator. Written from the paper and the published architecture, with
module and parameter names chosen so that the official checkpoints load with
``strict=True``: the warp checkpoint into ``DMVTON.warp_model`` and the generator
checkpoint into ``DMVTON.gen_model`` (the official code saves them separately).

Differences from the official code, all numerically neutral:
- the correlation is the plain-tensor cost volume of ``common.correlation``
  (the official one is a CuPy CUDA kernel);
- one forward for training and inference (the official ``phase`` switch is gone;
  the extra training outputs are computed by the losses);
- ``forward`` returns the same dict as the MG-VTON student.

Flows keep the official convention: absolute grids, ``align_corners=True``,
bilinear x2 upsampling between levels (inputs must be multiples of 32). With
``align_corners=False`` the model does what the official code does without
``--align_corners``: ``grid_sample`` without aligned corners, offsets still
turned into grids by ``apply_offset``'s size-1 normalisation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CostVolume, compose, init_weights, offset_to_grid, warp
from .mfg import TwoStageTryOn


@dataclass
class DMVTONConfig:
    fpn_channels: int = 256
    warp_input_channels: int = 3  # the person branch ("cond") input
    gen_input_channels: int = 7
    gen_output_channels: int = 4
    align_corners: bool = True
    person_skip: bool = False  # generator renders a residual over the person picture (training/models/mfg.py)


class InvertedResidual(nn.Module):
    """MobileNetV2 block. ``always_expand``: the FPN variant keeps the 1x1 expansion even at t=1."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int, always_expand: bool):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: List[nn.Module] = []
        if expand_ratio != 1 or always_expand:
            layers += [nn.Conv2d(inp, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (expansion t, channels c, stride s) of the pyramid backbone
FPN_SETTINGS = [(1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 2), (6, 160, 2), (6, 320, 1)]
# (t, c, s) of the generator backbone
UNET_SETTINGS = [(1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 1), (6, 160, 2), (6, 320, 1)]


class MobileNetV2FPN(nn.Module):
    """MobileNetV2 feature pyramid (official ``MobileNetV2_dynamicFPN``); returns five levels, finest first."""

    def __init__(self, input_nc: int, fpn_channels: int = 256):
        super().__init__()
        self.first_layer = nn.Sequential(nn.Conv2d(input_nc, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32),
                                         nn.ReLU6(inplace=True))
        blocks, cin = [], 32
        for t, c, s in FPN_SETTINGS:
            blocks.append(nn.Sequential(InvertedResidual(cin, c, s, t, always_expand=True)))
            cin = c
        self.inverted_residual_blocks = nn.ModuleList(blocks)
        self.average_pool = nn.AdaptiveAvgPool2d(1)
        self.top_layer = nn.Conv2d(cin, fpn_channels, 1)
        self.lateral_idx = [i for i, (_, _, s) in enumerate(FPN_SETTINGS[:-1]) if s > 1]
        self.lateral_layers = nn.ModuleList([nn.Conv2d(FPN_SETTINGS[i][1], fpn_channels, 1) for i in self.lateral_idx])
        smooth = nn.Conv2d(fpn_channels, fpn_channels, 3, 1, 1)
        self.smooth_layers = nn.ModuleList([smooth] * len(self.lateral_layers))  # one conv shared by all levels

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.first_layer(x)
        laterals = []
        for i, block in enumerate(self.inverted_residual_blocks):
            x = block(x)
            if i in self.lateral_idx:
                laterals.append(self.lateral_layers[self.lateral_idx.index(i)](x))
        top = self.top_layer(self.average_pool(x))  # (B, C, 1, 1)
        merged = []
        for lat in reversed(laterals):
            top = F.interpolate(top, size=lat.shape[-2:], mode="bilinear", align_corners=False) + lat
            merged.append(top)
        merged.reverse()
        return [s(m) for s, m in zip(self.smooth_layers, merged)]


def _flow_net(cin: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, 128, 3, 1, 1), nn.LeakyReLU(0.1),
        nn.Conv2d(128, 64, 3, 1, 1), nn.LeakyReLU(0.1),
        nn.Conv2d(64, 32, 3, 1, 1), nn.LeakyReLU(0.1),
        nn.Conv2d(32, 2, 3, 1, 1),
    )


class AFlowNet(nn.Module):
    """AFWM flow estimator: per level a ``netMain`` (on the cost volume) and a ``netRefine`` head."""

    def __init__(self, num_pyramid: int = 5, fpn_dim: int = 256, align_corners: bool = True):
        super().__init__()
        self.align_corners = align_corners
        self.cost = CostVolume(fpn_dim)  # non-persistent buffer only: the state dict keeps the official keys
        self.netMain = nn.ModuleList([_flow_net(49) for _ in range(num_pyramid)])
        self.netRefine = nn.ModuleList([_flow_net(2 * fpn_dim) for _ in range(num_pyramid)])

    def forward(self, x_warps: List[torch.Tensor], x_conds: List[torch.Tensor]):
        ac = self.align_corners
        last_flow, flows = None, []
        n = len(x_warps)
        for i in range(n):
            x_warp, x_cond = x_warps[n - 1 - i], x_conds[n - 1 - i]
            x_in = x_warp if last_flow is None else warp(x_warp, last_flow.detach(), "border", ac)
            cost = F.leaky_relu(self.cost(x_in, x_cond), 0.1)  # (B, 49, h, w)
            # The official apply_offset normalises by size-1 whatever align_corners
            # says (that flag only reaches grid_sample): offset_to_grid(.., True).
            grid = offset_to_grid(self.netMain[i](cost), True)
            flow = grid if last_flow is None else compose(last_flow, grid, ac)
            x_w = warp(x_warp, flow, "border", ac)
            flow = compose(flow, offset_to_grid(self.netRefine[i](torch.cat([x_w, x_cond], 1)), True), ac)
            flows.append(flow)
            last_flow = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=False)
        return last_flow, flows


class MobileAFWM(nn.Module):
    """Official warp module layout: ``image_mobile`` (garment), ``cond_mobile`` (person), ``aflow_net``."""

    def __init__(self, input_nc: int = 3, fpn_channels: int = 256, align_corners: bool = True):
        super().__init__()
        self.image_mobile = MobileNetV2FPN(3, fpn_channels)
        self.cond_mobile = MobileNetV2FPN(input_nc, fpn_channels)
        self.aflow_net = AFlowNet(5, fpn_channels, align_corners)


def _conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


def _conv_1x1_bn(inp: int, oup: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class MobileNetV2Backbone(nn.Module):
    def __init__(self, input_c: int):
        super().__init__()
        feats: List[nn.Module] = [_conv_bn(input_c, 32, 2)]
        cin = 32
        for t, c, s in UNET_SETTINGS:
            feats.append(InvertedResidual(cin, c, s, t, always_expand=False))
            cin = c
        feats.append(_conv_1x1_bn(cin, 512))
        self.features = nn.Sequential(*feats)


class MobileNetV2UNet(nn.Module):
    """Official generator layout (``MobileNetV2_unet``): backbone.features[0..8], dconv1..4, invres1..4, conv_last."""

    def __init__(self, input_c: int = 7, output_c: int = 4):
        super().__init__()
        self.backbone = MobileNetV2Backbone(input_c)
        self.dconv1 = nn.ConvTranspose2d(512, 96, 4, padding=1, stride=2)
        self.invres1 = InvertedResidual(192, 96, 1, 6, always_expand=False)
        self.dconv2 = nn.ConvTranspose2d(96, 32, 4, padding=1, stride=2)
        self.invres2 = InvertedResidual(64, 32, 1, 6, always_expand=False)
        self.dconv3 = nn.ConvTranspose2d(32, 24, 4, padding=1, stride=2)
        self.invres3 = InvertedResidual(48, 24, 1, 6, always_expand=False)
        self.dconv4 = nn.ConvTranspose2d(24, 16, 4, padding=1, stride=2)
        self.invres4 = InvertedResidual(32, 16, 1, 6, always_expand=False)
        self.conv_last = nn.Conv2d(16, output_c, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.backbone.features
        x1 = f[1](f[0](x))  # (B, 16, H/2, W/2)
        x2 = f[2](x1)  # (B, 24, H/4, W/4)
        x3 = f[3](x2)  # (B, 32, H/8, W/8)
        x4 = f[5](f[4](x3))  # (B, 96, H/16, W/16)
        x = f[8](f[7](f[6](x4)))  # (B, 512, H/32, W/32)
        x = self.invres1(torch.cat([x4, self.dconv1(x)], 1))
        x = self.invres2(torch.cat([x3, self.dconv2(x)], 1))
        x = self.invres3(torch.cat([x2, self.dconv3(x)], 1))
        x = self.invres4(torch.cat([x1, self.dconv4(x)], 1))
        x = F.interpolate(x, scale_factor=2, mode="nearest")  # (B, 16, H, W)
        return self.conv_last(x)


class DMVTON(TwoStageTryOn):
    """DM-VTON student with the same interface and output dict as ``MGStudent``."""

    person_channels = 3

    def __init__(self, cfg: DMVTONConfig):
        super().__init__()
        self.cfg = cfg
        self.flow_align_corners = cfg.align_corners
        self.warp_model = MobileAFWM(cfg.warp_input_channels, cfg.fpn_channels, cfg.align_corners)
        self.gen_model = MobileNetV2UNet(cfg.gen_input_channels, cfg.gen_output_channels)
        for m in (self.warp_model.image_mobile, self.warp_model.cond_mobile, self.gen_model):
            init_weights(m)

    def warp_modules(self) -> List[nn.Module]:
        return [self.warp_model]

    def gen_modules(self) -> List[nn.Module]:
        return [self.gen_model]

    def generator(self) -> nn.Module:
        return self.gen_model

    def warp_forward(self, person: torch.Tensor, garment: torch.Tensor,
                     garment_mask: torch.Tensor) -> Dict[str, object]:
        h, w = person.shape[-2:]
        if h % 32 or w % 32:
            raise ValueError(f"DM-VTON needs H and W divisible by 32, got {h}x{w}")
        ac = self.cfg.align_corners
        mask = (garment_mask > 0.5).to(garment.dtype)
        garment = garment * mask
        cond = self.warp_model.cond_mobile(person)
        image = self.warp_model.image_mobile(garment)
        flow, flows = self.warp_model.aflow_net(image, cond)
        return {
            "flow": flow,
            "flows": flows,
            "warped_garment": warp(garment, flow, "border", ac),
            "warped_mask": warp(mask, flow, "zeros", ac),
            "person_feats": cond,
            "garment_feats": image,
        }

