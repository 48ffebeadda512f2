#!/usr/bin/env python3
"""composite_holes.py: how much of the warped garment a model's generator leaves to the person picture,
on the demo clip.

Usage: scripts/composite_holes.py [--picture OUT.jpg] MODEL_DIR [MODEL_DIR ...]

For 13 frames of assets/demo.mp4 (1 to 13 s; a fixed 3:4 crop around the person) and two catalog garments, it
runs each model's warp.onnx and gen.onnx with ONNX Runtime and prints the hole fraction: the share of the warped
garment (warped_mask > 0.5) where the composite mask is below 0.5, i.e. where the try-on shows the generator's
render over the person instead of the warped garment. Holes there let the old garment's pattern through when
its colours match the new garment's (the demo person's navy stripes under the navy-stripe tee). --picture writes,
for the frame at 6 s and the navy-stripe tee, one row per model: input crop | warped garment | composite mask |
try-on. A diagnostic of the model card, not a test: no ground truth exists for the demo clip.
"""
import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
CROP = (150, 30, 300, 400)  # x, y, w, h in the 640x480 demo frames: the person, 3:4
GARMENTS = ("navy-stripe-tee", "red-classic-tee")


def to_tensor(bgr):
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1


def to_image(t):
    return cv2.cvtColor(((t[0].transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def to_mask_image(m):
    return cv2.cvtColor((m[0, 0] * 255).clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def demo_frames():
    cap = cv2.VideoCapture(str(ROOT / "assets/demo.mp4"))
    frames = {}
    for ms in range(1000, 14000, 1000):
        cap.set(cv2.CAP_PROP_POS_MSEC, ms)
        ok, frame = cap.read()
        if not ok:
            sys.exit(f"composite_holes: assets/demo.mp4: no frame at {ms} ms")
        x, y, w, h = CROP
        frames[ms] = cv2.resize(frame[y:y + h, x:x + w], (192, 256), interpolation=cv2.INTER_AREA)
    return frames


def garment(name):
    img = cv2.imread(str(ROOT / f"assets/garments/{name}.png"))
    mask = cv2.imread(str(ROOT / f"assets/garments/{name}_mask.png"), cv2.IMREAD_GRAYSCALE)
    img = cv2.resize(img, (192, 256), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, (192, 256), interpolation=cv2.INTER_AREA)
    return to_tensor(img), (mask[None, None] / 255.0).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--picture")
    a = ap.parse_args()
    frames = demo_frames()
    rows = []
    for model in a.models:
        warp = ort.InferenceSession(str(Path(model) / "warp.onnx"))
        gen = ort.InferenceSession(str(Path(model) / "gen.onnx"))
        for name in GARMENTS:
            g, gm = garment(name)
            holes = []
            for ms, crop in frames.items():
                p = to_tensor(crop)
                wg, wm, _ = warp.run(None, {"person": p, "garment": g, "garment_mask": gm})
                tryon, cm = gen.run(None, {"person": p, "warped_garment": wg, "warped_mask": wm})
                holes.append(float((cm[0, 0][wm[0, 0] > 0.5] < 0.5).mean()))
                if a.picture and ms == 6000 and name == GARMENTS[0]:
                    rows.append(np.hstack([crop, to_image(wg), to_mask_image(cm), to_image(tryon)]))
            print(f"{model}  {name:16s} hole fraction {np.mean(holes):.4f}")
    if a.picture:
        cv2.imwrite(a.picture, np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 90])
        print(f"composite_holes: wrote {a.picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
