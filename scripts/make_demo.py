"""Render the bundled demo clip ``assets/demo.mp4`` (deterministic).

A synthetic person (the lab's renderer, training/data/person.py) stands in a
room, sways, turns the head a little and moves the arms; 640x480 landscape
like a webcam, 30 fps, 14 s, H.264 (libx264, yuv420p, crf 28).  The face is
drawn so that OpenCV's frontal-face Haar cascade finds it (the app frames the
person with that detector); ``--check`` reports the detection rate with the
app's settings (320 px wide, equalised, scale 1.15, 4 neighbours).

    .venv/bin/python scripts/make_demo.py [--out assets/demo.mp4] [--check]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data.garment import render_cloth, sample_garment, sample_texture  # noqa: E402
from training.data.person import render_person, sample_person  # noqa: E402
from training.data.render import Canvas, similarity, smooth_noise, clip  # noqa: E402

W, H, FPS, SECONDS = 640, 480, 30, 14
SEED = 20261129
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"


def room(rng) -> np.ndarray:
    """A plain room: wall with a window, a shelf, a picture and a plant."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    wall = np.float32([0.80, 0.76, 0.70])
    img = wall * (1.0 - 0.12 * ((xx / W - 0.45) ** 2 + (yy / H - 0.35) ** 2))[..., None]
    img *= (1 + 0.015 * smooth_noise(rng, H, W, 30, 2))[..., None]
    # window on the left: bright sky, frame and mullions
    x0, x1, y0, y1 = 30, 190, 40, 300
    sky = np.float32([0.78, 0.88, 0.97]) * (1 - 0.15 * (yy[y0:y1, x0:x1] - y0) / (y1 - y0))[..., None]
    img[y0:y1, x0:x1] = sky
    img[y0 + 150:y1, x0:x1] = img[y0 + 150:y1, x0:x1] * 0.85 + np.float32([0.35, 0.5, 0.3]) * 0.15
    for x in (x0, (x0 + x1) // 2, x1 - 8):
        img[y0:y1, x:x + 8] = (0.93, 0.92, 0.9)
    for y in (y0, (y0 + y1) // 2, y1 - 8):
        img[y:y + 8, x0:x1] = (0.93, 0.92, 0.9)
    # shelf with books on the right
    sx0, sx1, sy = 470, 630, 150
    img[sy:sy + 8, sx0:sx1] = (0.45, 0.32, 0.2)
    x = sx0 + 6
    while x < sx1 - 20:
        bw = int(rng.integers(9, 18))
        bh = int(rng.integers(40, 70))
        col = rng.uniform(0.2, 0.8, 3)
        img[sy - bh:sy, x:x + bw] = col
        img[sy - bh:sy, x + bw - 2:x + bw] *= 0.7
        x += bw + int(rng.integers(0, 3))
    # picture frame (kept away from the head: it would confuse the face detector)
    img[215:295, 470:570] = (0.25, 0.2, 0.15)
    img[221:289, 476:564] = np.float32([0.6, 0.7, 0.8]) * (1 - 0.3 * smooth_noise(rng, 68, 88, 3, 2)[..., None] ** 2)
    # plant in a pot, bottom right
    pot = np.zeros((H, W), np.uint8)
    cv2.fillConvexPoly(pot, np.int32([[540, 480], [600, 480], [610, 400], [530, 400]]), 255, cv2.LINE_AA)
    leaves = np.zeros((H, W), np.uint8)
    for _ in range(14):
        a = rng.uniform(-2.6, -0.5)
        ln = rng.uniform(60, 120)
        c = (570, 400)
        e = (int(570 + np.cos(a) * ln), int(400 + np.sin(a) * ln))
        cv2.ellipse(leaves, ((c[0] + e[0]) // 2, (c[1] + e[1]) // 2), (int(ln / 2), 12),
                    float(np.degrees(a)), 0, 360, 255, -1, cv2.LINE_AA)
    for m, col in ((leaves, (0.2, 0.45, 0.2)), (pot, (0.65, 0.35, 0.25))):
        a = (m.astype(np.float32) / 255)[..., None]
        img = img * (1 - a) + np.float32(col) * a
    # skirting board / floor line
    img[440:] *= 0.8
    img = cv2.GaussianBlur(img, (0, 0), 1.2)  # the room is slightly out of focus
    return clip(img, 0, 1)


def demo_person():
    rng = np.random.default_rng(SEED)
    p = sample_person(rng, "down")
    p.skin = np.float32([0.85, 0.66, 0.53])
    p.hair_style, p.hair_color, p.bangs = "short", np.float32([0.18, 0.12, 0.08]), False
    p.head_tilt, p.head_yaw = 0.0, 0.0
    g = sample_garment(rng, "t-shirt", sample_texture(rng, "stripes"))
    g.texture.update(base=[0.12, 0.2, 0.42], color2=[0.92, 0.92, 0.9], angle=0.0,
                     period=0.05, duty=0.45, print=None, collar="dark")
    return p, g


def _smooth(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


# keyframes (seconds -> per-arm (theta, bend)); -1 = wearer's right (image left)
KEYS = [
    (0.0, {-1: (10, 8), 1: (10, 8)}),
    (2.0, {-1: (12, 10), 1: (14, 12)}),
    (3.5, {-1: (105, -55), 1: (14, 12)}),  # right hand up: wave
    (5.5, {-1: (105, -55), 1: (14, 12)}),
    (7.0, {-1: (38, 78), 1: (38, 78)}),    # hands on hips
    (9.0, {-1: (38, 78), 1: (38, 78)}),
    (10.5, {-1: (10, 10), 1: (8, 115)}),   # left forearm across the body
    (12.0, {-1: (10, 10), 1: (8, 115)}),
    (14.0, {-1: (10, 8), 1: (10, 8)}),
]


def arms_at(t: float) -> dict:
    for (t0, a0), (t1, a1) in zip(KEYS, KEYS[1:]):
        if t0 <= t <= t1:
            u = _smooth((t - t0) / (t1 - t0))
            out = {}
            for s in (-1, 1):
                th = a0[s][0] + (a1[s][0] - a0[s][0]) * u
                bd = a0[s][1] + (a1[s][1] - a0[s][1]) * u
                if a0[s][0] > 90 and a1[s][0] > 90:  # waving
                    bd += 18 * np.sin(2 * np.pi * 1.6 * (t - t0))
                out[s] = (th, bd)
            return out
    return KEYS[-1][1]


def frames():
    p, g = demo_person()
    cloth = render_cloth(g, 512, 384)
    bg = room(np.random.default_rng(SEED + 1))
    for f in range(FPS * SECONDS):
        t = f / FPS
        p.arms = arms_at(t)
        p.head_yaw = 0.22 * np.sin(2 * np.pi * t / 6.0)
        p.head_tilt = 3.0 * np.sin(2 * np.pi * t / 4.3 + 0.5)
        rot = 2.0 * np.sin(2 * np.pi * t / 5.0)
        sx = 320 + 18 * np.sin(2 * np.pi * t / 7.0)
        scale = H * 1.0 * (1 + 0.004 * np.sin(2 * np.pi * t / 3.1))
        m = similarity(scale, rot, (p.cx, 0.55), (sx, 0.64 * H))
        cv = Canvas(H, W, m, background=bg)
        r = render_person(p, cloth, cv, rng=np.random.default_rng([SEED, f]))
        yield r.image


def detect_faces(rgb: np.ndarray, cascade) -> int:
    """Faces found with the app's settings (inference/framing.go)."""
    small = cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    return len(cascade.detectMultiScale(gray, 1.15, 4, 0, (20, 20)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "assets" / "demo.mp4"))
    ap.add_argument("--check", action="store_true", help="report the face detection rate")
    ap.add_argument("--preview", default=None, help="write every 30th frame as PNG here, no video")
    args = ap.parse_args(argv)
    cascade = cv2.CascadeClassifier(CASCADE) if args.check else None
    if args.preview:
        os.makedirs(args.preview, exist_ok=True)
        hits = 0
        for f, img in enumerate(frames()):
            if f % 30 == 0:
                cv2.imwrite(os.path.join(args.preview, f"{f:04d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
                if cascade is not None:
                    hits += detect_faces(img, cascade) > 0
        if cascade is not None:
            print(f"faces on {hits}/{FPS * SECONDS // 30} preview frames")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".mp4", dir=out.parent)
    os.close(fd)
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "slow",
           "-pix_fmt", "yuv420p", "-crf", "28", "-threads", "1", "-movflags", "+faststart",
           "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", tmp]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    hits = n = 0
    try:
        for img in frames():
            proc.stdin.write(img.tobytes())
            n += 1
            if cascade is not None:
                hits += detect_faces(img, cascade) > 0
            if n % 30 == 0:
                print(f"\rdemo: {n}/{FPS * SECONDS} frames", end="", file=sys.stderr, flush=True)
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError("ffmpeg failed")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"\ndemo: wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {n} frames)", file=sys.stderr)
    if cascade is not None:
        print(f"demo: face detected on {hits}/{n} frames ({100 * hits / n:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
