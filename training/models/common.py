"""Shared building blocks: conv+BN+act, the local cost volume, and sampling-grid helpers.

The cost volume is the correlation layer of FlowNet/PWC-Net as used by PF-AFN and
DM-VTON (max displacement 3, stride 1: 7x7 = 49 offsets, mean over channels).
The official DM-VTON code runs it as a CuPy CUDA kernel; here it is written in
plain tensor ops so that it runs on a CPU and exports to ONNX, with a custom
autograd backward for training speed (see ``Correlation``).

Grid convention (docs/model-contract.md): a flow is an *absolute* sampling grid
in [-1, 1] for ``F.grid_sample``, shape (B, 2, H, W), channel 0 = x. Our own
networks use ``align_corners=False``; the imported DM-VTON baseline keeps the
official ``align_corners=True``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "hardswish": lambda: nn.Hardswish(inplace=True),
    "leaky": lambda: nn.LeakyReLU(0.1, inplace=True),
}


def make_act(name: Optional[str]) -> nn.Module:
    """An activation module by name; ``None`` or ``""`` gives ``nn.Identity``."""
    if not name:
        return nn.Identity()
    return ACTIVATIONS[name]()


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) + BatchNorm2d + optional activation, 'same' padding."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1,
                 act: Optional[str] = "relu"):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            make_act(act),
        )


# --------------------------------------------------------------------------------------
# Local cost volume (correlation)
# --------------------------------------------------------------------------------------

def correlation_reference(first: torch.Tensor, second: torch.Tensor, max_disp: int = 3,
                          mean_kernel: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Plain-op cost volume: out[:, (dy+d)*(2d+1) + (dx+d)] = mean_c first * second(y+dy, x+dx).

    ``second`` is zero-padded, as in the official kernel. Used for inference and
    ONNX export and as the test oracle. The channel mean is a 1x1 convolution with
    a constant 1/C kernel (1, C, 1, 1): in ONNX Runtime, Mul + Conv ran ~4x faster
    than Mul + ReduceMean over the channel axis (and ~2.5x in PyTorch eager). For
    export, pass the kernel as a constant (``CostVolume`` does).
    """
    b, c, h, w = first.shape
    d = max_disp
    padded = F.pad(second, (d, d, d, d))  # (B, C, H+2d, W+2d)
    if mean_kernel is None:
        mean_kernel = first.new_full((1, c, 1, 1), 1.0 / c)
    out = []
    for dy in range(2 * d + 1):
        for dx in range(2 * d + 1):
            # slice bounds relative to the end, so that the traced graph has constant Slice inputs
            # (padded[..., dy:dy + h] would make ONNX compute h with Shape/Gather/Unsqueeze per slice)
            shifted = padded[:, :, dy:(dy - 2 * d) or None, dx:(dx - 2 * d) or None]  # (B, C, H, W)
            out.append(F.conv2d(first * shifted, mean_kernel))  # (B, 1, H, W)
    return torch.cat(out, dim=1)  # (B, (2d+1)^2, H, W)


# ONNX Runtime cost of the cost volume (256x192 DM-VTON warp, 2 threads): written as 49 (Slice, Mul,
# 1-channel Conv) triples it spent ~40 % of the warp in Slice, Mul and the layout reorders around 49 small
# Convs. The stacked form below concatenates the shifted windows of up to ``rows`` offset rows, multiplies
# once and averages with one grouped 1x1 Conv: 7 rows -> one Mul and one Conv per level. The stacked
# products take rows * 7 * C * H * W floats, so rows shrinks on big levels to stay under this budget.
STACK_BUDGET_FLOATS = 48 * 2 ** 20  # 192 MiB of fp32 products at most per chunk
# the writing ONNX export traces: "slices" (49 Slice/Mul/Conv triples) or "stacked". The stacked form
# measured faster for the cost volume alone but slower in the whole DM-VTON warp graph in one run, on a
# machine too loaded to settle it (docs/performance.md); until a clean measurement says otherwise export
# keeps the slices. ``python -m training.bench compare`` measures both.
EXPORT_COST_VOLUME = "slices"


def correlation_stacked(first: torch.Tensor, second: torch.Tensor, max_disp: int = 3,
                        mean_kernel: Optional[torch.Tensor] = None, rows: int = 0) -> torch.Tensor:
    """The same cost volume as ``correlation_reference`` (same channel order), written for ONNX export.

    Offsets are taken ``rows`` displacement rows at a time (0: as many as ``STACK_BUDGET_FLOATS`` allows):
    the chunk's shifted windows are concatenated on the channel axis ((B, k*C, H, W), k = rows * (2d+1)),
    multiplied by ``first`` repeated k times, and reduced by one grouped 1x1 convolution with the constant
    1/C kernel (groups = k). With rows = 2d+1 the whole volume is one Concat, one Mul and one Conv.
    """
    b, c, h, w = first.shape
    d = max_disp
    n = 2 * d + 1
    if mean_kernel is None:
        mean_kernel = first.new_full((1, c, 1, 1), 1.0 / c)
    if rows <= 0:
        rows = max(1, min(n, STACK_BUDGET_FLOATS // max(1, b * n * c * h * w)))
    padded = F.pad(second, (d, d, d, d))  # (B, C, H+2d, W+2d)
    out = []
    for dy0 in range(0, n, rows):
        dys = range(dy0, min(n, dy0 + rows))
        k = len(dys) * n
        windows = torch.cat([padded[:, :, dy:(dy - 2 * d) or None, dx:(dx - 2 * d) or None]
                             for dy in dys for dx in range(n)], dim=1)  # (B, k*C, H, W)
        prods = windows * first.repeat(1, k, 1, 1)  # (B, k*C, H, W)
        out.append(F.conv2d(prods, mean_kernel.repeat(k, 1, 1, 1), groups=k))  # (B, k, H, W)
    return out[0] if len(out) == 1 else torch.cat(out, dim=1)  # (B, n*n, H, W)


class Correlation(torch.autograd.Function):
    """Cost volume with a hand-written backward.

    Autograd through ``correlation_reference`` keeps 49 products and scatters 49
    slice gradients into 49 separate zero tensors; on a CPU that was ~10x slower
    than the rest of a training step. This backward accumulates every offset's
    contribution into one padded buffer in place (``addcmul_``).
    """

    @staticmethod
    def forward(ctx, first: torch.Tensor, second: torch.Tensor, max_disp: int = 3) -> torch.Tensor:  # type: ignore[override]
        b, c, h, w = first.shape
        d = max_disp
        padded = F.pad(second, (d, d, d, d))  # (B, C, H+2d, W+2d)
        mean_kernel = first.new_full((1, c, 1, 1), 1.0 / c)  # channel mean as a 1x1 conv
        out = torch.cat([F.conv2d(first * padded[:, :, dy:dy + h, dx:dx + w], mean_kernel)
                         for dy in range(2 * d + 1) for dx in range(2 * d + 1)], dim=1)  # (B, 49, H, W)
        ctx.save_for_backward(first, padded)
        ctx.max_disp = d
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        first, padded = ctx.saved_tensors
        d = ctx.max_disp
        b, c, h, w = first.shape
        g = (grad_out / c).contiguous()  # (B, 49, H, W): the mean's 1/C folded in once
        need_first, need_second = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_first = torch.zeros_like(first) if need_first else None
        grad_padded = torch.zeros_like(padded) if need_second else None
        k = 0
        for dy in range(2 * d + 1):
            for dx in range(2 * d + 1):
                gk = g[:, k:k + 1]  # (B, 1, H, W), broadcast over channels
                if grad_first is not None:
                    grad_first.addcmul_(gk, padded[:, :, dy:dy + h, dx:dx + w])
                if grad_padded is not None:
                    grad_padded[:, :, dy:dy + h, dx:dx + w].addcmul_(gk, first)
                k += 1
        grad_second = grad_padded[:, :, d:d + h, d:d + w] if grad_padded is not None else None
        return grad_first, grad_second, None


def correlation(first: torch.Tensor, second: torch.Tensor, max_disp: int = 3,
                mean_kernel: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Local cost volume of ``first`` against ``second`` ((2*max_disp+1)^2 channels).

    Three writings of one function: the custom-backward Function when a gradient is needed;
    ``correlation_stacked`` when tracing with ``EXPORT_COST_VOLUME = "stacked"`` (few, large ONNX nodes);
    ``correlation_reference`` (49 slices) otherwise: eager inference and, by default, ONNX export.
    """
    if first.dtype != second.dtype or first.dtype != torch.float32:  # mixed precision: volume in fp32
        first, second = first.float(), second.float()
    tracing = torch.jit.is_tracing() or torch.jit.is_scripting()
    if tracing and EXPORT_COST_VOLUME == "stacked":
        return correlation_stacked(first, second, max_disp, mean_kernel)
    if not tracing and torch.is_grad_enabled() and (first.requires_grad or second.requires_grad):
        return Correlation.apply(first, second, max_disp)
    return correlation_reference(first, second, max_disp, mean_kernel)


class CostVolume(nn.Module):
    """``correlation`` for a fixed channel count.

    The 1/C kernel is a plain tensor attribute, not a buffer: a buffer would enter
    the state dict (breaking strict loading of official DM-VTON checkpoints), and
    both a non-persistent buffer and a ``torch.full`` inside ``forward`` reach the
    ONNX exporter without a static shape, which its Conv conversion refuses. A plain
    attribute is traced as a constant of known shape.
    """

    def __init__(self, channels: int, max_disp: int = 3):
        super().__init__()
        self.channels = channels
        self.max_disp = max_disp
        self.kernel = torch.full((1, channels, 1, 1), 1.0 / channels)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        if self.kernel.device != first.device:
            self.kernel = self.kernel.to(first.device)
        return correlation(first, second, self.max_disp, self.kernel)


# --------------------------------------------------------------------------------------
# Sampling grids
# --------------------------------------------------------------------------------------

def identity_grid(b: int, h: int, w: int, align_corners: bool = False,
                  like: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The identity sampling grid, shape (B, 2, H, W), channel 0 = x."""
    kw = {"device": like.device, "dtype": like.dtype} if like is not None else {}
    if align_corners:
        xs = torch.linspace(-1.0, 1.0, w, **kw) if w > 1 else torch.zeros(1, **kw)
        ys = torch.linspace(-1.0, 1.0, h, **kw) if h > 1 else torch.zeros(1, **kw)
    else:
        xs = (torch.arange(w, **kw) + 0.5) * (2.0 / w) - 1.0
        ys = (torch.arange(h, **kw) + 0.5) * (2.0 / h) - 1.0
    gx = xs.view(1, 1, 1, w).expand(b, 1, h, w)
    gy = ys.view(1, 1, h, 1).expand(b, 1, h, w)
    return torch.cat([gx, gy], dim=1)  # (B, 2, H, W)


def offset_to_grid(offset: torch.Tensor, align_corners: bool = False) -> torch.Tensor:
    """Pixel displacements (B, 2, H, W) -> absolute sampling grid (B, 2, H, W) in [-1, 1] units.

    Mirrors ``apply_offset`` of PF-AFN/DM-VTON, generalised to both corner conventions.
    """
    b, _, h, w = offset.shape
    if align_corners:
        scale = offset.new_tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)]).view(1, 2, 1, 1)
    else:
        scale = offset.new_tensor([2.0 / w, 2.0 / h]).view(1, 2, 1, 1)
    return identity_grid(b, h, w, align_corners, like=offset) + offset * scale


def warp(x: torch.Tensor, grid: torch.Tensor, padding_mode: str = "zeros", align_corners: bool = False) -> torch.Tensor:
    """Bilinear ``grid_sample`` of ``x`` with a (B, 2, H, W) grid."""
    if grid.dtype != x.dtype:
        grid = grid.to(x.dtype)
    return F.grid_sample(x, grid.permute(0, 2, 3, 1), mode="bilinear",  # grid (B, H, W, 2)
                         padding_mode=padding_mode, align_corners=align_corners)


def compose(last_flow: torch.Tensor, delta_grid: torch.Tensor, align_corners: bool = False) -> torch.Tensor:
    """Flow composition: sample the previous absolute grid at the displaced positions."""
    return warp(last_flow, delta_grid, padding_mode="border", align_corners=align_corners)


def resize_flow(flow: torch.Tensor, size) -> torch.Tensor:
    """Resize an absolute grid (align_corners=False) to ``size``.

    The displacement from the identity grid is interpolated, not the grid itself:
    bilinear resizing of an absolute grid clamps at the borders (a quarter of a
    coarse pixel of error per level, and a total collapse for one-pixel-wide maps).
    """
    if tuple(flow.shape[-2:]) == tuple(size):
        return flow
    b, _, h, w = flow.shape
    disp = flow - identity_grid(b, h, w, like=flow)
    disp = F.interpolate(disp, size=tuple(size), mode="bilinear", align_corners=False)
    return identity_grid(b, size[0], size[1], like=flow) + disp


def grid_to_pixels(grid: torch.Tensor, align_corners: bool) -> torch.Tensor:
    """An absolute grid (B, 2, H, W) as pixel coordinates of a source image of the same H x W, in
    ``grid_sample``'s convention for ``align_corners``: p = (x+1)(S-1)/2, or ((x+1)S-1)/2 without."""
    h, w = grid.shape[-2:]
    size = grid.new_tensor([w, h]).view(1, 2, 1, 1)
    return (grid + 1) * (size - 1) / 2 if align_corners else ((grid + 1) * size - 1) / 2


def convert_grid(grid: torch.Tensor, from_align: bool, to_align: bool) -> torch.Tensor:
    """Re-express an absolute grid between the align_corners=False/True conventions."""
    if from_align == to_align:
        return grid
    h, w = grid.shape[-2:]
    size = grid.new_tensor([w, h]).view(1, 2, 1, 1)
    pix = grid_to_pixels(grid, from_align)
    if from_align:  # true -> false: x' = (2p+1)/S - 1
        return (2 * pix + 1) / size - 1
    return 2 * pix / (size - 1).clamp(min=1) - 1  # false -> true


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal convs (fan-out, as MobileNet), BN to identity, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
