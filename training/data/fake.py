"""An in-memory dataset with exactly the keys of the data contract, for tests and benchmarks.

``FakeVitonHD`` draws a garment (a coloured, textured rounded rectangle with sleeves), places it on a
"person" with a known affine warp and returns the exact flow, so a short training run has something
learnable. It needs no files, so ``training.bench train`` and the tests share it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _garment(h: int, w: int, g: torch.Generator):
    ys = torch.linspace(-1, 1, h).view(h, 1).expand(h, w)
    xs = torch.linspace(-1, 1, w).view(1, w).expand(h, w)
    body = (xs.abs() < 0.45) & (ys > -0.8) & (ys < 0.85)
    sleeves = (xs.abs() < 0.9) & (ys > -0.8) & (ys < -0.3)
    mask = (body | sleeves).float()
    base = torch.rand(3, 1, 1, generator=g) * 1.6 - 0.8
    freq = 2 + 4 * torch.rand(2, generator=g)
    stripes = 0.3 * torch.sin(freq[0] * 3.14 * xs + freq[1] * 3.14 * ys)
    img = (base + stripes).clamp(-1, 1) * mask - (1 - mask)
    return img, mask.unsqueeze(0)


class FakeVitonHD(torch.utils.data.Dataset):
    """Random but consistent samples in the format of ``training.data.VitonHDDataset``."""

    def __init__(self, n: int = 8, height: int = 64, width: int = 48, seed: int = 0, has_flow: bool = True):
        self.n, self.h, self.w, self.seed, self.has_flow = n, height, width, seed, has_flow
        self.root = f"fake://{n}x{height}x{width}/seed{seed}"
        self.split = "train"

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        g = torch.Generator().manual_seed(self.seed * 1000 + i)
        h, w = self.h, self.w
        cloth, cmask = _garment(h, w, g)
        cloth_u, cmask_u = _garment(h, w, g)
        # the garment sits on the person under a random affine map (person -> garment coordinates)
        s = 0.75 + 0.3 * torch.rand(1, generator=g).item()
        tx, ty = (torch.rand(2, generator=g) * 0.3 - 0.15).tolist()
        theta = torch.tensor([[1 / s, 0.0, -tx / s], [0.0, 1 / s, -ty / s]]).unsqueeze(0)
        grid = F.affine_grid(theta, (1, 1, h, w), align_corners=False)  # (1, H, W, 2)
        worn = F.grid_sample(cloth.unsqueeze(0), grid, align_corners=False)[0]
        region = (F.grid_sample(cmask.unsqueeze(0), grid, align_corners=False)[0] > 0.5).float()
        skin = torch.tensor([0.6, 0.2, 0.0]).view(3, 1, 1)
        yy = torch.linspace(-1, 1, h).view(1, h, 1)
        xx = torch.linspace(-1, 1, w).view(1, 1, w)
        body = ((xx.abs() < 0.55) & (yy > -0.95)).float()
        bg = torch.full((3, h, w), 0.8) * (1 - body) + skin * body
        person = worn * region + bg * (1 - region)
        parse = (body[0] * 2 + region[0] * 3).long()  # 0 bg, 2 skin-ish, 5 upper clothes (fake ids)
        agnostic = person * (1 - region)
        pose = torch.rand(18, h, w, generator=g) * 0.1
        dense = torch.cat([body, body * yy.expand(1, h, w), body * xx.expand(1, h, w)], 0) * 2 - 1
        flow = grid[0].permute(2, 0, 1).contiguous()  # (2, H, W), x first
        valid = region.clone() if self.has_flow else torch.zeros(1, h, w)
        return {
            "person": person, "cloth": cloth, "cloth_mask": cmask,
            "cloth_unpaired": cloth_u, "cloth_mask_unpaired": cmask_u,
            "parse": parse, "garment_region": region, "pose_map": pose, "densepose": dense,
            "agnostic": agnostic, "flow": flow, "flow_valid": valid,
            "has_flow": torch.tensor(self.has_flow), "name": f"fake_{i:03d}.jpg",
        }
