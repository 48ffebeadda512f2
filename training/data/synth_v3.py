"""Synthetic data v3: webcam framings and domain randomisation, same labels as v2.

``python -m training synth --version 3 ...`` writes the same VITON-HD layout
as v2 (``synth.py``); only ``make_sample`` differs. What changes:

* **Webcam framing.** The person is placed in a virtual 640x480 camera frame
  as a webcam sees them: mostly close-ups (shoulders spanning 30-65 % of the
  frame width, the torso cut by the frame bottom), some half-body shots with
  the hips in frame, off-centre, rolled (+-9 deg), slightly turned (the body
  narrowed by up to 15 %, head yaw up to +-0.55). The try-on crop is then
  cut from that frame with the runtime's framing rule
  (``training.framing.frame_box`` on the exact BlazePose keypoints, the same
  function the Go side mirrors); where the crop leaves the camera frame it is
  padded by edge replication, as ``inference/framing.go`` does, and the
  labels (parse, flow, DensePose) are replicated with it, so the flow still
  reproduces every garment pixel. Keypoints outside the camera frame are
  reported invisible.
* **Poses.** v2's poses plus arms folded in front of the torso and a hand
  raised to the face (chin/cheek), the upper arm foreshortened as when the
  elbow comes forward.
* **Looks.** Skin tones interpolated between v2's nine; glasses (labelled
  SUNGLASSES, as CIHP does) and beards/stubble (labelled FACE, as CIHP does).
* **Garment.** Extra folds and wrinkles shaded in the garment's own cloth
  coordinates (so they move with it), image only.
* **Camera and light.** Light direction per sample (the renderer's Lambert
  shading), a side-light ramp, colour temperature and white balance,
  auto exposure, vignetting, defocus or motion blur, signal-dependent sensor
  noise with chroma noise, low-resolution capture (down- and up-sampling) and
  JPEG compression at quality 35-92; blur, noise and JPEG act at the camera's
  resolution, so they shrink by the camera-to-crop scale.
* **Backgrounds.** Rooms rather than studio backdrops: walls with value-noise
  texture, furniture/shelf/door/window rectangles, posters, at random
  depth-of-field blur.

Everything is drawn from ``np.random.default_rng([seed, index, 3])``: a
sample depends only on (seed, index).
"""
from __future__ import annotations

from contextlib import contextmanager

import cv2
import numpy as np

from .. import framing as FR
from . import labels as L
from . import render as R
from .garment import random_color, render_cloth, sample_garment
from .person import SKIN_TONES, render_person, sample_person
from .render import Canvas, clip, smooth_noise, unit_grid

VERSION = 3
CAM_W, CAM_H = 640, 480  # the virtual webcam frame

# BODY_25 name -> BlazePose index (the points the generator models)
BLAZE_FROM_B25 = {"nose": 0, "l_eye": 2, "r_eye": 5, "l_ear": 7, "r_ear": 8, "l_shoulder": 11,
                  "r_shoulder": 12, "l_elbow": 13, "r_elbow": 14, "l_wrist": 15, "r_wrist": 16,
                  "l_hip": 23, "r_hip": 24, "l_knee": 25, "r_knee": 26, "l_ankle": 27, "r_ankle": 28}


def blazepose_from_b25(kp25: np.ndarray, vis=None) -> np.ndarray:
    """(33, 4) BlazePose-layout x, y, visibility, presence from BODY_25 (25, 2|3) points."""
    out = np.zeros((33, 4))
    for name, j in BLAZE_FROM_B25.items():
        i = L.B25[name]
        out[j, :2] = kp25[i, :2]
        v = 1.0 if vis is None else float(vis[i])
        out[j, 2:] = v
    return out


# --------------------------------------------------------------------------
# Person and pose
# --------------------------------------------------------------------------
def sample_person_v3(rng: np.random.Generator):
    p = sample_person(rng)
    U = rng.uniform
    a, b = rng.integers(len(SKIN_TONES) - 1), U()
    p.skin = clip((SKIN_TONES[a] * (1 - b) + SKIN_TONES[a + 1] * b) * np.float32(U(0.93, 1.07, 3)), 0, 1)
    p.head_yaw = U(-0.55, 0.55)
    p.head_tilt = U(-10, 10)
    pose = rng.choice(["keep", "folded", "face", "front"], p=[0.4, 0.2, 0.25, 0.15])
    one = int(rng.choice([-1, 1]))
    if pose == "folded":  # both forearms across the torso
        p.arms = {s: (U(2, 14), U(110, 135)) for s in (-1, 1)}
        p.ua_len *= U(0.7, 0.9)
    elif pose == "face":  # a hand at the chin / cheek, elbow forward (foreshortened upper arm)
        p.ua_len *= U(0.42, 0.6)
        p.arms = {one: (U(0, 25), U(160, 195)), -one: (U(4, 18), U(-5, 20)) if U() < 0.6 else (U(2, 14), U(105, 130))}
    elif pose == "front":  # one forearm across the body
        p.arms[one] = (U(0, 15), U(95, 135))
    p.scale, p.rot, p.shift = 1.0, 0.0, (0.0, 0.0)
    looks = {"glasses": U() < 0.3, "beard": U() < 0.22, "stubble": U() < 0.15,
             "glasses_color": np.float32(random_color(rng, "dark")) * U(0.3, 1.0),
             "glasses_shape": float(U(0.75, 1.2)), "beard_len": float(U(0.1, 0.45))}
    return p, looks, str(pose)


def camera_matrix(p, rng) -> np.ndarray:
    """local units -> camera-frame continuous pixel coordinates (0..CAM_W, 0..CAM_H), a webcam framing."""
    U = rng.uniform
    shot = rng.choice(["close", "medium", "half"], p=[0.55, 0.3, 0.15])
    frac = {"close": U(0.45, 0.68), "medium": U(0.32, 0.45), "half": U(0.2, 0.3)}[shot]
    scale = frac * CAM_W / (2 * p.sh_hw)
    yaw = U(0.85, 1.0)  # body turn: narrower across
    roll = np.deg2rad(U(-9, 9))
    sh_x = CAM_W * (0.5 + U(-0.2, 0.2))
    sh_y = CAM_H * {"close": U(0.5, 0.85), "medium": U(0.38, 0.62), "half": U(0.25, 0.4)}[shot]
    c, s = np.cos(roll), np.sin(roll)
    A = np.array([[c, -s], [s, c]]) @ np.diag([scale * yaw, scale])
    piv = np.array([p.cx, p.sh_y])
    return np.hstack([A, (np.array([sh_x, sh_y]) - A @ piv)[:, None]])


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    return np.hstack([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]])


# --------------------------------------------------------------------------
# Background, accessories, garment folds
# --------------------------------------------------------------------------
def room_background(rng, h: int, w: int) -> np.ndarray:
    U = rng.uniform
    xx, yy = unit_grid(h, w)
    wall = random_color(rng, rng.choice(["light", "muted", "neutral"]))
    bg = np.ones((h, w, 3), np.float32) * wall
    bg *= (1 + 0.12 * smooth_noise(rng, h, w, int(rng.integers(2, 6)), octaves=4))[..., None]
    bg *= (1 + U(-0.25, 0.25) * (xx - xx.mean()) + U(-0.2, 0.2) * (yy - 0.5))[..., None]
    for _ in range(int(rng.integers(2, 8))):  # furniture, shelves, door frames, windows, posters
        x0, y0 = U(-0.3, 1.0) * w, U(-0.3, 1.0) * h
        x1, y1 = x0 + U(0.05, 0.8) * w, y0 + U(0.03, 0.8) * h
        kind = rng.choice(["object", "window", "poster", "line"], p=[0.5, 0.15, 0.2, 0.15])
        m = np.zeros((h, w), np.float32)
        if kind == "line":
            cv2.line(m, (int(x0), int(y0)), (int(x0 + U(-0.2, 0.2) * w), int(y1)), 1.0, int(rng.integers(1, 5)))
        else:
            cv2.rectangle(m, (int(x0), int(y0)), (int(x1), int(y1)), 1.0, -1)
        if kind == "window":
            col = np.float32([1, 1, 1]) * U(0.85, 1.0)
        else:
            col = random_color(rng)
        tex = 1 + 0.15 * smooth_noise(rng, h, w, int(rng.integers(3, 12)), octaves=3)
        if kind == "poster":
            tex = tex * (1 + 0.3 * np.sin(xx * U(10, 60) + U(0, 6)) * np.sin(yy * U(10, 60)))
        a = m[..., None]
        bg = bg * (1 - a) + (col * tex[..., None]) * a
    bg *= (1 + 0.03 * rng.standard_normal((h, w, 1), dtype=np.float32))
    k = U(0, 3.0) * h / 256
    if k > 0.3:  # depth of field: the background is further away than the face
        bg = cv2.GaussianBlur(bg, (0, 0), k)
    return clip(bg, 0, 1).astype(np.float32)


def _head_px(p, M):
    """Head centre, axes (x along the face's across direction) in crop pixels."""
    t = np.deg2rad(p.head_tilt)
    Rm = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    hc = np.asarray(p.head_c, np.float64)
    ax = Rm @ np.array([p.head_rx, 0.0])
    ay = Rm @ np.array([0.0, p.head_ry])
    c = M[:, :2] @ hc + M[:, 2]
    return c, M[:, :2] @ ax, M[:, :2] @ ay


def add_glasses(img, label, p, M, looks):
    c, ax, ay = _head_px(p, M)
    yaw = p.head_yaw
    m = np.zeros(label.shape, np.uint8)
    S = 16
    rx = float(np.hypot(*ax)) * 0.3 * looks["glasses_shape"]
    ry = float(np.hypot(*ay)) * 0.16
    ang = float(np.degrees(np.arctan2(ax[1], ax[0])))
    th = max(1, int(round(float(np.hypot(*ax)) * 0.06)))
    centres = []
    for side in (-1, 1):
        q = c + ax * (side * 0.4 + 0.3 * yaw) + ay * 0.0
        centres.append(q)
        cv2.ellipse(m, (int(q[0] * S), int(q[1] * S)), (int(rx * (1 - 0.25 * max(0.0, -side * yaw)) * S), int(ry * S)),
                    ang, 0, 360, 255, th, cv2.LINE_AA, shift=4)
    a, b = centres
    d = (b - a) / max(np.hypot(*(b - a)), 1e-6)
    cv2.line(m, tuple(int(v * S) for v in a + d * rx), tuple(int(v * S) for v in b - d * rx), 255, th,
             cv2.LINE_AA, shift=4)
    for side, q in zip((-1, 1), centres):  # temples towards the ears
        e = c + ax * (side * 0.97 + 0.25 * yaw) + ay * 0.05
        cv2.line(m, tuple(int(v * S) for v in q + side * ax / np.hypot(*ax) * rx), tuple(int(v * S) for v in e),
                 255, th, cv2.LINE_AA, shift=4)
    face = label == L.FACE
    cov = (m.astype(np.float32) / 255) * face
    img[:] = img * (1 - cov[..., None]) + looks["glasses_color"] * cov[..., None]
    label[(cov >= 0.5)] = L.SUNGLASSES


def add_beard(img, label, p, M, looks, hair_color, rng, stubble_only=False):
    h, w = label.shape
    c, ax, ay = _head_px(p, M)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.stack([xs - c[0], ys - c[1]], -1)
    Ainv = np.linalg.inv(np.stack([ax, ay], 1))
    q = d @ Ainv.T  # head coordinates (qx across, qy down; unit = head radii)
    qx, qy = q[..., 0], q[..., 1]
    lo = 0.55 - (0.0 if stubble_only else looks["beard_len"] * 0.5)
    region = clip((qy - lo) * 6, 0, 1) * clip((0.95 - np.abs(qx)) * 5, 0, 1)
    mouth = clip(1 - np.hypot(qx / 0.32, (qy - 0.55) / 0.08), 0, 1)
    region = region * (1 - mouth) * (label == L.FACE)
    tex = 0.6 + 0.4 * clip(rng.standard_normal((h, w)).astype(np.float32), -1.5, 1.5) / 1.5
    alpha = region * (0.3 if stubble_only else 0.85) * clip(tex, 0, 1)
    img[:] = img * (1 - alpha[..., None]) + hair_color * alpha[..., None]


def add_folds(img, label, flow_px, cw, ch, rng):
    """Extra folds/wrinkles on the garment, a function of the cloth coordinate (moves with the cloth)."""
    m = label == L.UPPER_CLOTHES
    if not m.any():
        return
    U = rng.uniform
    u, v = flow_px[..., 0] / cw, flow_px[..., 1] / ch
    f = np.zeros(u.shape, np.float32)
    for _ in range(int(rng.integers(3, 8))):
        a = U(0, np.pi)
        k = U(8, 30)
        f += np.sin((u * np.cos(a) + v * np.sin(a)) * k + U(0, 6.28)).astype(np.float32) ** 3 * U(0.3, 1.0)
    f /= max(float(np.abs(f).max()), 1e-6)
    amp = U(0.04, 0.14)
    shade = 1 + amp * f
    img[m] *= shade[m][..., None]


# --------------------------------------------------------------------------
# Camera effects (image only)
# --------------------------------------------------------------------------
def kelvin_gains(t: float) -> np.ndarray:
    """RGB gains of a light at colour temperature t (K) relative to 6500 K (coarse fit)."""
    x = np.log(t / 6500.0)
    g = np.float32([np.exp(-0.55 * x), 1.0, np.exp(0.75 * x)])
    return g / g.max()


def camera_effects(img: np.ndarray, rng, inside: np.ndarray, k: float = 1.0) -> np.ndarray:
    """img float RGB [0,1] -> uint8 after light, white balance, exposure, vignetting, blur, noise, JPEG.
    ``k``: camera pixels per crop pixel. Blur and sensor noise happen at the camera's resolution, so
    in the crop they shrink by k (noise averaged over k x k camera pixels), and the camera's JPEG
    blocks are k times smaller (modelled as a higher quality at the crop's scale)."""
    h, w = img.shape[:2]
    k = max(1.0, float(k))
    U = rng.uniform
    xx, yy = unit_grid(h, w)
    a = U(0, 2 * np.pi)
    ramp = 1 + U(0, 0.35) * ((xx - xx.mean()) * np.cos(a) + (yy - 0.5) * np.sin(a)) * 2
    img = img * ramp[..., None]
    light = kelvin_gains(U(2700, 7500))  # scene light
    wb = np.float32(1 + U(-0.08, 0.08, 3))  # imperfect auto white balance
    img = img * light * wb / max(float((light * wb).mean()), 1e-6)
    # auto exposure, as webcams do: the frame's mean brought to a target, then an error of -0.6..+0.4 EV
    mean = float(img[inside].mean()) if inside.any() else float(img.mean())
    img = img * np.float32(U(0.38, 0.5) / max(mean, 1e-3) * 2 ** U(-0.6, 0.4))
    r2 = ((xx - xx.mean()) / (w / h)) ** 2 + (yy - 0.5) ** 2
    img = img * (1 - U(0, 0.35) * r2 / 0.5)[..., None]
    img = clip(img, 0, 1) ** np.float32(U(0.85, 1.15))
    blur = rng.choice(["none", "defocus", "motion"], p=[0.45, 0.4, 0.15])
    if blur == "defocus":
        img = cv2.GaussianBlur(img, (0, 0), max(0.3, U(0.5, 2.5) / k) * h / 256)
    elif blur == "motion":
        n = max(2, int(round(rng.integers(3, 12) / k)))
        ker = np.zeros((n, n), np.float32)
        cv2.line(ker, (0, int(rng.integers(n))), (n - 1, int(rng.integers(n))), 1.0, 1)
        img = cv2.filter2D(img, -1, ker / max(float(ker.sum()), 1e-6))
    if U() < 0.2:  # a camera of lower resolution than the crop needs
        f = U(0.4, 0.8)
        small = cv2.resize(img, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    sig = U(0.006, 0.04) / k
    std = np.sqrt(sig ** 2 + 0.02 * sig * img.mean(-1, keepdims=True))
    noise = rng.standard_normal((h, w, 1), dtype=np.float32) * std
    chroma = rng.standard_normal((h // 2 + 1, w // 2 + 1, 3), dtype=np.float32) * sig * 0.6
    img = img + noise + cv2.resize(chroma, (w, h))
    out = clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    q = int(rng.integers(35, 93))
    q = int(min(97, q + (100 - q) * (1 - 1 / k)))  # the camera's 8x8 blocks are 1/k crop pixels
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


@contextmanager
def light_direction(d):
    old = R.LIGHT.copy()
    R.LIGHT[:] = np.asarray(d, np.float32) / np.float32(np.linalg.norm(d))
    try:
        yield
    finally:
        R.LIGHT[:] = old


# --------------------------------------------------------------------------
# One sample
# --------------------------------------------------------------------------
def make_sample_v3(seed: int, index: int, h: int, w: int, flat: bool = False, details: bool = False):
    """A v3 ``synth.Sample`` (labels as v2). ``details``: also return a dict with the camera-frame box,
    the pose family and the exact BlazePose keypoints in the crop."""
    from .synth import Sample, agnostic_image, px_to_norm

    rng = np.random.default_rng([seed, index, VERSION])
    p, looks, pose = sample_person_v3(rng)
    garment = sample_garment(rng)
    cloth = render_cloth(garment, h, w, shading=not flat)
    A = camera_matrix(p, rng)
    kp_local, vis = p.keypoints_local()
    kp_cam = kp_local @ A[:, :2].T + A[:, 2]
    bp = blazepose_from_b25(kp_cam, vis)
    for j in (23, 24):  # hips: seen only when inside the camera frame
        x, y = bp[j, :2]
        bp[j, 2:] = float(0 <= x <= CAM_W and 0 <= y <= CAM_H)
    box = FR.frame_box(bp, CAM_W, CAM_H)
    if box is None:
        raise ValueError(f"synth v3: sample {index}: framing rule found no scale")
    bx, by, bw, bh = box
    C = np.array([[w / bw, 0, -bx * w / bw], [0, h / bh, -by * h / bh]])  # camera -> crop (continuous)
    M = _compose(C, A)
    M_px = M.copy()
    M_px[:, 2] -= 0.5  # continuous -> pixel-centre coordinates of the crop
    bg = room_background(rng, h, w)
    ld = np.array([rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.3), rng.uniform(0.45, 1.0)])
    canvas = Canvas(h, w, M_px, background=bg)
    with light_direction(ld):
        r = render_person(p, cloth, canvas, flat=flat, rng=rng)
    img = r.image.astype(np.float32) / 255
    label = r.label.copy()
    if not flat:
        add_folds(img, label, r.flow_px, w, h, rng)
        if looks["beard"] or looks["stubble"]:
            add_beard(img, label, p, M_px, looks, np.float32(p.hair_color), rng, stubble_only=not looks["beard"])
        if looks["glasses"]:
            add_glasses(img, label, p, M_px, looks)
    # camera frame inside the crop; outside it the crop is padded by edge replication
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    Ci = cv2.invertAffineTransform(C)
    fx = Ci[0, 0] * (xs + 0.5) + Ci[0, 1] * (ys + 0.5) + Ci[0, 2]
    fy = Ci[1, 0] * (xs + 0.5) + Ci[1, 1] * (ys + 0.5) + Ci[1, 2]
    inside = (fx >= 0) & (fx <= CAM_W) & (fy >= 0) & (fy <= CAM_H)
    image = img if flat else camera_effects(img, rng, inside, bw / w).astype(np.float32) / 255
    if flat:
        image = clip(image * 255 + 0.5, 0, 255).astype(np.uint8).astype(np.float32) / 255
    flow_px, fvalid, dp = r.flow_px, r.flow_valid, r.dp
    if not inside.all():
        e = 0.5 * max(bw / w, 1.0)  # half a crop pixel, in camera pixels
        cx_ = np.clip(fx, e, CAM_W - e)
        cy_ = np.clip(fy, e, CAM_H - e)
        mx = (C[0, 0] * cx_ + C[0, 2] - 0.5).astype(np.float32)
        my = (C[1, 1] * cy_ + C[1, 2] - 0.5).astype(np.float32)

        def rm(a):  # nearest: the padding repeats the edge pixels, and their labels with them
            return cv2.remap(a, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        image = rm(image)
        label = rm(label)
        flow_px = rm(flow_px)
        fvalid = rm(fvalid.astype(np.uint8)).astype(bool)
        dp = rm(dp)
    out = clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    kp = r.keypoints.copy()
    kpx = kp_local @ M_px[:, :2].T + M_px[:, 2]
    for i in range(25):
        if kp[i, 2] > 0:
            fxy = Ci[:, :2] @ (kpx[i] + 0.5) + Ci[:, 2]
            if not (0 <= fxy[0] <= CAM_W and 0 <= fxy[1] <= CAM_H):
                kp[i] = 0
    valid = fvalid & L.in_group(label, L.GROUP_UPPER)
    flow = px_to_norm(flow_px, w, h)
    flow[~valid] = 0
    dpo = np.zeros((h, w, 3), np.uint8)
    dpo[..., 0] = clip(dp[..., 0] * L.DP_I_SCALE, 0, 255).astype(np.uint8)
    dpo[..., 1:] = clip(dp[..., 1:] * 255 + 0.5, 0, 255).astype(np.uint8)
    dpo[dp[..., 0] == 0] = 0
    agn = agnostic_image(out, label, kp)
    s = Sample(out, cloth.image, cloth.mask, label, kp, dpo, agn, flow.astype(np.float32), valid, garment.category)
    if not details:
        return s
    bp_crop = bp.copy()
    bp_crop[:, :2] = (bp[:, :2] - (bx, by)) * (w / bw)  # continuous crop coordinates
    inside_kp = [(0 <= x <= CAM_W and 0 <= y <= CAM_H) for x, y in bp[:, :2]]
    return s, {"box": box, "pose": pose, "looks": {k: v for k, v in looks.items() if isinstance(v, bool)},
               "blazepose": bp_crop, "in_frame": np.array(inside_kp), "inside": inside}
