"""Training losses of MG-VTON (Sec. 3.5 of the paper), computed outside the networks.

* L1 - image reconstruction (optionally restricted to a mask);
* perceptual - L1 between VGG19 relu1_1..relu5_1 features, weights 1/32..1 as in
  PF-AFN/DM-VTON. VGG19 weights are loaded from a file given by path (a
  torchvision ``vgg19`` state dict, or just its ``features.*`` keys); nothing is
  downloaded. Without a file the loss falls back to ``StructureLoss`` (multi-scale
  image-gradient L1 + 1 - SSIM), which needs no weights, and says so once;
* smoothness - second-order smoothness of every flow level under the
  generalised Charbonnier penalty (d^2 + eps^2)^0.45, PF-AFN Eq. 3;
* distillation - L2 between teacher and student pyramid features, gated by
  psi: 1 for a sample only when the teacher's warped garment is closer to the
  ground truth than the student's (PF-AFN's adjustable knowledge distillation);
* flow supervision - L1 between the predicted and the true sampling grid where
  the synthetic generator knows the exact correspondence (``flow_valid``).

``WarpLoss`` and ``GenLoss`` combine them for the two training stages with the
weights of the official PF-AFN/DM-VTON training scripts.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import load_file
from .metrics import vgg_features
from .models.common import convert_grid, warp

log = logging.getLogger(__name__)

TensorDict = Dict[str, torch.Tensor]


def l1(pred: torch.Tensor, target: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean absolute error; with ``mask`` (B,1,H,W) the mean over masked pixels (and channels)."""
    if mask is None:
        return (pred - target).abs().mean()
    diff = (pred - target).abs() * mask
    return diff.sum() / (mask.sum() * pred.shape[1]).clamp(min=1.0)


# ------------------------------------------------------------------------ perceptual

VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512]
VGG_SLICES = [(0, 2), (2, 7), (7, 12), (12, 21), (21, 30)]  # relu1_1 .. relu5_1 in torchvision indexing
VGG_WEIGHTS = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0]


class VGG19Features(nn.Module):
    """torchvision's ``vgg19().features`` layout (keys ``features.N.weight``), frozen, cut at relu5_1."""

    def __init__(self):
        super().__init__()
        self.features = vgg_features(VGG19_CFG, ceil_mode=True)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)

    @classmethod
    def from_file(cls, path: str) -> "VGG19Features":
        sd = load_file(path, trusted=False)
        if isinstance(sd, dict) and "state_dict" in sd:
            sd = sd["state_dict"]
        sd = {k: v for k, v in sd.items() if k.startswith("features.") and int(k.split(".")[1]) < 30}
        net = cls()
        net.load_state_dict({**sd, "mean": net.mean, "std": net.std}, strict=True)
        return net.eval()

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std  # [-1,1] -> ImageNet normalisation
        outs = []
        for a, b in VGG_SLICES:
            for layer in self.features[a:b]:
                x = layer(x)
            outs.append(x)
        return outs


def _box(x: torch.Tensor, window: int) -> torch.Tensor:
    """Separable uniform filter ('same' size, edge windows averaged over the pixels inside)."""
    pad = window // 2
    x = F.avg_pool2d(x, (1, window), 1, (0, pad), count_include_pad=False)
    return F.avg_pool2d(x, (window, 1), 1, (pad, 0), count_include_pad=False)


def _dx(t: torch.Tensor) -> torch.Tensor:
    return t[..., :, 1:] - t[..., :, :-1]


def _dy(t: torch.Tensor) -> torch.Tensor:
    return t[..., 1:, :] - t[..., :-1, :]


def _ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 7) -> torch.Tensor:
    """SSIM with a uniform window on images in [-1,1] (constants for dynamic range 2)."""
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    mu_x, mu_y = _box(x, window), _box(y, window)
    sxx = _box(x * x, window) - mu_x ** 2
    syy = _box(y * y, window) - mu_y ** 2
    sxy = _box(x * y, window) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))


class StructureLoss(nn.Module):
    """Weight-free stand-in for the VGG perceptual loss.

    At 3 scales (x1, x1/2, x1/4): L1 between horizontal and vertical image
    gradients, plus 1 - SSIM (7x7 uniform window). It rewards edges and local
    structure the way a perceptual loss does, without any pre-trained network.
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = pred.new_zeros(())
        for s in range(3):
            if s:
                pred, target = F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2)
            if min(pred.shape[-2:]) < 4:
                break
            grad = (_dx(pred) - _dx(target)).abs().mean() + (_dy(pred) - _dy(target)).abs().mean()
            loss = loss + grad + (1 - _ssim_map(pred, target).clamp(-1, 1)).mean() * 0.5
        return loss


class PerceptualLoss(nn.Module):
    """VGG19 perceptual loss from a weights file; else the ImageNet MobileNetV2 one
    (``training.perceptual``) when ``mobilenet_weights`` names an existing file (its sha256 is checked);
    else ``StructureLoss`` (announced once)."""

    _warned = False

    def __init__(self, vgg_weights: Optional[str] = None, mobilenet_weights: Optional[str] = None):
        super().__init__()
        self.vgg: Optional[VGG19Features] = None
        self.mobilenet = None
        if vgg_weights and Path(vgg_weights).is_file():
            self.vgg = VGG19Features.from_file(vgg_weights)
            self.kind = f"vgg19 ({Path(vgg_weights).name})"
        elif mobilenet_weights and Path(mobilenet_weights).is_file():
            from .perceptual import MobileNetPerceptualLoss, load_mobilenet_v2
            self.mobilenet = MobileNetPerceptualLoss(load_mobilenet_v2(mobilenet_weights))
            self.kind = self.mobilenet.kind
        else:
            self.fallback = StructureLoss()
            self.kind = "multi-scale gradient + SSIM (no VGG19 weights)"
            if not PerceptualLoss._warned:
                where = f" at {vgg_weights}" if vgg_weights else ""
                log.warning("VGG19 weights not available%s: perceptual loss uses multi-scale gradient + SSIM "
                            "(training.losses.StructureLoss)", where)
                PerceptualLoss._warned = True

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.mobilenet is not None:
            return self.mobilenet(pred, target)
        if self.vgg is None:
            return self.fallback(pred, target)
        fp, ft = self.vgg(pred), self.vgg(target)
        return sum(w * (a - b.detach()).abs().mean() for w, a, b in zip(VGG_WEIGHTS, fp, ft))


# ------------------------------------------------------------------------ flow terms

def _second_order_filters(device, dtype) -> torch.Tensor:
    f = torch.tensor([
        [[0, 0, 0], [1, -2, 1], [0, 0, 0]],  # x
        [[0, 1, 0], [0, -2, 0], [0, 1, 0]],  # y
        [[1, 0, 0], [0, -2, 0], [0, 0, 1]],  # diagonal
        [[0, 0, 1], [0, -2, 0], [1, 0, 0]],  # anti-diagonal
    ], dtype=dtype, device=device)
    return f.unsqueeze(1)  # (4, 1, 3, 3)


def second_order_smoothness(flow: torch.Tensor, eps: float = 1e-3, alpha: float = 0.45) -> torch.Tensor:
    """Generalised Charbonnier (d^2 + eps^2)^alpha of the 2nd-order differences of a (B,2,H,W) grid."""
    if min(flow.shape[-2:]) < 3:
        return flow.new_zeros(())
    b, c, h, w = flow.shape
    d = F.conv2d(flow.reshape(b * c, 1, h, w), _second_order_filters(flow.device, flow.dtype))  # (B*2, 4, h-2, w-2)
    return (d.pow(2) + eps * eps).pow(alpha).mean()


def flow_supervision(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """L1 between predicted and true grids where ``valid`` (B,1,H,W); pred resampled to target's size."""
    if pred.shape[-2:] != target.shape[-2:]:
        target, valid = downsample_flow(target, valid, pred.shape[-2:])
    return l1(pred, target, valid)


def downsample_flow(flow: torch.Tensor, valid: torch.Tensor, size) -> tuple:
    """Area-average a grid over its valid pixels; a coarse pixel is valid when mostly covered (> 1/2).

    (Requiring full coverage left the coarsest levels, 1/32 of the input, with hardly any supervised pixel.)
    """
    vf = F.adaptive_avg_pool2d(valid, size)
    fl = F.adaptive_avg_pool2d(flow * valid, size) / vf.clamp(min=1e-6)
    return fl, (vf > 0.5).to(flow.dtype)


def distillation(student_feats: Sequence[torch.Tensor], teacher_feats: Sequence[torch.Tensor],
                 psi: torch.Tensor) -> torch.Tensor:
    """sum_l w_l * mean(psi * (f_t - f_s)^2), finest level first, w = 0.04 * (l + 1) (coarse levels weigh more,
    as in PF-AFN). ``psi`` is (B,) or broadcastable to the features. A student that estimates its flow
    from the pooled picture (``flow_downsample``) has each level at a smaller size than the teacher's:
    the teacher's features are area-averaged to the student's size."""
    loss = student_feats[0].new_zeros(())
    for k, (s, t) in enumerate(zip(student_feats, teacher_feats)):
        t = t.detach().float()
        if t.shape[-2:] != s.shape[-2:]:
            t = F.adaptive_avg_pool2d(t, s.shape[-2:])
        gate = psi.view(-1, *([1] * (s.dim() - 1))) if psi.dim() == 1 else F.interpolate(psi, size=s.shape[-2:])
        loss = loss + 0.04 * (k + 1) * ((t - s.float()).pow(2) * gate).mean()
    return loss


def psi_gate(teacher_warped: torch.Tensor, student_warped: torch.Tensor, target: torch.Tensor,
             region: torch.Tensor) -> torch.Tensor:
    """psi per sample: 1 where the teacher's warped garment is closer to the ground truth than the student's."""
    def err(x):
        return ((x.detach() - target).abs() * region).flatten(1).sum(1) / (region.flatten(1).sum(1) * 3).clamp(min=1)
    return (err(teacher_warped) < err(student_warped)).to(target.dtype)


# ------------------------------------------------------------------------ stage losses

@dataclass
class LossWeights:
    l1: float = 1.0
    perceptual: float = 0.2
    mask: float = 2.0
    smooth: float = 6.0
    flow: float = 1.0
    distill: float = 1.0
    gen_l1: float = 5.0
    gen_perceptual: float = 1.0
    gen_mask: float = 1.0  # PF-AFN's mean(1 - m): prefer the warped garment where it exists


class WarpLoss(nn.Module):
    """Warp stage: per level (coarse to fine, weight k+1 as PF-AFN) L1 of the warped garment on the person's
    garment region, L1 of the warped mask, second-order smoothness, flow supervision; perceptual on the final
    warp; distillation of pyramid features when teacher features are given."""

    def __init__(self, weights: Optional[LossWeights] = None, vgg_weights: Optional[str] = None,
                 mobilenet_weights: Optional[str] = None):
        super().__init__()
        self.w = weights if weights is not None else LossWeights()  # a fresh one: a shared default could be mutated
        self.perceptual = PerceptualLoss(vgg_weights, mobilenet_weights)

    def forward(self, out: Dict[str, object], batch: TensorDict, align_corners: bool = False,
                teacher: Optional[Dict[str, object]] = None) -> TensorDict:
        w = self.w
        region = batch["garment_region"]
        target = batch["person"] * region  # the garment as worn (zeros elsewhere, like the warped garment)
        garment = batch["cloth"] * (batch["cloth_mask"] > 0.5).to(target.dtype)
        cmask = (batch["cloth_mask"] > 0.5).to(target.dtype)
        has_flow = bool(torch.as_tensor(batch.get("has_flow", False)).any()) and w.flow > 0
        gt_flow = convert_grid(batch["flow"], False, align_corners) if has_flow else None
        terms = {k: target.new_zeros(()) for k in ("l1", "mask", "smooth", "flow")}
        flows: List[torch.Tensor] = list(out["flows"]) + [out["flow"]]  # type: ignore[arg-type]
        n = len(flows)
        for k, fl in enumerate(flows):
            size = fl.shape[-2:]
            weight = (k + 1) / n
            if size == target.shape[-2:]:
                t_img, t_reg, g_img, g_msk = target, region, garment, cmask
            else:
                t_img = F.interpolate(target, size=size, mode="area")
                t_reg = F.interpolate(region, size=size, mode="area")
                g_img = F.interpolate(garment, size=size, mode="area")
                g_msk = F.interpolate(cmask, size=size, mode="area")
            warped = warp(g_img, fl, "zeros", align_corners)
            warped_mask = warp(g_msk, fl, "zeros", align_corners)
            terms["l1"] = terms["l1"] + weight * l1(warped, t_img)
            terms["mask"] = terms["mask"] + weight * l1(warped_mask, t_reg)
            terms["smooth"] = terms["smooth"] + weight * second_order_smoothness(fl)
            if has_flow:
                terms["flow"] = terms["flow"] + weight * flow_supervision(fl, gt_flow, batch["flow_valid"])
        terms["perceptual"] = self.perceptual(out["warped_garment"], target)  # type: ignore[arg-type]
        if teacher is not None:
            psi = psi_gate(teacher["warped_garment"], out["warped_garment"], target, region)  # type: ignore[arg-type]
            terms["distill"] = (distillation(out["person_feats"], teacher["person_feats"], psi)  # type: ignore[arg-type]
                                + distillation(out["garment_feats"], teacher["garment_feats"], psi))  # type: ignore[arg-type]
            terms["psi"] = psi.mean().detach()
        total = (w.l1 * terms["l1"] + w.mask * terms["mask"] + w.smooth * terms["smooth"] + w.flow * terms["flow"]
                 + w.perceptual * terms["perceptual"] + w.distill * terms.get("distill", 0.0))
        terms["total"] = total
        return terms


class GenLoss(nn.Module):
    """Gen stage (warp frozen): L1 + perceptual between the try-on and the person, plus PF-AFN's
    composite-mask term mean(1 - m) restricted to the warped garment."""

    def __init__(self, weights: Optional[LossWeights] = None, vgg_weights: Optional[str] = None,
                 mobilenet_weights: Optional[str] = None):
        super().__init__()
        self.w = weights if weights is not None else LossWeights()  # a fresh one: a shared default could be mutated
        self.perceptual = PerceptualLoss(vgg_weights, mobilenet_weights)

    def forward(self, out: Dict[str, object], batch: TensorDict, **_) -> TensorDict:
        w = self.w
        tryon, person = out["tryon"], batch["person"]
        terms = {
            "l1": l1(tryon, person),  # type: ignore[arg-type]
            "perceptual": self.perceptual(tryon, person),  # type: ignore[arg-type]
            "mask": l1(out["composite_mask"], torch.ones_like(out["warped_mask"]), out["warped_mask"]),  # type: ignore
        }
        terms["total"] = w.gen_l1 * terms["l1"] + w.gen_perceptual * terms["perceptual"] + w.gen_mask * terms["mask"]
        return terms


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    mse = ((pred - target) / 2).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)
