"""Synthetic people: body, pose and looks, rendered wearing a garment.

The person is designed in *local units* (1.0 = the height of a VITON-HD-like
3:4 portrait: head near the top, hips near the bottom).  Body parts are
analytic shapes (tapered capsules for limbs, profiles for the torso, ellipses
for the head) evaluated per pixel with anti-aliased coverage and Lambert
shading; the canvas transform adds the global scale/rotation/placement.

The garment is drawn by *sampling* the cloth image through the garment
template's parametrisation (torso panel: u across the body, height via
matched knots shoulder/armpit/waist/hem; sleeves: t along and s across each
arm segment).  The cloth pixel coordinate each person pixel sampled is
recorded as the garment flow, so the flow is exact by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import labels as L
from .garment import SIDES, Cloth, GarmentSpec, hsv_color
from .render import Canvas, capsule, clip, cylinder_shade, similarity, soft_shadow

# whole-body pose families of sample_arms ("mixed": each arm down / bent / hand on hip / on the belly)
POSES = ("down", "hip", "hips", "raised", "cross", "mixed")

SKIN_TONES = np.float32([
    [0.96, 0.80, 0.69], [0.92, 0.74, 0.62], [0.87, 0.68, 0.55],
    [0.80, 0.60, 0.47], [0.72, 0.52, 0.39], [0.62, 0.43, 0.31],
    [0.52, 0.35, 0.25], [0.42, 0.28, 0.20], [0.34, 0.22, 0.16],
])
HAIR_COLORS = np.float32([
    [0.06, 0.05, 0.05], [0.16, 0.11, 0.08], [0.30, 0.20, 0.12],
    [0.45, 0.31, 0.18], [0.72, 0.58, 0.36], [0.55, 0.25, 0.12],
    [0.55, 0.53, 0.52], [0.85, 0.80, 0.70],
])
EYE_COLORS = np.float32([[0.25, 0.15, 0.08], [0.12, 0.08, 0.05],
                         [0.25, 0.38, 0.55], [0.30, 0.42, 0.25]])
HAIR_STYLES = ("short", "medium", "long", "bun", "buzz", "bob")


@dataclass
class PersonSpec:
    skin: np.ndarray
    hair_color: np.ndarray
    hair_style: str
    eye_color: np.ndarray
    lip_color: np.ndarray
    hair_len: float
    bangs: bool
    part: float
    pants_color: np.ndarray
    pants_kind: str
    # body, local units
    cx: float
    neck_y: float
    sh_hw: float
    chest_hw: float
    waist_hw: float
    hip_hw: float
    neck_hw: float
    head_rx: float
    head_ry: float
    head_dy: float
    ua_len: float
    fa_len: float
    r_ua: float
    r_el: float
    r_wr: float
    # garment fit on this body
    hem_off: float
    loose0: float
    loose1: float
    sleeve_loose: float
    sleeve_frac: float
    fold_seed: int
    # pose
    arms: dict = field(default_factory=dict)  # side -> (theta_deg, bend_deg)
    head_tilt: float = 0.0  # degrees
    head_yaw: float = 0.0   # -1..1
    # placement in the frame
    scale: float = 1.0
    rot: float = 0.0
    shift: tuple = (0.0, 0.0)

    # -- derived geometry ---------------------------------------------------
    @property
    def sh_y(self):
        return self.neck_y + 0.015

    @property
    def arm_y(self):
        return self.sh_y + 0.095

    @property
    def waist_y(self):
        return self.neck_y + 0.36

    @property
    def hip_y(self):
        return self.neck_y + 0.5

    @property
    def head_c(self):
        t = np.deg2rad(self.head_tilt)
        return np.array([self.cx + np.sin(t) * self.head_dy,
                         self.neck_y - np.cos(t) * self.head_dy])

    def shoulder(self, side):
        return np.array([self.cx + side * self.sh_hw, self.sh_y])

    def arm_joints(self, side):
        th, bend = self.arms[side]
        a1, a2 = np.deg2rad(th), np.deg2rad(th - bend)
        s = self.shoulder(side)
        e = s + self.ua_len * np.array([side * np.sin(a1), np.cos(a1)])
        w = e + self.fa_len * np.array([side * np.sin(a2), np.cos(a2)])
        return s, e, w

    def body_top(self, adx):
        """Height of the shoulder line at |x - cx| (neck root -> shoulder)."""
        y0 = self.neck_y - 0.06
        y1 = self.sh_y - 0.95 * self.r_ua
        t = clip((adx - self.neck_hw) / (self.sh_hw - self.neck_hw), 0, 1)
        return y0 + (y1 - y0) * t

    def body_hw(self, y):
        return np.interp(y, [self.sh_y, self.arm_y, self.waist_y, self.hip_y],
                         [self.sh_hw, self.chest_hw, self.waist_hw, self.hip_hw]).astype(np.float32)

    @property
    def hem_y(self):
        return self.hip_y + self.hem_off

    def keypoints_local(self):
        """BODY_25 keypoints in local units, with a visibility flag."""
        kp = np.zeros((25, 2))
        vis = np.ones(25, bool)
        B = L.B25
        hc = self.head_c
        t = np.deg2rad(self.head_tilt)
        R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        def head_pt(qx, qy):
            return hc + R @ np.array([qx * self.head_rx, qy * self.head_ry])
        yaw = self.head_yaw
        kp[B["nose"]] = head_pt(0.35 * yaw, 0.32)
        kp[B["r_eye"]] = head_pt(-0.4 + 0.3 * yaw, 0.0)
        kp[B["l_eye"]] = head_pt(0.4 + 0.3 * yaw, 0.0)
        kp[B["r_ear"]] = head_pt(-0.97 + 0.25 * yaw, 0.08)
        kp[B["l_ear"]] = head_pt(0.97 + 0.25 * yaw, 0.08)
        vis[B["r_ear"]] = yaw < 0.55
        vis[B["l_ear"]] = yaw > -0.55
        kp[B["neck"]] = (self.cx, self.neck_y)
        for side, pre in ((-1, "r_"), (1, "l_")):
            s, e, w = self.arm_joints(side)
            kp[B[pre + "shoulder"]], kp[B[pre + "elbow"]], kp[B[pre + "wrist"]] = s, e, w
            hip = np.array([self.cx + side * self.hip_hw * 0.62, self.hip_y])
            knee = hip + np.array([side * 0.01, 0.26])
            ankle = knee + np.array([0.0, 0.26])
            kp[B[pre + "hip"]], kp[B[pre + "knee"]], kp[B[pre + "ankle"]] = hip, knee, ankle
            foot = {"big_toe": (side * 0.03, 0.05), "small_toe": (side * 0.06, 0.045),
                    "heel": (0.0, 0.02)}
            for k, off in foot.items():
                kp[B[pre + k]] = ankle + np.array(off)
        kp[B["mid_hip"]] = (self.cx, self.hip_y)
        return kp, vis


def sample_person(rng: np.random.Generator, pose: str | None = None) -> PersonSpec:
    U = rng.uniform
    build = U(0.88, 1.12)  # slim .. broad
    sh_hw = U(0.175, 0.205) * (0.9 + 0.1 * build)
    chest_hw = sh_hw * U(0.76, 0.84) * (0.93 + 0.07 * build)
    waist_hw = chest_hw * U(0.78, 0.97) * (0.9 + 0.1 * build)
    hip_hw = max(waist_hw * U(1.0, 1.18), chest_hw * 0.9)
    skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] * np.float32(U(0.95, 1.05, 3))
    hair_style = str(rng.choice(HAIR_STYLES, p=[0.25, 0.15, 0.25, 0.1, 0.1, 0.15]))
    hair_color = HAIR_COLORS[rng.integers(len(HAIR_COLORS))] * np.float32(U(0.9, 1.1))
    lip = clip(skin * np.float32([0.85, 0.55, 0.55]) + np.float32([0.1, 0.0, 0.02]), 0, 1)
    pants_kind = str(rng.choice(["denim", "plain", "twill"], p=[0.5, 0.3, 0.2]))
    if pants_kind == "denim":
        pants = hsv_color(U(0.58, 0.64), U(0.35, 0.7), U(0.2, 0.6))
    else:
        pants = hsv_color(U(0, 1), U(0.0, 0.45), U(0.1, 0.75))
    p = PersonSpec(
        skin=clip(skin, 0, 1), hair_color=clip(hair_color, 0, 1),
        hair_style=hair_style, eye_color=EYE_COLORS[rng.integers(len(EYE_COLORS))],
        lip_color=lip, hair_len=U(0.08, 0.25), bangs=bool(U() < 0.3), part=U(-0.5, 0.5),
        pants_color=pants, pants_kind=pants_kind,
        cx=0.375, neck_y=U(0.3, 0.32), sh_hw=sh_hw, chest_hw=chest_hw,
        waist_hw=waist_hw, hip_hw=hip_hw, neck_hw=U(0.038, 0.045) * (0.9 + 0.1 * build),
        head_rx=U(0.07, 0.077), head_ry=U(0.091, 0.099), head_dy=U(0.165, 0.177),
        ua_len=U(0.22, 0.25), fa_len=U(0.2, 0.22),
        r_ua=U(0.042, 0.05) * build, r_el=U(0.032, 0.037) * build, r_wr=U(0.023, 0.026),
        hem_off=U(-0.05, 0.05), loose0=U(1.03, 1.1), loose1=0.0,
        sleeve_loose=U(1.15, 1.4), sleeve_frac=U(0.35, 0.6),
        fold_seed=int(rng.integers(2 ** 31)),
        head_tilt=U(-5, 5), head_yaw=U(-0.3, 0.3),
        scale=U(0.92, 1.06), rot=U(-4, 4), shift=(U(-0.03, 0.03), U(-0.02, 0.025)),
    )
    p.loose1 = p.loose0 + U(0.0, 0.1)
    p.arms = sample_arms(rng, pose)
    return p


def sample_arms(rng, pose=None) -> dict:
    U = rng.uniform
    pose = pose or str(rng.choice(POSES,
                                  p=[0.28, 0.14, 0.1, 0.14, 0.2, 0.14]))
    def arm(kind):
        if kind == "down":
            return (U(4, 18), U(-5, 20))
        if kind == "hip":  # hand on the hip
            return (U(30, 45), U(65, 90))
        if kind == "belly":  # forearm in front of the waist
            return (U(25, 40), U(100, 125))
        if kind == "raised":
            return (U(95, 150), U(-10, 60))
        if kind == "cross":
            return (U(4, 14), U(100, 128))
        return (U(10, 35), U(25, 80))  # bent
    one = int(rng.choice(SIDES))
    if pose == "down":
        return {s: arm("down") for s in SIDES}
    if pose == "hips":
        return {s: arm("hip") for s in SIDES}
    if pose in ("hip", "raised", "cross"):
        return {one: arm(pose), -one: arm("down")}
    return {s: arm(str(rng.choice(["down", "bent", "hip", "belly"]))) for s in SIDES}


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------
@dataclass
class Rendered:
    image: np.ndarray      # (h, w, 3) uint8 RGB
    label: np.ndarray      # (h, w) uint8 parse ids
    flow_px: np.ndarray    # (h, w, 2) float32 cloth pixel coords (x, y)
    flow_valid: np.ndarray  # (h, w) bool
    dp: np.ndarray         # (h, w, 3) float32: I (part id), U, V in [0,1]
    keypoints: np.ndarray  # (25, 3) BODY_25 pixel x, y, confidence


def person_transform(p: PersonSpec, h: int, w: int) -> np.ndarray:
    """local -> pixel for a dataset crop of size (h, w)."""
    aspect = w / h
    piv = (p.cx, 0.55)
    dst = ((aspect / 2 + p.shift[0]) * h - 0.5, (0.55 + p.shift[1]) * h - 0.5)
    return similarity(h * p.scale, p.rot, piv, dst)


def _skin_shade(sigma, nx, ny, flat):
    if flat:
        return np.ones_like(sigma)
    return cylinder_shade(sigma, nx, ny, ambient=0.38, diffuse=0.66, spec=0.06)


def render_person(p: PersonSpec, cloth: Cloth, canvas: Canvas, flat: bool = False,
                  rng: np.random.Generator | None = None) -> Rendered:
    """Draw ``p`` wearing ``cloth`` on ``canvas`` (whose image is the
    background).  ``flat`` disables shading, shadows and noise (used to
    check the flow)."""
    rng = rng or np.random.default_rng(p.fold_seed)
    cv = canvas
    G = cloth.spec
    occ_front = np.zeros((cv.h, cv.w), np.float32)  # forearms/hands (cast shadows)

    _hair_back(cv, p, rng, flat)
    _torso_skin(cv, p, flat)
    _neck(cv, p, flat)
    _pants(cv, p, rng, flat)
    for side in SIDES:
        s, e, w = p.arm_joints(side)
        _limb(cv, p, s, e, p.r_ua, p.r_el, side, "upper", flat)
    _torso_garment(cv, p, cloth, rng, flat)
    for side in SIDES:
        if G.has_sleeves:
            _sleeve(cv, p, cloth, side, "upper", flat)
    for side in SIDES:
        s, e, w = p.arm_joints(side)
        reg = _limb(cv, p, e, w, p.r_el, p.r_wr, side, "fore", flat)
        if G.category == "long-sleeve":
            _sleeve(cv, p, cloth, side, "fore", flat)
        reg2 = _hand(cv, p, e, w, side, flat)
        for r in (reg, reg2):
            if r is not None:
                o = occ_front[r.sl]
                np.maximum(o, (cv.label[r.sl] == _arm_label(side)).astype(np.float32), out=o)
    face_cov = _head(cv, p, rng, flat)
    _hair_front(cv, p, rng, flat)

    img = cv.img
    if not flat:
        ppu = cv.ppu
        # forearms / hands shade what is behind them (torso, garment)
        sh = soft_shadow(occ_front, 0.012 * ppu, 0.018 * ppu, 0.012 * ppu)
        recv = L.in_group(cv.label, (L.UPPER_CLOTHES, L.TORSO_SKIN, L.PANTS)).astype(np.float32)
        img *= (1 - 0.45 * sh * recv * (1 - occ_front))[..., None]
        # chin shadow on the neck and collar
        sh = soft_shadow(face_cov, 0.004 * ppu, 0.02 * ppu, 0.012 * ppu)
        recv = L.in_group(cv.label, (L.UPPER_CLOTHES, L.TORSO_SKIN)).astype(np.float32)
        img *= (1 - 0.5 * sh * recv)[..., None]
        # person on the background
        sh = soft_shadow(cv.body, 0.025 * ppu, 0.015 * ppu, 0.03 * ppu)
        bg = (cv.label == L.BACKGROUND).astype(np.float32)
        img *= (1 - 0.28 * sh * bg)[..., None]
        img += 0.008 * rng.standard_normal(img.shape, dtype=np.float32)
    out = clip(img * 255 + 0.5, 0, 255).astype(np.uint8)

    kp_local, vis = p.keypoints_local()
    kp = np.zeros((25, 3), np.float32)
    px = cv.to_px(kp_local)
    conf = rng.uniform(0.7, 0.95, 25)
    for i in range(25):
        x, y = px[i]
        if vis[i] and 0 <= x <= cv.w - 1 and 0 <= y <= cv.h - 1:
            kp[i] = (x, y, conf[i])
    return Rendered(out, cv.label, cv.flow, cv.fvalid, cv.dp, kp)


def _arm_label(side):
    return L.RIGHT_ARM if side < 0 else L.LEFT_ARM


def _dp(I, U, V):
    return np.stack([np.full_like(U, I), clip(U, 0, 1), clip(V, 0, 1)], -1)


def _limb(cv, p, a, b, ra, rb, side, seg, flat):
    reg = cv.region([a, b], max(ra, rb) + 0.01)
    if reg is None:
        return None
    t, e, r, sd = capsule(reg, a, b, ra, rb)
    cov = cv.aa(sd)
    d = (np.asarray(b) - np.asarray(a))
    d = d / max(np.linalg.norm(d), 1e-6)
    sig = e / r
    col = np.float32(p.skin) * _skin_shade(sig, -d[1], d[0], flat)[..., None]
    I = {("upper", -1): L.DP_RIGHT_UPPER_ARM, ("upper", 1): L.DP_LEFT_UPPER_ARM,
         ("fore", -1): L.DP_RIGHT_LOWER_ARM, ("fore", 1): L.DP_LEFT_LOWER_ARM}[(seg, side)]
    cv.put(reg, cov, col, _arm_label(side), dp=_dp(I, t, (sig + 1) / 2))
    return reg


def _hand(cv, p, e, w, side, flat):
    d = np.asarray(w) - np.asarray(e)
    d = d / max(np.linalg.norm(d), 1e-6)
    n = np.array([-d[1], d[0]])
    palm_a = w + 0.005 * d
    palm_b = w + 0.05 * d
    fing_b = w + 0.085 * d + side * 0.004 * n
    thumb_a = w + 0.015 * d + side * 0.016 * n
    thumb_b = w + 0.05 * d + side * 0.03 * n
    reg = cv.region([w, fing_b, thumb_b], 0.04)
    if reg is None:
        return None
    t1, e1, r1, sd1 = capsule(reg, palm_a, palm_b, p.r_wr * 1.05, p.r_wr * 1.2)
    _, _, _, sd2 = capsule(reg, palm_b, fing_b, p.r_wr * 1.05, p.r_wr * 0.75)
    _, _, _, sd3 = capsule(reg, thumb_a, thumb_b, p.r_wr * 0.45, p.r_wr * 0.38)
    sd = np.maximum(np.maximum(sd1, sd2), sd3)
    cov = cv.aa(sd)
    sig = clip(e1 / (p.r_wr * 1.2), -1, 1)
    shade = _skin_shade(sig, n[0], n[1], flat)
    if not flat:  # finger gaps
        tt = (reg.X - palm_b[0]) * d[0] + (reg.Y - palm_b[1]) * d[1]
        gaps = np.abs(np.sin(e1 / (p.r_wr * 0.5) * np.pi)) ** 8 * (tt > 0) * 0.25
        shade = shade * (1 - gaps)
    col = np.float32(p.skin) * shade[..., None]
    I = L.DP_RIGHT_HAND if side < 0 else L.DP_LEFT_HAND
    cv.put(reg, cov, col, _arm_label(side), dp=_dp(I, clip(t1, 0, 1), (sig + 1) / 2))
    return reg


def _torso_skin(cv, p, flat):
    top_n = p.neck_y - 0.06
    pts = []
    for side in (-1, 1):
        half = [(p.neck_hw, top_n), (p.sh_hw, p.sh_y - 0.95 * p.r_ua),
                (p.sh_hw + 0.6 * p.r_ua, p.sh_y), (p.chest_hw, p.arm_y),
                (p.waist_hw, p.waist_y), (p.hip_hw, p.hip_y), (p.hip_hw, 1.4)]
        if side < 0:
            half = half[::-1]
        pts += [(p.cx + side * x, y) for x, y in half]
    poly = np.array(pts)
    reg = cv.region(poly[poly[:, 1] < 1.3], 0.02)
    if reg is None:
        return
    cov = cv.poly_cov(reg, [poly])
    sig = (reg.X - p.cx) / p.body_hw(reg.Y)
    col = np.float32(p.skin) * _skin_shade(sig, 1, 0, flat)[..., None]
    if not flat:  # collarbones
        yb = p.neck_y + 0.012 + 0.02 * np.abs(sig)
        cb = np.exp(-((reg.Y - yb) / 0.006) ** 2) * (np.abs(sig) < 0.55) * (np.abs(sig) > 0.08)
        col *= (1 - 0.18 * cb)[..., None]
    cv.put(reg, cov, col, L.TORSO_SKIN,
           dp=_dp(L.DP_TORSO, (sig + 1) / 2, (reg.Y - top_n) / (p.hip_y - top_n)))


def _neck(cv, p, flat):
    hc = p.head_c
    a = hc + np.array([0, p.head_ry * 0.3])
    b = np.array([p.cx, p.neck_y - 0.02])
    reg = cv.region([a, b], p.neck_hw + 0.01)
    if reg is None:
        return
    t, e, r, sd = capsule(reg, a, b, p.neck_hw * 0.95, p.neck_hw * 1.08, caps=False)
    cov = cv.aa(sd)
    sig = e / r
    col = np.float32(p.skin) * _skin_shade(-sig, 1, 0, flat)[..., None]
    cv.put(reg, cov, col, L.TORSO_SKIN, dp=_dp(L.DP_TORSO, (1 - sig) / 2, t * 0.1))


def _pants(cv, p, rng, flat):
    top = p.waist_y + 0.05
    cr = p.hip_y + 0.11
    pts = [(-p.waist_hw * 1.03, top), (-p.hip_hw * 1.06, p.hip_y), (-p.hip_hw * 1.02, 1.4),
           (-0.01, 1.4), (0.0, cr), (0.01, 1.4), (p.hip_hw * 1.02, 1.4),
           (p.hip_hw * 1.06, p.hip_y), (p.waist_hw * 1.03, top)]
    poly = np.array([(p.cx + x, y) for x, y in pts])
    reg = cv.region(poly[poly[:, 1] < 1.3], 0.02)
    if reg is None:
        return
    cov = cv.poly_cov(reg, [poly])
    dx = reg.X - p.cx
    hw = p.hip_hw * 1.04
    below = clip((reg.Y - (cr - 0.08)) / 0.08, 0, 1)
    leg_sig = (np.abs(dx) - hw / 2) / (hw / 2) * np.sign(dx)
    sig = (1 - below) * dx / hw + below * leg_sig
    col = np.empty(reg.shape + (3,), np.float32)
    col[:] = np.float32(p.pants_color)
    if not flat:
        shade = cylinder_shade(sig, 1, 0, ambient=0.4, diffuse=0.62)
        hh, ww = reg.shape
        if p.pants_kind == "denim":
            n = cv2.resize(rng.standard_normal((max(2, hh // 2), max(2, ww // 2))).astype(np.float32),
                           (ww, hh))
            shade = shade * (1 + 0.06 * n)
        fly = np.exp(-(dx / 0.004) ** 2) * (reg.Y < cr) * 0.25
        crease = np.exp(-((reg.Y - top - 0.012) / 0.004) ** 2) * 0.3  # waistband seam
        shade = shade * (1 - fly - crease)
        col *= shade[..., None]
    I = np.where(reg.Y < p.hip_y, L.DP_TORSO,
                 np.where(dx < 0, L.DP_RIGHT_UPPER_LEG, L.DP_LEFT_UPPER_LEG))
    dp = np.stack([I.astype(np.float32), clip((reg.Y - top) / 0.5, 0, 1),
                   clip((sig + 1) / 2, 0, 1)], -1)
    cv.put(reg, cov, col, L.PANTS, dp=dp)


def _folds(rng_seed, U, V, n=4, amp=0.09):
    """Low-frequency fold shading over garment coordinates."""
    r = np.random.default_rng(rng_seed)
    out = np.zeros_like(U)
    for _ in range(n):
        th = r.uniform(-1.2, 1.2) + np.pi / 2 * (r.uniform() < 0.3)
        f = r.uniform(1.5, 4.0)
        ph = r.uniform(0, 2 * np.pi)
        out += np.sin(2 * np.pi * f * (U * np.cos(th) + V * np.sin(th)) + ph)
    return 1 + amp * out / np.sqrt(n)


def _garment_colour(cloth: Cloth, mx, my):
    """The flat garment texture sampled at cloth pixel coordinates (the flow)."""
    tex = cv2.remap(cloth.tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return tex


def _torso_garment(cv, p, cloth, rng, flat):
    G: GarmentSpec = cloth.spec
    hem = p.hem_y
    wmax = max(p.sh_hw, p.hip_hw) * p.loose1 + 0.03
    box = [(p.cx - wmax, p.neck_y - 0.09), (p.cx + wmax, hem + 0.04)]
    reg = cv.region(box, 0.0)
    if reg is None:
        return
    X, Y = reg.X, reg.Y
    dx = X - p.cx
    lo = p.loose0 + (p.loose1 - p.loose0) * clip((Y - p.arm_y) / (hem - p.arm_y), 0, 1)
    pw = p.body_hw(Y) * lo
    u = dx / pw
    au = np.abs(u)
    ptop = p.body_top(np.abs(dx)) - 0.004
    ct = G.ctop(au)
    pa, pwst = p.arm_y, p.waist_y
    yc = np.where(Y < pa, ct + (Y - ptop) * (G.arm_y - ct) / (pa - ptop),
                  np.where(Y < pwst, G.arm_y + (Y - pa) * (G.waist_y - G.arm_y) / (pwst - pa),
                           G.waist_y + (Y - pwst) * (G.hem_y - G.waist_y) / (hem - pwst)))
    if not flat:  # gentle drape: the fabric sways a little below the chest
        wv = clip((Y - pa) / (hem - pa), 0, 1)
        r = np.random.default_rng(p.fold_seed + 1)
        yc = yc + 0.006 * wv * np.sin(2 * np.pi * (r.uniform(1.5, 3) * u + r.uniform(0, 6)))
    xc = u * G.cw(yc)
    m = cloth.tpl_to_px
    mx = (m[0, 0] * xc + m[0, 2]).astype(np.float32)
    my = (m[1, 1] * yc + m[1, 2]).astype(np.float32)
    cov = cv2.remap(cloth.cov_torso, mx, my, cv2.INTER_LINEAR, borderValue=0)
    col = _garment_colour(cloth, mx, my)
    if not flat:
        shade = cylinder_shade(clip(u, -1, 1) * 0.92, 1, 0, ambient=0.5, diffuse=0.52)
        vv = (Y - p.neck_y) / (hem - p.neck_y)
        shade = shade * _folds(p.fold_seed, u, vv * 2.5, amp=0.07)
        # collar rolls over the neck: darker just inside the neckline
        col = col * shade[..., None]
    cv.put(reg, cov, col, L.UPPER_CLOTHES, flow=np.stack([mx, my], -1))


def _sleeve(cv, p, cloth, side, seg, flat):
    G: GarmentSpec = cloth.spec
    s, e, w = p.arm_joints(side)
    Ls = p.sleeve_loose
    if seg == "upper":
        a, b, ra, rb = s, e, p.r_ua, p.r_el
    else:
        a, b, ra, rb = e, w, p.r_el, p.r_wr
        Ls = Ls * 0.95
    reg = cv.region([a, b], max(ra, rb) * Ls + 0.01)
    if reg is None:
        return
    t, ee, r, _ = capsule(reg, a, b, ra, rb)
    # the sleeve hugs the shoulder and opens up towards the cuff
    grow = clip(t / 0.3, 0, 1) if seg == "upper" else np.float32(1.0)
    grow = grow * grow * (3 - 2 * grow)
    r = r * (1 + (Ls - 1) * grow)
    ra_s = ra if seg == "upper" else ra * Ls
    sd = r - np.abs(ee)
    sd = np.where(t < 0, ra_s - np.hypot(reg.X - a[0], reg.Y - a[1]),
                  np.where(t > 1, rb * Ls - np.hypot(reg.X - b[0], reg.Y - b[1]), sd))
    tau0 = -1.0 * p.r_ua
    if G.category == "long-sleeve":
        total = (p.ua_len - tau0) + 0.97 * p.fa_len
        tau = t * (p.ua_len if seg == "upper" else p.fa_len)
        tc = (tau - tau0) / total if seg == "upper" else (p.ua_len - tau0 + tau) / total
    else:
        lam = p.sleeve_frac * p.ua_len
        tc = (t * p.ua_len - tau0) / (lam - tau0)
    sig_out = ee * (-side) / r  # r already includes the looseness
    sc = -sig_out
    xc, yc = G.sleeve_point(side, tc, sc)
    m = cloth.tpl_to_px
    mx = (m[0, 0] * xc + m[0, 2]).astype(np.float32)
    my = (m[1, 1] * yc + m[1, 2]).astype(np.float32)
    cov = cv2.remap(cloth.cov_sleeve[side], mx, my, cv2.INTER_LINEAR, borderValue=0)
    cov = cov * cv.aa(sd + 0.002)
    col = _garment_colour(cloth, mx, my)
    if not flat:
        d = (np.asarray(b) - np.asarray(a))
        d = d / max(np.linalg.norm(d), 1e-6)
        shade = cylinder_shade(ee / r * 0.95, -d[1], d[0], ambient=0.5, diffuse=0.52)
        if G.category == "long-sleeve":  # bunching rings along the sleeve
            ring = np.sin(2 * np.pi * tc * 9 + p.fold_seed % 7) ** 2
            shade = shade * (1 - 0.07 * ring)
        col = col * shade[..., None]
    cv.put(reg, cov, col, L.UPPER_CLOTHES, flow=np.stack([mx, my], -1))


# -- head --------------------------------------------------------------------
def _head_frame(p):
    t = np.deg2rad(p.head_tilt)
    return p.head_c, np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def _head_coords(reg, p):
    hc, R = _head_frame(p)
    dx, dy = reg.X - hc[0], reg.Y - hc[1]
    qx = (R[0, 0] * dx + R[1, 0] * dy) / p.head_rx
    qy = (R[0, 1] * dx + R[1, 1] * dy) / p.head_ry
    return qx, qy


def _head(cv, p, rng, flat):
    hc, R = _head_frame(p)
    reg = cv.region([hc], max(p.head_rx, p.head_ry) * 1.4)
    if reg is None:
        return np.zeros((cv.h, cv.w), np.float32)
    qx, qy = _head_coords(reg, p)
    skin = np.float32(p.skin)
    yaw = p.head_yaw
    # ears
    for side in (-1, 1):
        ex, ey = side * 0.97 + 0.25 * yaw, 0.08
        sd = (1 - np.sqrt(((qx - ex) / 0.2) ** 2 + ((qy - ey) / 0.3) ** 2)) * 0.2 * p.head_rx
        cov = cv.aa(sd)
        shade = 1.0 if flat else 0.78 + 0.12 * clip(1 - np.abs(qx - ex) / 0.2, 0, 1)
        cv.put(reg, cov, skin * np.asarray(shade, np.float32)[..., None] if not flat else skin,
               L.FACE, body=True)
    # face: egg-shaped ellipse, narrower at the jaw
    jaw = 1 - 0.16 * clip(qy, 0, 1) ** 1.6
    rr = np.sqrt((qx / jaw) ** 2 + qy ** 2)
    sd = (1 - rr) * min(p.head_rx, p.head_ry)
    cov = cv.aa(sd)
    if flat:
        col = np.broadcast_to(skin, reg.shape + (3,))
    else:
        nx = clip(qx / jaw, -0.99, 0.99)
        ny = clip(qy, -0.99, 0.99)
        nz = np.sqrt(clip(1 - nx ** 2 - ny ** 2, 0.0, 1))
        ndl = nx * 0.75 * (-0.32) + ny * 0.6 * (-0.48) + nz * 0.82
        shade = (0.4 + 0.62 * clip(ndl, 0, 1)) * (0.72 + 0.28 * nz)
        col = skin * shade[..., None]
    side_I = np.where(qx < 0, L.DP_HEAD_RIGHT, L.DP_HEAD_LEFT).astype(np.float32)
    dp = np.stack([side_I, clip((qx + 1) / 2, 0, 1), clip((qy + 1) / 2, 0, 1)], -1)
    cv.put(reg, cov, col, L.FACE, dp=dp)
    face_cov = np.zeros((cv.h, cv.w), np.float32)
    face_cov[reg.sl] = cov
    if not flat:
        _face_features(cv, p, reg, qx, qy, cov)
    return face_cov


def _face_features(cv, p, reg, qx, qy, face_cov):
    """Eyes, brows, nose, mouth: soft shapes in head coordinates (they make
    the face recognisable to a frontal-face Haar cascade)."""
    yaw = p.head_yaw
    img = cv.img[reg.sl]
    ppu = cv.ppu
    px_per_q = p.head_rx * ppu  # pixels per unit of qx
    soft = 1.0 / max(px_per_q, 1e-3)  # one pixel in head units

    def ell(cx, cy, rx, ry):
        r = np.sqrt(((qx - cx) / rx) ** 2 + ((qy - cy) / ry) ** 2)
        return clip((1 - r) * min(rx, ry) / soft + 0.5, 0, 1)

    def blend(mask, color, alpha=1.0):
        a = (mask * alpha * face_cov)[..., None]
        img[...] = img * (1 - a) + np.float32(color) * a

    def darken(mask, k):
        img[...] = img * (1 - k * (mask * face_cov)[..., None])

    skin = np.float32(p.skin)
    hair = np.float32(p.hair_color)
    sh = 0.3 * yaw
    # brow ridge / eye band shadow, and a lit nose bridge between the eyes
    band = np.exp(-(((qy + 0.04) / 0.16) ** 2)) * np.clip(1 - (np.abs(qx - sh) / 0.85) ** 4, 0, 1)
    darken(band, 0.18)
    bridge = np.exp(-(((qx - sh * 0.9) / 0.09) ** 2)) * np.exp(-(((qy - 0.1) / 0.25) ** 2))
    img[...] = img + (0.12 * bridge * face_cov)[..., None] * (1.0 - img)
    for side in (-1, 1):
        ex = side * 0.4 + sh
        squash = 1 - 0.25 * max(0.0, -side * yaw)
        # eye socket shadow
        sock = np.exp(-(((qx - ex) / 0.3) ** 2 + ((qy + 0.05) / 0.2) ** 2))
        darken(sock, 0.38)
        # white of the eye, iris, pupil
        white = ell(ex, 0.0, 0.2 * squash, 0.09)
        blend(white, (0.8, 0.78, 0.75))
        iris = ell(ex + 0.04 * yaw, 0.005, 0.115, 0.115) * white
        blend(iris, p.eye_color * 0.8)
        pupil = ell(ex + 0.04 * yaw, 0.005, 0.05, 0.05) * white
        blend(pupil, (0.02, 0.02, 0.02))
        glint = ell(ex + 0.04 * yaw + 0.025, -0.02, 0.018, 0.018) * white
        blend(glint, (1, 1, 1), 0.8)
        # upper lid / lashes
        lid = ell(ex, -0.005, 0.225 * squash, 0.11) * (1 - ell(ex, 0.015, 0.2 * squash, 0.095))
        lid = lid * (qy < 0.01)
        blend(lid, (0.05, 0.04, 0.03), 0.95)
        # eyebrow: a thick arc
        bx = side * 0.42 + sh
        arc = ell(bx, -0.17, 0.28, 0.14) * (1 - ell(bx, -0.11, 0.27, 0.13))
        arc = arc * (qy < -0.2)
        blend(arc, hair * 0.5 + 0.02, 0.95)
    # nose: shadow along one side, under the tip, nostrils
    nx0 = 0.3 * yaw
    side_sh = np.exp(-(((qx - nx0 - 0.11) / 0.05) ** 2)) * clip((qy + 0.05) / 0.35, 0, 1) * (qy < 0.35)
    darken(side_sh, 0.22)
    under = np.exp(-(((qx - nx0) / 0.16) ** 2 + ((qy - 0.4) / 0.045) ** 2))
    darken(under, 0.3)
    for side in (-1, 1):
        nos = ell(nx0 + side * 0.075, 0.37, 0.05, 0.028)
        blend(nos, skin * 0.3, 0.85)
    # mouth
    mx = 0.22 * yaw
    lips = ell(mx, 0.6, 0.31, 0.1)
    blend(lips, p.lip_color * 0.9, 0.95)
    line = ell(mx, 0.59, 0.31, 0.025)
    blend(line, p.lip_color * 0.3, 0.95)
    # chin / under-lip shadow
    darken(np.exp(-(((qx - mx) / 0.22) ** 2 + ((qy - 0.76) / 0.05) ** 2)), 0.15)


def _hairline(qx, p):
    if p.bangs:
        base = -0.34 + 0.04 * np.sin(qx * 9)
    else:
        base = -0.6 + 0.08 * np.tanh((qx - p.part) * 3)
    return base + 0.6 * clip(np.abs(qx), 0, 1.2) ** 2.2


def _hair_texture(shape, rng, color, qx, qy, flat):
    if flat:
        return np.broadcast_to(np.float32(color), shape + (3,))
    hh, ww = shape
    n = cv2.resize(rng.standard_normal((4, max(4, ww // 2))).astype(np.float32), (ww, hh),
                   interpolation=cv2.INTER_CUBIC)
    shine = np.exp(-((qy + 0.55 - 0.1 * qx ** 2) / 0.18) ** 2) * 0.35
    shade = (0.72 + 0.18 * n + shine) * (0.85 + 0.15 * clip(1 - np.abs(qx) / 1.3, 0, 1))
    return np.float32(color) * shade[..., None] + 0.03 * shine[..., None]


def _hair_back(cv, p, rng, flat):
    if p.hair_style not in ("long",):
        return
    hc, R = _head_frame(p)
    bottom = p.neck_y + p.hair_len
    reg = cv.region([hc - (0.12, 0.12), (hc[0] + 0.12, bottom + 0.02)], 0.02)
    if reg is None:
        return
    qx, qy = _head_coords(reg, p)
    wq = 1.25 + 0.15 * clip(qy - 1, 0, 2)
    sd_side = (wq - np.abs(qx)) * p.head_rx
    sd_bot = bottom - reg.Y
    sd_top = (1 - np.sqrt((qx / 1.18) ** 2 + ((qy + 0.05) / 1.1) ** 2)) * p.head_ry
    sd = np.minimum(sd_side, sd_bot)
    sd = np.where(qy < 0, np.minimum(sd, sd_top), sd)
    cov = cv.aa(sd)
    col = _hair_texture(reg.shape, rng, p.hair_color * 0.85, qx, qy, flat)
    cv.put(reg, cov, col, L.HAIR)


def _hair_front(cv, p, rng, flat):
    hc, R = _head_frame(p)
    reg = cv.region([hc], max(p.head_rx, p.head_ry) * 1.6 + (0.06 if p.hair_style in ("long", "bob", "medium") else 0))
    if reg is None:
        return
    qx, qy = _head_coords(reg, p)
    style = p.hair_style
    vol = {"buzz": 1.03, "short": 1.1, "medium": 1.14, "long": 1.14, "bun": 1.08, "bob": 1.18}[style]
    cap = (1 - np.sqrt((qx / vol) ** 2 + ((qy + 0.05) / (vol - 0.02)) ** 2)) * p.head_ry
    if style in ("medium", "long", "bob"):
        down = {"medium": 0.55, "bob": 0.75, "long": 1.1}[style]
        sd_sides = np.minimum((vol + 0.05 - np.abs(qx)) * p.head_rx, (down - qy) * p.head_ry)
        shape = np.where(qy > -0.05, np.maximum(cap, sd_sides), cap)
    else:
        shape = cap
    if style == "bun":
        bun = (0.36 - np.sqrt(qx ** 2 + (qy + 1.12) ** 2)) * p.head_ry
        shape = np.maximum(shape, bun)
    # keep the face visible below the hairline
    jaw = 1 - 0.16 * clip(qy, 0, 1) ** 1.6
    face = np.sqrt((qx / jaw) ** 2 + qy ** 2) < 1.0
    below = qy > _hairline(qx, p)
    inner_w = 0.8 if style in ("medium", "long", "bob") else 2.0
    clear = face & below & ((np.abs(qx) < inner_w) | (qy < 0.1))
    if style in ("short", "buzz", "bun"):
        clear = clear | (below & (qy > -0.1))
    sd = np.where(clear, np.minimum(shape, -0.5 / max(cv.ppu, 1)), shape)
    cov = cv.aa(sd)
    color = p.hair_color if style != "buzz" else p.hair_color * 0.6 + np.float32(p.skin) * 0.4
    col = _hair_texture(reg.shape, rng, color, qx, qy, flat)
    cv.put(reg, cov, col, L.HAIR)
