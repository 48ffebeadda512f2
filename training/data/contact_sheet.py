"""Contact sheet of a VITON-HD-layout folder, read back through the loader.

``python -m training.data.contact_sheet DIR OUT.png [--split test] [--rows 8]``

One row per person: person | garment | mask | parse (CIHP colours) |
pose (skeleton over the person) | the garment warped by the stored flow
(``grid_sample(cloth, flow)``, white where the flow is not valid).  The last
column is the check that the flow is right: it must show the garment as it
sits on the body, occlusions included.
"""
from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from . import labels as L
from .vitonhd import VitonHDDataset

COLUMNS = ("person", "garment", "mask", "parse", "pose", "flow-warp")
COCO18_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
                (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))


def _img(t: torch.Tensor) -> np.ndarray:
    return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def _pose_overlay(person: np.ndarray, pose_map: torch.Tensor) -> np.ndarray:
    out = (person.astype(np.float32) * 0.45).astype(np.uint8)
    pts = []
    for k in range(pose_map.shape[0]):
        m = pose_map[k]
        if float(m.max()) < 0.5:
            pts.append(None)
            continue
        idx = int(torch.argmax(m))
        pts.append((idx % m.shape[1], idx // m.shape[1]))
    h = person.shape[0]
    th = max(1, h // 128)
    for a, b in COCO18_LIMBS:
        if pts[a] and pts[b]:
            cv2.line(out, pts[a], pts[b], (255, 220, 0), th, cv2.LINE_AA)
    for k, p in enumerate(pts):
        if p:
            cv2.circle(out, p, th + 1, L.BODY25_COLORS[L.BODY25_TO_COCO18[k]], -1, cv2.LINE_AA)
    return out


def sheet_rows(ds: VitonHDDataset, rows: int):
    out = []
    for i in range(min(rows, len(ds))):
        it = ds[i]
        person = _img(it["person"])
        cloth = _img(it["cloth"])
        mask = np.repeat((it["cloth_mask"][0].numpy() * 255).astype(np.uint8)[..., None], 3, 2)
        parse = L.colorize(it["parse"].numpy().astype(np.uint8))
        pose = _pose_overlay(person, it["pose_map"])
        if it["has_flow"]:
            grid = it["flow"].permute(1, 2, 0)[None]
            warped = F.grid_sample(it["cloth"][None], grid, mode="bilinear",
                                   padding_mode="zeros", align_corners=False)[0]
            v = it["flow_valid"]
            warped = warped * v + (1 - v)
            warp = _img(warped)
        else:
            warp = np.full_like(person, 255)
            cv2.putText(warp, "no flow", (4, warp.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, (0, 0, 0), 1, cv2.LINE_AA)
        out.append(np.concatenate([person, cloth, mask, parse, pose, warp], 1))
    return out


def contact_sheet(root, out_png, split: str = "test", rows: int = 8, height: int | None = None,
                  width: int | None = None) -> np.ndarray:
    probe = VitonHDDataset(root, split, 64, 48, "unpaired")
    if height is None:
        h0, w0 = cv2.imread(str(probe._paths(0)["image"])).shape[:2]
        height, width = min(h0, 256), min(h0, 256) * w0 // h0
    ds = VitonHDDataset(root, split, height, width, "unpaired")
    body = sheet_rows(ds, rows)
    head = np.full((18, body[0].shape[1], 3), 255, np.uint8)
    for k, name in enumerate(COLUMNS):
        cv2.putText(head, name, (k * width + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
    sheet = np.concatenate([head] + body, 0)
    if not cv2.imwrite(str(out_png), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise OSError(f"contact_sheet: cannot write {out_png}")
    return sheet


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.data.contact_sheet",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("root")
    ap.add_argument("out")
    ap.add_argument("--split", default="test", choices=("train", "test"))
    ap.add_argument("--rows", type=int, default=8)
    args = ap.parse_args(argv)
    with torch.no_grad():
        contact_sheet(args.root, args.out, args.split, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
