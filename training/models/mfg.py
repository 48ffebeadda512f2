"""MFG: the try-on generator of MG-VTON (Sec. 3.3), a U-Net of UIB blocks.

Same topology as DM-VTON's ``MobileNetV2_unet`` with UIB blocks: a stride-2 stem,
UIB encoder stages with different strides/expansions, a 1x1 bottleneck, then four
decoder steps (4x4 transposed conv x2, concatenate the skip at that resolution,
UIB block), a nearest x2 upsample and a 3x3 conv to ``out_channels``.

Input: person + warped garment + warped mask concatenated (7 channels for the
student). Output: rendered person (tanh, 3 ch) and composite mask (sigmoid, 1 ch);
the composite mask is multiplied by the warped mask as in PF-AFN/DM-VTON and
try-on = warped * m + rendered * (1 - m) (composition is done by the caller).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import ConvBNAct, init_weights
from .uib import UIB, UIBConfig, StageSpec, make_stage, mobilenetv2_stages


def _paper_encoder() -> Tuple[StageSpec, ...]:
    return mobilenetv2_stages(stride_96=1)  # the U-Net keeps the 96-channel stage at H/16


@dataclass
class MFGConfig:
    in_channels: int = 7
    out_channels: int = 4
    stem_channels: int = 32
    encoder: Tuple[StageSpec, ...] = field(default_factory=_paper_encoder)
    bottleneck_channels: int = 512
    decoder_expand: float = 6.0
    decoder_variant: str = "extradw"
    act: str = "relu"


class MFG(nn.Module):
    """U-Net generator of UIB blocks (see module docstring). Returns the raw 4-channel map."""

    def __init__(self, cfg: MFGConfig):
        super().__init__()
        self.cfg = cfg
        self.stem = ConvBNAct(cfg.in_channels, cfg.stem_channels, 3, 2, act=cfg.act)  # H/2
        stages, cin, stride_total = [], cfg.stem_channels, 2
        skip_after, skip_channels = [], []
        for i, spec in enumerate(cfg.encoder):
            stages.append(make_stage(cin, spec, cfg.act))
            cin = spec.channels
            stride_total *= spec.stride
            nxt = cfg.encoder[i + 1].stride if i + 1 < len(cfg.encoder) else 2
            # a skip is the last block output at each resolution H/2..H/16
            is_skip = nxt > 1 and stride_total <= 16
            skip_after.append(is_skip)
            if is_skip:
                skip_channels.append(spec.channels)
        if len(skip_channels) != 4 or stride_total != 32:
            raise ValueError("MFG encoder must reach H/32 with skips at H/2, H/4, H/8, H/16")
        self.encoder = nn.ModuleList(stages)
        self.skip_after = skip_after
        self.bottleneck = ConvBNAct(cin, cfg.bottleneck_channels, 1, act=cfg.act)
        ups, blocks, cin = [], [], cfg.bottleneck_channels
        for c in reversed(skip_channels):
            ups.append(nn.ConvTranspose2d(cin, c, 4, stride=2, padding=1))
            blocks.append(UIB(UIBConfig(2 * c, c, cfg.decoder_variant, cfg.decoder_expand, 1, act=cfg.act)))
            cin = c
        self.ups = nn.ModuleList(ups)
        self.dec = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, cfg.out_channels, 3, padding=1, bias=False)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        x = self.stem(x)
        skips = []
        for stage, is_skip in zip(self.encoder, self.skip_after):
            x = stage(x)
            if is_skip:
                skips.append(x)
        x = self.bottleneck(x)  # (B, C, H/32, W/32)
        for up, block, skip in zip(self.ups, self.dec, reversed(skips)):
            x = up(x)
            if x.shape[-2:] != skip.shape[-2:]:  # sizes not divisible by 32
                x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([skip, x], dim=1))
        x = F.interpolate(x, size=size, mode="nearest")  # (B, C, H, W)
        return self.head(x)


def compose_tryon(raw: torch.Tensor, warped_garment: torch.Tensor, warped_mask: torch.Tensor,
                  person_rgb: Optional[torch.Tensor] = None):
    """Split the generator map into rendered image and composite mask and blend (PF-AFN Eq. 5).

    ``person_rgb``: the person picture (B,3,H,W) the rendered image is a residual over (person skip)."""
    rendered, mask = torch.split(raw, [3, 1], dim=1)
    rendered = torch.tanh(rendered) if person_rgb is None else torch.clamp(person_rgb + rendered, -1.0, 1.0)
    composite = torch.sigmoid(mask) * warped_mask
    tryon = warped_garment * composite + rendered * (1 - composite)
    return tryon, rendered, composite


class TwoStageTryOn(nn.Module):
    """The stage plumbing every try-on network shares (docs/model-contract.md): a subclass provides
    ``warp_forward`` and ``generator()``; ``gen_forward`` runs the generator on person + warped garment
    + warped mask and composes the try-on; ``forward`` runs both stages and returns one dict, the same
    in training and inference."""

    def generator(self) -> nn.Module:
        raise NotImplementedError

    def start_from_person(self) -> None:
        """Zero the RGB rows of the generator's last conv: with the person skip, training then starts from
        the input picture itself (a randomly initialised head adds noise of the size of the image)."""
        last = [m for m in self.generator().modules() if isinstance(m, nn.Conv2d)][-1]
        with torch.no_grad():
            last.weight[:3].zero_()
            if last.bias is not None:
                last.bias[:3].zero_()

    def gen_forward(self, person: torch.Tensor, warped_garment: torch.Tensor,
                    warped_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        raw = self.generator()(torch.cat([person, warped_garment, warped_mask], dim=1))  # (B, 4, H, W)
        # the person's picture: the image itself (student, DM-VTON) or the agnostic image (teacher's channels 0-2)
        skip = person[:, :3] if self.cfg.person_skip else None
        tryon, rendered, composite = compose_tryon(raw, warped_garment, warped_mask, skip)
        return {"tryon": tryon, "rendered": rendered, "composite_mask": composite}

    def forward(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor) -> Dict[str, object]:
        out = self.warp_forward(person, garment, garment_mask)
        out.update(self.gen_forward(person, out["warped_garment"], out["warped_mask"]))
        return out
