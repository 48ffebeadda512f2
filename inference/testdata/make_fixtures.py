"""Generate the small fixture models the Go inference tests load.

Run from the repository root:  .venv/bin/python inference/testdata/make_fixtures.py

Writes two model folders that follow docs/model-contract.md at 64x48:
  tiny/     warp + gen (the shape of the shipped student)
  tiny3/    garment + warp + gen (the optional cached garment stage)
and, for the numeric test, reference tensors computed by PyTorch from the
committed input images person.png / garment.png / garment_mask.png:
  ref_person.bin ... (float32 little-endian, NCHW, batch 1)
The weights are random but seeded, so the outputs are deterministic.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

H, W = 64, 48
HERE = os.path.dirname(os.path.abspath(__file__))


def identity_grid(h, w):
    ys = (torch.arange(h, dtype=torch.float32) * 2 + 1) / h - 1
    xs = (torch.arange(w, dtype=torch.float32) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], 0)[None]  # (1, 2, H, W), channel 0 = x


class GarmentEnc(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)

    def forward(self, garment, garment_mask):
        return torch.tanh(self.conv(torch.cat([garment, garment_mask], 1)))


class Warp(nn.Module):
    """Predicts a small flow offset from person and garment, then samples."""

    def __init__(self, garment_channels):
        super().__init__()
        self.c1 = nn.Conv2d(3 + garment_channels, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 2, 3, padding=1)
        self.register_buffer("base", identity_grid(H, W))

    def forward(self, person, garment, garment_mask, garment_feat=None):
        g = garment_feat if garment_feat is not None else torch.cat([garment, garment_mask], 1)
        x = F.relu(self.c1(torch.cat([person, g], 1)))
        grid = self.base + 0.15 * torch.tanh(self.c2(x))  # (1, 2, H, W)
        g2 = grid.permute(0, 2, 3, 1)  # (1, H, W, 2)
        warped = F.grid_sample(garment, g2, mode="bilinear", padding_mode="zeros", align_corners=False)
        wmask = F.grid_sample(garment_mask, g2, mode="bilinear", padding_mode="zeros", align_corners=False)
        return warped, wmask, grid


class Gen(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(7, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, person, warped_garment, warped_mask):
        x = F.relu(self.c1(torch.cat([person, warped_garment, warped_mask], 1)))
        y = self.c2(x)
        rendered, m = torch.tanh(y[:, :3]), torch.sigmoid(y[:, 3:4])
        m = m * warped_mask
        return warped_garment * m + rendered * (1 - m), m


class Warp3(Warp):
    def forward(self, person, garment, garment_mask, garment_feat):  # noqa: D401
        return super().forward(person, garment, garment_mask, garment_feat)


def spec(name, c, kind):
    return {"name": name, "shape": [1, c, H, W], "kind": kind}


IMG = {"person": 3, "garment": 3, "garment_mask": 1}


def export(module, args, path, in_names, out_names):
    torch.onnx.export(module, args, path, input_names=in_names, output_names=out_names, opset_version=17)


def load_inputs():
    def img(name):
        a = np.asarray(Image.open(os.path.join(HERE, name)).convert("RGB"), dtype=np.float32) / 255.0
        return torch.from_numpy(a).permute(2, 0, 1)[None] * 2 - 1

    m = np.asarray(Image.open(os.path.join(HERE, "garment_mask.png")).convert("L"), dtype=np.float32) / 255.0
    return img("person.png"), img("garment.png"), torch.from_numpy(m)[None, None]


def make_inputs():
    """Deterministic 48x64 input images: a person-ish blob and a striped garment."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    person = np.zeros((H, W, 3), np.uint8)
    person[:] = (200, 190, 180)
    body = ((xx - 24) / 14.0) ** 2 + ((yy - 44) / 22.0) ** 2 < 1
    head = ((xx - 24) / 7.0) ** 2 + ((yy - 14) / 8.0) ** 2 < 1
    person[body] = (40, 90, 160)
    person[head] = (220, 170, 140)
    person = np.clip(person.astype(int) + rng.integers(-8, 8, person.shape), 0, 255).astype(np.uint8)
    garment = np.full((H, W, 3), 245, np.uint8)
    shirt = (np.abs(xx - 24) < 16) & (yy > 10) & (yy < 56)
    stripes = ((yy // 4) % 2 == 0)
    garment[shirt & stripes] = (200, 30, 40)
    garment[shirt & ~stripes] = (30, 40, 200)
    mask = (shirt * 255).astype(np.uint8)
    Image.fromarray(person).save(os.path.join(HERE, "person.png"))
    Image.fromarray(garment).save(os.path.join(HERE, "garment.png"))
    Image.fromarray(mask).save(os.path.join(HERE, "garment_mask.png"))


def write_bin(name, t):
    t.detach().numpy().astype("<f4").tofile(os.path.join(HERE, name))


def main():
    torch.manual_seed(0)
    make_inputs()
    person, garment, gmask = load_inputs()
    warp, gen = Warp(4).eval(), Gen().eval()
    enc, warp3 = GarmentEnc().eval(), Warp3(8).eval()

    tiny = os.path.join(HERE, "tiny")
    os.makedirs(tiny, exist_ok=True)
    export(warp, (person, garment, gmask), os.path.join(tiny, "warp.onnx"),
           ["person", "garment", "garment_mask"], ["warped_garment", "warped_mask", "flow"])
    export(gen, (person, garment, gmask), os.path.join(tiny, "gen.onnx"),
           ["person", "warped_garment", "warped_mask"], ["tryon", "composite_mask"])
    gen_stage = {"file": "gen.onnx", "threads": 1,
                 "inputs": [spec("person", 3, "image"), spec("warped_garment", 3, "image"), spec("warped_mask", 1, "mask")],
                 "outputs": [spec("tryon", 3, "image"), spec("composite_mask", 1, "mask")]}
    warp_outputs = [spec("warped_garment", 3, "image"), spec("warped_mask", 1, "mask"), spec("flow", 2, "grid")]
    manifest = {
        "format": 1, "name": "tiny-fixture", "architecture": "fixture", "height": H, "width": W,
        "flow_align_corners": False,
        "stages": {
            "warp": {"file": "warp.onnx", "threads": 1,
                     "inputs": [spec("person", 3, "image"), spec("garment", 3, "image"), spec("garment_mask", 1, "mask")],
                     "outputs": warp_outputs},
            "gen": gen_stage,
        },
        "provenance": {"script": "inference/testdata/make_fixtures.py", "weights": "random, torch.manual_seed(0)"},
    }
    with open(os.path.join(tiny, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)

    tiny3 = os.path.join(HERE, "tiny3")
    os.makedirs(tiny3, exist_ok=True)
    feat = enc(garment, gmask)
    export(enc, (garment, gmask), os.path.join(tiny3, "garment.onnx"), ["garment", "garment_mask"], ["garment_feat"])
    export(warp3, (person, garment, gmask, feat), os.path.join(tiny3, "warp.onnx"),
           ["person", "garment", "garment_mask", "garment_feat"], ["warped_garment", "warped_mask", "flow"])
    export(gen, (person, garment, gmask), os.path.join(tiny3, "gen.onnx"),
           ["person", "warped_garment", "warped_mask"], ["tryon", "composite_mask"])
    manifest3 = json.loads(json.dumps(manifest))
    manifest3["name"] = "tiny3-fixture"
    manifest3["stages"] = {
        "garment": {"file": "garment.onnx", "inputs": [spec("garment", 3, "image"), spec("garment_mask", 1, "mask")],
                    "outputs": [spec("garment_feat", 8, "feature")]},
        "warp": {"file": "warp.onnx", "threads": 1,
                 "inputs": [spec("person", 3, "image"), spec("garment", 3, "image"), spec("garment_mask", 1, "mask"),
                            spec("garment_feat", 8, "feature")],
                 "outputs": warp_outputs},
        "gen": gen_stage,
    }
    with open(os.path.join(tiny3, "manifest.json"), "w") as f:
        json.dump(manifest3, f, indent=2)

    with torch.no_grad():
        w, m, flow = warp(person, garment, gmask)
        tryon, cm = gen(person, w, m)
        w3, m3, _ = warp3(person, garment, gmask, enc(garment, gmask))
        tryon3, _ = gen(person, w3, m3)
    for name, t in [("ref_warped_garment.bin", w), ("ref_warped_mask.bin", m), ("ref_flow.bin", flow),
                    ("ref_tryon.bin", tryon), ("ref_composite_mask.bin", cm), ("ref3_tryon.bin", tryon3)]:
        write_bin(name, t)
    print("fixtures written to", HERE)


if __name__ == "__main__":
    main()
