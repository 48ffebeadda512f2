"""Synthetic try-on data in the VITON-HD folder layout.

``python -m training synth --out DIR --n N --seed S --height H --width W
[--test-fraction F] [--workers K] [--contact-sheet PNG]``

writes ``DIR/{train,test}/`` with the VITON-HD folders

====================  =======================================================
image/                person, ``<stem>.jpg`` (stems like ``00001_00``)
cloth/                garment shop image, ``<stem>.jpg`` (the garment worn)
cloth-mask/           garment mask, ``<stem>.png``, 0/255 (real VITON-HD: .jpg)
image-parse-v3/       CIHP labels, P-mode PNG with the CIHP palette
openpose_json/        ``<stem>_keypoints.json``, BODY_25 ``pose_keypoints_2d``
openpose_img/         ``<stem>_rendered.png``, skeleton on black
image-densepose/      ``<stem>.jpg``, IUV-like: R = part index * 10, G = U, B = V
agnostic-v3.2/        person with garment/arms/neck greyed as VITON-HD does
garment-flow/         ``<stem>.png`` (synthetic only, see below)
====================  =======================================================

plus ``DIR/train_pairs.txt`` / ``DIR/test_pairs.txt`` (unpaired: every person
listed with another garment of the same split), ``DIR/train_pairs_paired.txt``
/ ``DIR/test_pairs_paired.txt`` (person with their own garment) and
``DIR/synth.json`` (generator arguments).

``garment-flow/<stem>.png`` is a 16-bit, 3-channel PNG.  In the array that
``cv2.imread(path, cv2.IMREAD_UNCHANGED)`` returns, channel 0 is x, channel 1
is y and channel 2 is validity (so an RGB viewer shows R = valid, G = y,
B = x).  x and y are the cloth position each person pixel shows, in
normalised coordinates (``align_corners=False``: -1 and +1 are the outer
edges of the cloth image), mapped linearly from [-1, 1] to 0..65535; validity
is 65535 where the (visible) garment covers the person pixel, and there x, y
are meaningful; elsewhere all three are 0.  ``grid_sample(cloth, flow,
align_corners=False)`` puts the garment on the body.

Every sample is generated from its own RNG seeded by (seed, index), so the
output is identical for a seed whatever the number of workers.  Train and
test hold different people and garments (each sample draws both anew).
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from . import labels as L
from .garment import Cloth, render_cloth, sample_garment, random_color
from .person import person_transform, render_person, sample_person
from .render import Canvas, clip, smooth_noise, unit_grid

GENERATOR_VERSION = 2  # 1: commit 788c820 (data/synth256)
FOLDERS = ("image", "cloth", "cloth-mask", "image-parse-v3", "openpose_json",
           "openpose_img", "image-densepose", "agnostic-v3.2", "garment-flow")
AGNOSTIC_GREY = (128, 128, 128)
JPEG_QUALITY = 95


@dataclass
class Sample:
    image: np.ndarray        # (H, W, 3) uint8 RGB
    cloth: np.ndarray        # (H, W, 3) uint8 RGB
    cloth_mask: np.ndarray   # (H, W) uint8 0/255
    parse: np.ndarray        # (H, W) uint8 label ids
    keypoints: np.ndarray    # (25, 3) float32 BODY_25
    densepose: np.ndarray    # (H, W, 3) uint8 RGB (I*10, U, V)
    agnostic: np.ndarray     # (H, W, 3) uint8 RGB
    flow: np.ndarray         # (H, W, 2) float32 normalised cloth coords
    flow_valid: np.ndarray   # (H, W) bool
    category: str


# --------------------------------------------------------------------------
# Backgrounds
# --------------------------------------------------------------------------
def make_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Float RGB background: plain studio, gradient or textured."""
    kind = rng.choice(["studio", "gradient", "textured", "wall"], p=[0.35, 0.25, 0.25, 0.15])
    xx, yy = unit_grid(h, w)
    if kind == "studio":
        c = np.float32(rng.uniform(0.78, 0.97)) * np.float32(1 + rng.uniform(-0.03, 0.03, 3))
        vig = 1 - 0.12 * ((xx - w / h / 2) ** 2 + (yy - 0.45) ** 2)
        bg = c * vig[..., None]
    elif kind == "gradient":
        c1, c2 = random_color(rng, "light"), random_color(rng)
        a = rng.uniform(0, np.pi)
        t = (xx * np.cos(a) + yy * np.sin(a))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        bg = c1 * (1 - t[..., None]) + c2 * t[..., None]
    elif kind == "textured":
        c1, c2 = random_color(rng), random_color(rng)
        n = smooth_noise(rng, h, w, int(rng.integers(2, 8)), octaves=4)
        t = clip(0.5 + 0.8 * n, 0, 1)[..., None]
        bg = c1 * (1 - t) + c2 * t
        bg *= (1 + 0.05 * rng.standard_normal((h, w, 1), dtype=np.float32))
    else:  # wall with panels / a door frame edge
        c = random_color(rng, rng.choice(["light", "muted"]))
        bg = np.ones((h, w, 3), np.float32) * c
        period = rng.uniform(0.15, 0.5)
        lines = np.abs(((xx + rng.uniform()) / period) % 1 - 0.5) > 0.49
        bg *= (1 - 0.12 * lines)[..., None]
        floor = yy > rng.uniform(0.85, 1.2)
        bg[floor] *= 0.7
    return clip(bg, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------
# Derived annotations
# --------------------------------------------------------------------------
def agnostic_image(img: np.ndarray, parse: np.ndarray, kp: np.ndarray) -> np.ndarray:
    """VITON-HD's agnostic-v3.2: grey out arms, torso and neck from the pose,
    then paste back the head (face, sunglasses) and the lower body.  Radii
    scale with the image height (VITON-HD uses r = 20 at 1024 px)."""
    h = img.shape[0]
    r = 20.0 * h / 1024.0
    pose = kp[:, :2].astype(np.float64).copy()
    out = img.copy()
    g = AGNOSTIC_GREY
    S = 16

    def P(i):
        return (int(round(pose[i, 0] * S)), int(round(pose[i, 1] * S)))

    def ok(i):
        return kp[i, 2] > 0

    def line(i, j, width):
        if ok(i) and ok(j):
            cv2.line(out, P(i), P(j), g, max(1, int(round(width))), cv2.LINE_8, shift=4)

    def ellipse(i, rx, ry):
        if ok(i):
            cv2.ellipse(out, P(i), (int(rx * S), int(ry * S)), 0, 0, 360, g, -1, cv2.LINE_8, shift=4)

    B = L.B25
    if ok(B["r_hip"]) and ok(B["l_hip"]) and ok(B["r_shoulder"]) and ok(B["l_shoulder"]):
        la = np.linalg.norm(pose[5] - pose[2])
        lb = np.linalg.norm(pose[12] - pose[9])
        pt = (pose[9] + pose[12]) / 2
        pose[9] = pt + (pose[9] - pt) / max(lb, 1e-6) * la
        pose[12] = pt + (pose[12] - pt) / max(lb, 1e-6) * la
    line(2, 5, r * 10)
    for i in (2, 5):
        ellipse(i, r * 5, r * 5)
    for i in (3, 4, 6, 7):
        line(i - 1, i, r * 10)
        if ok(i - 1):
            ellipse(i, r * 5, r * 5)
    for i in (9, 12):
        ellipse(i, r * 3, r * 6)
    line(2, 9, r * 6)
    line(5, 12, r * 6)
    line(9, 12, r * 12)
    if all(ok(i) for i in (2, 5, 12, 9)):
        cv2.fillPoly(out, [np.round(pose[[2, 5, 12, 9]] * S).astype(np.int32)], g, cv2.LINE_8, shift=4)
    if ok(1):
        x, y = pose[1]
        cv2.rectangle(out, (int((x - r * 7) * S), int((y - r * 7) * S)),
                      (int((x + r * 7) * S), int(y * S)), g, -1, cv2.LINE_8, shift=4)
    keep = L.in_group(parse, L.GROUP_FACE_KEEP) | L.in_group(parse, L.GROUP_LOWER)
    out[keep] = img[keep]
    return out


def render_pose(kp: np.ndarray, h: int, w: int) -> np.ndarray:
    """OpenPose-style skeleton on black (RGB)."""
    out = np.zeros((h, w, 3), np.uint8)
    sw = max(1, int(round(h / 256 * 2)))
    for i, j in L.BODY25_LIMBS:
        if kp[i, 2] > 0 and kp[j, 2] > 0:
            c = tuple(int(v * 0.6) for v in L.BODY25_COLORS[j])
            cv2.line(out, tuple(np.int32(kp[i, :2] * 16)), tuple(np.int32(kp[j, :2] * 16)),
                     c, sw * 2, cv2.LINE_AA, shift=4)
    for i in range(25):
        if kp[i, 2] > 0:
            cv2.circle(out, tuple(np.int32(kp[i, :2] * 16)), sw * 16 + 8, L.BODY25_COLORS[i], -1,
                       cv2.LINE_AA, shift=4)
    return out


def px_to_norm(flow_px: np.ndarray, w: int, h: int) -> np.ndarray:
    """Cloth pixel-centre coordinates -> [-1, 1] (align_corners=False)."""
    out = np.empty_like(flow_px)
    out[..., 0] = (2 * flow_px[..., 0] + 1) / w - 1
    out[..., 1] = (2 * flow_px[..., 1] + 1) / h - 1
    return out


# --------------------------------------------------------------------------
# One sample
# --------------------------------------------------------------------------
def make_sample(seed: int, index: int, h: int, w: int, flat: bool = False) -> Sample:
    rng = np.random.default_rng([seed, index])
    person = sample_person(rng)
    garment = sample_garment(rng)
    cloth: Cloth = render_cloth(garment, h, w, shading=not flat)
    bg = make_background(rng, h, w)
    canvas = Canvas(h, w, person_transform(person, h, w), background=bg)
    r = render_person(person, cloth, canvas, flat=flat, rng=rng)
    valid = r.flow_valid & L.in_group(r.label, L.GROUP_UPPER)
    flow = px_to_norm(r.flow_px, w, h)
    flow[~valid] = 0
    dp = np.zeros((h, w, 3), np.uint8)
    dp[..., 0] = clip(r.dp[..., 0] * L.DP_I_SCALE, 0, 255).astype(np.uint8)
    dp[..., 1:] = clip(r.dp[..., 1:] * 255 + 0.5, 0, 255).astype(np.uint8)
    dp[r.dp[..., 0] == 0] = 0
    agn = agnostic_image(r.image, r.label, r.keypoints)
    return Sample(r.image, cloth.image, cloth.mask, r.label.copy(), r.keypoints, dp, agn,
                  flow.astype(np.float32), valid, garment.category)


def encode_flow(flow: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(H, W, 2) normalised flow + validity -> (H, W, 3) uint16 [x, y, valid]."""
    q = np.round((clip(flow, -1, 1) + 1) * 0.5 * 65535).astype(np.uint16)
    out = np.zeros(flow.shape[:2] + (3,), np.uint16)
    out[..., 0] = q[..., 0]
    out[..., 1] = q[..., 1]
    out[..., 2] = 65535
    out[~valid] = 0
    return out


def keypoints_json(kp: np.ndarray) -> str:
    flat = [round(float(v), 3) for v in kp.reshape(-1)]
    doc = {"version": 1.3, "people": [{
        "person_id": [-1], "pose_keypoints_2d": flat, "face_keypoints_2d": [],
        "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [],
        "pose_keypoints_3d": [], "face_keypoints_3d": [],
        "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}]}
    return json.dumps(doc, separators=(",", ":"))


def _atomic_write(path: Path, data: bytes):
    """Write via a temporary name so a killed run never leaves a truncated
    file (``--resume`` relies on it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _imwrite(path: Path, rgb: np.ndarray, params=()):
    arr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 and rgb.dtype == np.uint8 else rgb
    ok, buf = cv2.imencode(path.suffix, arr, list(params))
    if not ok:
        raise OSError(f"encode {path}")
    _atomic_write(path, buf.tobytes())


def write_sample(split_dir: Path, stem: str, s: Sample):
    q = (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY)
    _imwrite(split_dir / "image" / f"{stem}.jpg", s.image, q)
    _imwrite(split_dir / "cloth" / f"{stem}.jpg", s.cloth, q)
    _imwrite(split_dir / "cloth-mask" / f"{stem}.png", s.cloth_mask)
    pim = Image.fromarray(s.parse, mode="P")
    pim.putpalette(L.palette_flat())
    buf = io.BytesIO()
    pim.save(buf, format="PNG", optimize=False)
    _atomic_write(split_dir / "image-parse-v3" / f"{stem}.png", buf.getvalue())
    _atomic_write(split_dir / "openpose_json" / f"{stem}_keypoints.json",
                  keypoints_json(s.keypoints).encode())
    h, w = s.parse.shape
    _imwrite(split_dir / "openpose_img" / f"{stem}_rendered.png", render_pose(s.keypoints, h, w))
    _imwrite(split_dir / "image-densepose" / f"{stem}.jpg", s.densepose, q)
    _imwrite(split_dir / "agnostic-v3.2" / f"{stem}.jpg", s.agnostic, q)
    # written last: its presence marks the sample complete (see --resume)
    _imwrite(split_dir / "garment-flow" / f"{stem}.png", encode_flow(s.flow, s.flow_valid))


# --------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------
def stem_of(index: int) -> str:
    return f"{index:05d}_00"


def split_counts(n: int, test_fraction: float):
    n_test = int(round(n * test_fraction))
    n_train = n - n_test
    if n_test < 2 or n_train < 2:
        raise ValueError(f"--n {n} with --test-fraction {test_fraction} gives "
                         f"{n_train} train / {n_test} test samples; each split needs >= 2")
    return n_train, n_test


def unpaired_partners(indices, rng) -> dict:
    """A derangement: every person gets another garment of the split."""
    perm = rng.permutation(len(indices))
    idx = [indices[i] for i in perm]
    return {idx[k]: idx[(k + 1) % len(idx)] for k in range(len(idx))}


_JOB = {}


def _init_worker(job):
    cv2.setNumThreads(1)
    _JOB.update(job)


def make_sample_version(version: int, seed: int, index: int, h: int, w: int, flat: bool = False) -> Sample:
    """``make_sample`` (v2) or ``synth_v3.make_sample_v3`` (webcam framing + domain randomisation)."""
    if version == 3:
        from .synth_v3 import make_sample_v3
        return make_sample_v3(seed, index, h, w, flat=flat)
    if version != GENERATOR_VERSION:
        raise ValueError(f"generator version {version}: only {GENERATOR_VERSION} and 3 exist")
    return make_sample(seed, index, h, w, flat=flat)


def _work(index: int) -> int:
    j = _JOB
    s = make_sample_version(j.get("version", GENERATOR_VERSION), j["seed"], index, j["height"], j["width"])
    split = "train" if index < j["n_train"] else "test"
    write_sample(Path(j["out"]) / split, stem_of(index), s)
    return index


class Progress:
    """Minimal progress bar on stderr."""

    def __init__(self, total: int, label: str = "synth"):
        self.total, self.label, self.n = total, label, 0
        self.t0 = time.time()
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def update(self, k: int = 1):
        self.n += k
        now = time.time()
        if now - self.last < (0.2 if self.tty else 5.0) and self.n < self.total:
            return
        self.last = now
        el = now - self.t0
        rate = self.n / max(el, 1e-9)
        eta = (self.total - self.n) / max(rate, 1e-9)
        fill = int(30 * self.n / max(self.total, 1))
        msg = (f"{self.label} {self.n}/{self.total} [{'#' * fill}{'.' * (30 - fill)}] "
               f"{rate:.1f} samples/s elapsed {el:.0f}s eta {eta:.0f}s")
        sys.stderr.write(("\r" if self.tty else "") + msg + ("" if self.tty else "\n"))
        if self.n >= self.total and self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _done(out: Path, index: int, n_train: int) -> bool:
    split = "train" if index < n_train else "test"
    return (out / split / "garment-flow" / f"{stem_of(index)}.png").is_file()


def generate(out: str | os.PathLike, n: int, seed: int, height: int, width: int,
             test_fraction: float = 0.1, workers: int | None = None,
             progress: bool = True, resume: bool = False, version: int = GENERATOR_VERSION) -> dict:
    """Write a synthetic VITON-HD-layout dataset; returns a summary dict.

    ``resume``: keep the samples an interrupted run with the same arguments
    (and generator version) already wrote, generate the rest."""
    if version not in (GENERATOR_VERSION, 3):
        raise ValueError(f"--version {version}: only {GENERATOR_VERSION} (studio) and 3 (webcam) exist")
    if height < 32 or width < 24:
        raise ValueError(f"size {height}x{width} too small (min 32x24)")
    out = Path(out)
    n_train, n_test = split_counts(n, test_fraction)
    meta = {"generator": "training.data.synth", "version": version,
            "n": n, "seed": seed, "height": height, "width": width,
            "test_fraction": test_fraction, "train": n_train, "test": n_test,
            "flow": "garment-flow/<stem>.png: uint16 [x, y, valid] (cv2 order), "
                    "x,y in [-1,1] align_corners=False mapped to 0..65535"}
    meta_path = out / "synth.json"
    todo = list(range(n))
    if resume and meta_path.is_file():
        old = json.loads(meta_path.read_text())
        old.pop("complete", None)
        if old != meta:
            raise ValueError(f"--resume: {meta_path} was written with other arguments or "
                             f"generator version: {old}")
        todo = [i for i in todo if not _done(out, i, n_train)]
    for split in ("train", "test"):
        for f in FOLDERS:
            (out / split / f).mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(dict(meta, complete=False), indent=1) + "\n")
    workers = workers or max(1, os.cpu_count() or 1)
    job = dict(out=str(out), seed=seed, height=height, width=width, n_train=n_train, version=version)
    t0 = time.time()
    bar = Progress(len(todo)) if progress else None
    if workers == 1:
        _init_worker(job)
        for i in todo:
            _work(i)
            if bar:
                bar.update()
    elif todo:
        ctx = mp.get_context("fork")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
            for _ in pool.imap_unordered(_work, todo, chunksize=8):
                if bar:
                    bar.update()
    elapsed = time.time() - t0
    rng = np.random.default_rng([seed, 2 ** 31 - 1])
    for split, idx in (("train", list(range(n_train))), ("test", list(range(n_train, n)))):
        part = unpaired_partners(idx, rng)
        (out / f"{split}_pairs.txt").write_text(
            "".join(f"{stem_of(i)}.jpg {stem_of(part[i])}.jpg\n" for i in idx))
        (out / f"{split}_pairs_paired.txt").write_text(
            "".join(f"{stem_of(i)}.jpg {stem_of(i)}.jpg\n" for i in idx))
    meta_path.write_text(json.dumps(dict(meta, complete=True), indent=1) + "\n")
    return {"n": n, "train": n_train, "test": n_test, "generated": len(todo),
            "seconds": elapsed, "samples_per_s": len(todo) / max(elapsed, 1e-9),
            "workers": workers}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training synth",
                                 description="Generate a synthetic try-on dataset in the VITON-HD layout.")
    ap.add_argument("--out", required=True, help="output folder (gets train/, test/, pairs files)")
    ap.add_argument("--n", type=int, required=True, help="number of samples (train + test)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--test-fraction", type=float, default=0.1)
    ap.add_argument("--version", type=int, default=GENERATOR_VERSION, choices=[GENERATOR_VERSION, 3],
                    help="2: studio portraits (default); 3: webcam framings cut by the runtime's framing rule, "
                         "domain randomisation (training/data/synth_v3.py)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ap.add_argument("--contact-sheet", default=None, metavar="PNG",
                    help="also write a contact sheet of the first test samples")
    ap.add_argument("--resume", action="store_true",
                    help="keep samples an interrupted run with the same arguments wrote")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        info = generate(args.out, args.n, args.seed, args.height, args.width,
                        args.test_fraction, args.workers, progress=not args.quiet,
                        resume=args.resume, version=args.version)
    except (ValueError, OSError) as e:
        print(f"synth: {e}", file=sys.stderr)
        return 1
    print(f"synth: {info['train']} train + {info['test']} test samples in {args.out}; "
          f"generated {info['generated']} in {info['seconds']:.1f}s "
          f"({info['samples_per_s']:.1f} samples/s, {info['workers']} workers)", file=sys.stderr)
    if args.contact_sheet:
        from .contact_sheet import contact_sheet
        contact_sheet(args.out, args.contact_sheet)
        print(f"synth: contact sheet {args.contact_sheet}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
