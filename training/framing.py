"""The framing rule: where the try-on crop goes, from body keypoints.

The try-on student sees a 3:4 portrait crop (256x192). The app places that
crop on a camera frame from the body keypoints of a pretrained pose model
(MediaPipe BlazePose, 33 points); the lab can crop its own training photos
the same way. The rule is written twice, here and in Go
(``person/framing.go``), and both test suites read the same test vectors
(``person/testdata/framing_cases.json``).

Targets, measured on the synthetic generator (``training.data``), which
knows each person's exact pose (``python -m training.framing measure``, 3,000
people, fractions of the crop height H; x as a fraction of the width)::

    shoulder midpoint   x 0.501 +- 0.026 W   y 0.329 +- 0.017 H
    hip midpoint        x 0.501 +- 0.027 W   y 0.810 +- 0.018 H
    shoulder width      0.377 +- 0.023 H
    shoulders -> hips   0.481 +- 0.020 H
    ears -> shoulders   0.176 +- 0.008 H  (distance, ear midpoint to shoulder midpoint)

The rule: the crop height H comes from the torso (shoulder midpoint to hip
midpoint) when the hips are seen inside the frame; otherwise (webcam
close-ups: hips, even elbows out of frame) from the larger of the
shoulder-width and the ear-to-shoulder estimates. Turning the body narrows
the shoulders and bowing the head shortens the neck, so each of those
alone only underestimates the scale; the larger one is the better guess.
The crop is centred on the shoulder midpoint (on the torso's middle when the
hips are seen) and its top is placed so the shoulders land at SHOULDER_Y.
The box may leave the frame; the crop is then padded.

Keypoints are BlazePose's: an array (33, 4) of x, y (pixels), visibility,
presence (0..1).
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

# Targets in the crop (fractions of the crop height, x of the width).
SHOULDER_X = 0.5
SHOULDER_Y = 0.329
HIP_Y = 0.810
SHOULDER_WIDTH = 0.377
EAR_DROP = 0.176
ASPECT = 0.75  # width / height

# BlazePose indices used by the rule.
LEFT_EAR, RIGHT_EAR = 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_HIP, RIGHT_HIP = 23, 24

# Hips count as seen when both are this visible and their midpoint is
# inside the frame.
HIP_VISIBILITY = 0.5


def frame_box(kp, width: int, height: int):
    """The 3:4 crop (x, y, w, h) in frame pixels for BlazePose keypoints
    ``kp`` (33, 4) on a ``width`` x ``height`` frame, or None when the
    keypoints give no usable scale."""
    kp = np.asarray(kp, np.float64)
    ls, rs = kp[LEFT_SHOULDER, :2], kp[RIGHT_SHOULDER, :2]
    sh = (ls + rs) / 2
    ears = (kp[LEFT_EAR, :2] + kp[RIGHT_EAR, :2]) / 2
    hip = (kp[LEFT_HIP, :2] + kp[RIGHT_HIP, :2]) / 2
    hips_seen = (min(kp[LEFT_HIP, 2], kp[RIGHT_HIP, 2]) >= HIP_VISIBILITY
                 and 0 <= hip[0] <= width and 0 <= hip[1] <= height)
    if hips_seen:
        h = float(np.hypot(*(hip - sh))) / (HIP_Y - SHOULDER_Y)
        cx = (sh[0] + hip[0]) / 2
    else:
        h = max(float(np.hypot(*(ls - rs))) / SHOULDER_WIDTH, float(np.hypot(*(sh - ears))) / EAR_DROP)
        cx = sh[0]
    if not np.isfinite(h) or h < 8:
        return None
    w = h * ASPECT
    return (float(cx - SHOULDER_X * w), float(sh[1] - SHOULDER_Y * h), float(w), float(h))


def box_rect(box):
    """Integer (x, y, w, h) of a frame_box result, rounded as Go's
    person.Box.Rect does (height rounded, width = round(0.75 * height))."""
    x, y, w, h = box
    hh = _round(h)
    return _round(x), _round(y), _round(hh * ASPECT), hh


def _round(v: float) -> int:
    """Round half away from zero, as Go's math.Round."""
    return int(np.copysign(np.floor(abs(v) + 0.5), v))


def crop(img: np.ndarray, box, out_h: int = 256, out_w: int = 192) -> np.ndarray:
    """The crop of ``img`` (H, W, C) in ``box`` resized to ``out_h`` x
    ``out_w``, as the app crops a camera frame (inference/engine.go): the
    parts of the box outside the image are filled by replicating the edge
    pixels, then area (shrinking) or bilinear (growing) resampling."""
    import cv2
    x, y, w, h = box_rect(box)
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"crop box {(x, y, w, h)} outside the {W}x{H} image")
    part = cv2.copyMakeBorder(img[y0:y1, x0:x1], y0 - y, y + h - y1, x0 - x, x + w - x1, cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if (w > out_w or h > out_h) else cv2.INTER_LINEAR
    return cv2.resize(part, (out_w, out_h), interpolation=interp)


def synthetic_keypoints(seed: int, index: int, h: int = 256, w: int = 192) -> np.ndarray:
    """BlazePose-layout keypoints (33, 4) of synthetic sample ``index`` in its
    ``h`` x ``w`` crop, from the generator's exact pose (points the
    generator does not model are left at zero)."""
    from .data import labels as L
    from .data.person import person_transform, sample_person
    rng = np.random.default_rng([seed, index])  # as training.data.synth.make_sample
    p = sample_person(rng)
    m = person_transform(p, h, w)
    local, _ = p.keypoints_local()
    px = local @ m[:, :2].T + m[:, 2] + 0.5  # pixel centres -> continuous coordinates
    B = L.B25
    out = np.zeros((33, 4))
    for bp, b25 in ((0, "nose"), (2, "l_eye"), (5, "r_eye"), (LEFT_EAR, "l_ear"), (RIGHT_EAR, "r_ear"),
                    (LEFT_SHOULDER, "l_shoulder"), (RIGHT_SHOULDER, "r_shoulder"), (13, "l_elbow"),
                    (14, "r_elbow"), (15, "l_wrist"), (16, "r_wrist"), (LEFT_HIP, "l_hip"),
                    (RIGHT_HIP, "r_hip"), (25, "l_knee"), (26, "r_knee"), (27, "l_ankle"), (28, "r_ankle")):
        out[bp, :2] = px[B[b25]]
        out[bp, 2:] = 1.0
    return out


def measure(n: int = 3000, seed: int = 0, h: int = 256, w: int = 192) -> dict:
    """Where the body sits in ``n`` synthetic crops: mean and std of the
    rule's targets."""
    rows = []
    for i in range(n):
        kp = synthetic_keypoints(seed, i, h, w)
        ls, rs = kp[LEFT_SHOULDER, :2], kp[RIGHT_SHOULDER, :2]
        sh, hip = (ls + rs) / 2, (kp[LEFT_HIP, :2] + kp[RIGHT_HIP, :2]) / 2
        ears = (kp[LEFT_EAR, :2] + kp[RIGHT_EAR, :2]) / 2
        rows.append([sh[0] / w, sh[1] / h, hip[0] / w, hip[1] / h, np.hypot(*(ls - rs)) / h,
                     np.hypot(*(hip - sh)) / h, np.hypot(*(sh - ears)) / h])
    a = np.array(rows)
    names = ("shoulder_x", "shoulder_y", "hip_x", "hip_y", "shoulder_width", "torso", "ear_drop")
    return {k: {"mean": round(float(c.mean()), 4), "std": round(float(c.std()), 4)} for k, c in zip(names, a.T)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.framing",
                                 description="measure where the body sits in synthetic crops")
    ap.add_argument("command", choices=["measure"])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.n, args.seed), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
