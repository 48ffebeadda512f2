"""Garments: a flat shop-style template, its textures and the cloth image.

A garment is described in *template units* (x centred on 0, y = 0 on the
neck line, 1.0 ~ the cloth image height) by a few knots: the panel's half
width at the shoulder, armpit, waist and hem, the neckline, and (except tank
tops) two sleeve quads attached to the panel between shoulder point and
armpit.  The same template gives

* the cloth image: the panel and sleeves filled with a texture on a near-white
  background (:func:`render_cloth`), and
* the parametrisation the person renderer uses to put the garment on a body:
  ``torso_point(u, y)`` (u in [-1, 1] across the panel) and
  ``sleeve_point(side, t, s)`` (t along the sleeve, s across it).

Because the person renderer samples the cloth through these functions, the
person->cloth correspondence (``garment-flow``) is exact by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .render import clip, smooth_noise, unit_grid

CATEGORIES = ("t-shirt", "long-sleeve", "tank-top")
SIDES = (-1, 1)  # -1: the wearer's right (image left), +1: the wearer's left

PART_TORSO, PART_SLEEVE_R, PART_SLEEVE_L, PART_BACK = 1, 2, 3, 4

PATTERNS = ("solid", "stripes", "checks", "dots", "gradient", "noise", "camo")
WORDS = ("MGVTON", "SUMMER", "LAB 26", "NYC", "TOKYO", "RUN CLUB", "HELLO",
         "OCEAN", "STUDIO", "BERLIN", "NO.7", "WILD", "VTON", "ATHLETIC",
         "MOUNTAIN", "COFFEE", "1994", "PARIS", "SURF", "ROCK")


def hsv_color(h, s, v):
    """HSV in [0,1] -> RGB float in [0,1]."""
    px = np.uint8([[[int(h * 179) % 180, int(s * 255), int(v * 255)]]])
    return cv2.cvtColor(px, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0


def random_color(rng, kind=None):
    kind = kind or rng.choice(["neutral", "muted", "vivid", "dark", "light"],
                              p=[0.2, 0.25, 0.25, 0.18, 0.12])
    h = rng.uniform()
    if kind == "neutral":
        return hsv_color(h, rng.uniform(0, 0.12), rng.uniform(0.15, 0.92))
    if kind == "muted":
        return hsv_color(h, rng.uniform(0.2, 0.5), rng.uniform(0.35, 0.8))
    if kind == "vivid":
        return hsv_color(h, rng.uniform(0.6, 0.95), rng.uniform(0.55, 0.95))
    if kind == "dark":
        return hsv_color(h, rng.uniform(0.2, 0.8), rng.uniform(0.12, 0.35))
    return hsv_color(h, rng.uniform(0.05, 0.3), rng.uniform(0.8, 0.93))


def contrast_color(rng, base):
    """A colour that stands out against ``base`` (for patterns and prints)."""
    for _ in range(20):
        c = random_color(rng)
        if np.abs(c - base).sum() > 0.6:
            return c
    return np.float32([1.0, 1.0, 1.0]) - base


@dataclass
class GarmentSpec:
    category: str
    nk: float           # neck half width
    sh_y: float         # shoulder point height (neck line is y = 0)
    sh_hw: float        # shoulder point half width
    arm_y: float
    arm_hw: float
    waist_y: float
    waist_hw: float
    hem_y: float
    hem_hw: float
    neckline: str       # crew | v | scoop
    neck_depth: float
    back_depth: float
    strap_w: float = 0.0       # tank tops
    armhole_drop: float = 0.0  # tank tops: armhole bottom below arm_y
    sleeve_alpha: float = 0.0  # radians below horizontal
    sleeve_len: float = 0.0
    sleeve_taper: float = 1.0
    fit_jitter: tuple = (1.0, 0.0, 0.0)
    texture: dict = field(default_factory=dict)
    seed: int = 0

    # -- shape ------------------------------------------------------------
    @property
    def has_sleeves(self) -> bool:
        return self.category != "tank-top"

    def cw(self, y):
        """Panel half width at template height y (clamped at the ends)."""
        r = np.interp(y, [self.sh_y, self.arm_y, self.waist_y, self.hem_y],
                      [self.sh_hw, self.arm_hw, self.waist_hw, self.hem_hw])
        return r.astype(np.float32) if isinstance(r, np.ndarray) else r

    def ctop(self, au):
        """Height of the panel's top edge at |u| (u = x / shoulder half width)."""
        r = self.nk / self.sh_hw
        return np.where(au <= r, 0.0, (au - r) / (1 - r) * self.sh_y)

    def torso_point(self, u, y):
        return u * self.cw(y), y

    def sleeve_quad(self, side: int) -> np.ndarray:
        """Sleeve corners: seam outer (shoulder point), cuff outer, cuff inner,
        seam inner (armpit), template units."""
        so = np.array([side * self.sh_hw, self.sh_y])
        si = np.array([side * self.arm_hw, self.arm_y])
        d = np.array([side * np.cos(self.sleeve_alpha), np.sin(self.sleeve_alpha)])
        n = np.array([-d[1], d[0]])
        if np.dot(n, so - si) < 0:
            n = -n
        hl = 0.5 * np.linalg.norm(so - si)
        cc = 0.5 * (so + si) + self.sleeve_len * d
        co = cc + n * hl * self.sleeve_taper
        ci = cc - n * hl * self.sleeve_taper
        return np.stack([so, co, ci, si])

    def sleeve_point(self, side, t, s):
        """Bilinear point of the sleeve quad: t in [0,1] seam->cuff, s in
        [-1, 1] outer (shoulder line) -> inner (underarm)."""
        so, co, ci, si = self.sleeve_quad(side)
        w = (s + 1) * 0.5
        sx = so[0] + w * (si[0] - so[0])
        sy = so[1] + w * (si[1] - so[1])
        cx = co[0] + w * (ci[0] - co[0])
        cy = co[1] + w * (ci[1] - co[1])
        return sx + t * (cx - sx), sy + t * (cy - sy)

    def panel_polygon(self, n=24) -> np.ndarray:
        """Outline of the front panel (top edge = back neck line)."""
        xs = np.linspace(-self.nk, self.nk, n)
        back = np.stack([xs, self.back_depth * (1 - (xs / self.nk) ** 2)], 1)
        ys = np.linspace(self.sh_y, self.hem_y, n)
        right = np.stack([self.cw(ys), ys], 1)
        left = np.stack([-self.cw(ys[::-1]), ys[::-1]], 1)
        pts = [np.array([[-self.sh_hw, self.sh_y]]), back,
               np.array([[self.sh_hw, self.sh_y]]), right,
               self._hem_curve(), left]
        return np.concatenate(pts, 0)

    def _hem_curve(self, n=12):
        xs = np.linspace(self.hem_hw, -self.hem_hw, n)
        return np.stack([xs, self.hem_y + 0.012 * (1 - (xs / self.hem_hw) ** 2)], 1)

    def neckline_polygon(self, extra=0.0, n=24) -> np.ndarray:
        """Front neckline cut (grown by ``extra`` for the collar band)."""
        nk, dep = self.nk + extra, self.neck_depth + extra
        xs = np.linspace(-nk, nk, n)
        if self.neckline == "v":
            ys = dep * (1 - np.abs(xs / nk)) ** 1.15
        else:
            ys = dep * np.sqrt(clip(1 - (xs / nk) ** 2, 0, 1))
        top = -0.2
        return np.concatenate([[[-nk, top]], np.stack([xs, ys], 1), [[nk, top]]], 0)

    def armhole_polygons(self):
        """Tank top: regions cut away from the panel at each shoulder."""
        polys = []
        x_in = self.nk + self.strap_w
        y_bot = self.arm_y + self.armhole_drop
        for side in SIDES:
            ts = np.linspace(0, 1, 16)
            # quarter-ellipse from the strap's outer edge to the side seam
            xo = self.cw(y_bot) + 0.02
            xs = x_in + (xo - x_in) * (1 - np.cos(ts * np.pi / 2))
            ys = -0.05 + (y_bot + 0.05) * np.sin(ts * np.pi / 2)
            pts = np.concatenate([[[x_in, -0.2]], np.stack([xs, ys], 1),
                                  [[xo + 0.1, y_bot], [xo + 0.1, -0.2]]], 0)
            pts[:, 0] *= side
            polys.append(pts)
        return polys

    def outline_points(self) -> np.ndarray:
        pts = [self.panel_polygon()]
        if self.has_sleeves:
            pts += [self.sleeve_quad(s) for s in SIDES]
        return np.concatenate(pts, 0)

    def fit(self, aspect: float):
        """Template -> cloth-local (units of cloth height) as (g, ox, oy):
        the garment centred, filling the portrait frame like VITON-HD."""
        pts = self.outline_points()
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        wid = 2 * max(abs(x0), abs(x1))
        hgt = y1 - y0
        g = min(0.84 / hgt, 0.9 * aspect / wid) * self.fit_jitter[0]
        ox = aspect / 2 + self.fit_jitter[1]
        oy = (1 - g * hgt) / 2 - g * y0 + self.fit_jitter[2]
        return g, ox, oy


def sample_garment(rng: np.random.Generator, category: str | None = None,
                   texture: dict | None = None) -> GarmentSpec:
    category = category or rng.choice(CATEGORIES, p=[0.45, 0.3, 0.25])
    U = rng.uniform
    long_ = category == "long-sleeve"
    sh_hw = U(0.17, 0.2) if long_ else U(0.18, 0.22)
    arm_hw = sh_hw * U(0.82, 0.9)
    spec = GarmentSpec(
        category=str(category),
        nk=U(0.06, 0.08), sh_y=U(0.03, 0.05), sh_hw=sh_hw,
        arm_y=U(0.21, 0.26), arm_hw=arm_hw,
        waist_y=U(0.45, 0.5), waist_hw=arm_hw * U(0.9, 1.0),
        hem_y=U(0.7, 0.8), hem_hw=arm_hw * U(0.95, 1.08),
        neckline=str(rng.choice(["crew", "crew", "v", "scoop"])),
        neck_depth=0.0, back_depth=U(0.01, 0.02),
        fit_jitter=(U(0.93, 1.0), U(-0.01, 0.01), U(-0.01, 0.01)),
        seed=int(rng.integers(2 ** 31)),
    )
    spec.neck_depth = {"crew": U(0.035, 0.06), "v": U(0.1, 0.16),
                       "scoop": U(0.07, 0.11)}[spec.neckline]
    if category == "tank-top":
        spec.neckline = "scoop" if rng.uniform() < 0.7 else spec.neckline
        spec.neck_depth = max(spec.neck_depth, U(0.08, 0.13))
        spec.strap_w = U(0.03, 0.06)
        spec.armhole_drop = U(0.0, 0.05)
    elif category == "t-shirt":
        spec.sleeve_alpha = np.deg2rad(U(25, 45))
        spec.sleeve_len = U(0.12, 0.2)
        spec.sleeve_taper = U(0.75, 0.95)
    else:
        spec.sleeve_len = U(0.5, 0.6)
        spec.sleeve_taper = U(0.55, 0.7)
        alpha = U(64, 78)
        spec.sleeve_alpha = np.deg2rad(alpha)
        while not _sleeve_clear(spec) and alpha > 40:  # keep sleeves off the panel
            alpha -= 2
            spec.sleeve_alpha = np.deg2rad(alpha)
    spec.texture = texture if texture is not None else sample_texture(rng)
    return spec


def _sleeve_clear(spec: GarmentSpec) -> bool:
    so, co, ci, si = spec.sleeve_quad(1)
    for t in np.linspace(0.05, 1, 12):
        p = si + t * (ci - si)
        if p[0] < spec.cw(p[1]) + 0.012:
            return False
    return True


# --------------------------------------------------------------------------
# Textures
# --------------------------------------------------------------------------
def sample_texture(rng: np.random.Generator, pattern: str | None = None) -> dict:
    pattern = pattern or str(rng.choice(
        PATTERNS, p=[0.16, 0.26, 0.16, 0.13, 0.09, 0.1, 0.1]))
    base = random_color(rng)
    tex = {"pattern": pattern, "base": base.tolist(),
           "color2": contrast_color(rng, base).tolist(),
           "color3": random_color(rng).tolist(),
           "angle": float(rng.choice([0, 90, 45, -45, rng.uniform(-90, 90)])),
           "period": float(rng.uniform(0.02, 0.09)),
           "duty": float(rng.uniform(0.2, 0.6)),
           "grain": float(rng.uniform(0.0, 0.05)),
           "collar": str(rng.choice(["same", "dark", "contrast"], p=[0.5, 0.3, 0.2])),
           "seed": int(rng.integers(2 ** 31))}
    r = rng.uniform()
    if r < 0.22:
        tex["print"] = "text"
    elif r < 0.37:
        tex["print"] = "logo"
    elif r < 0.45:
        tex["print"] = "text+logo"
    else:
        tex["print"] = None
    tex["print_color"] = contrast_color(rng, base).tolist()
    tex["word"] = str(rng.choice(WORDS))
    tex["font"] = int(rng.choice([0, 2, 3, 4]))
    tex["logo"] = str(rng.choice(["ring", "star", "triangle", "diamond", "disc", "bars"]))
    return tex


def _square_wave(v, duty, period_px):
    """Anti-aliased 0/1 stripes of a coordinate in periods."""
    f = v - np.floor(v)
    inside = np.minimum(f, duty - f)
    outside = -np.minimum(f - duty, 1 - f)
    sd = np.where(f < duty, inside, outside) * period_px
    return clip(sd + 0.5, 0, 1).astype(np.float32)


def make_texture(tex: dict, h: int, w: int, tpl_to_px: np.ndarray, spec: GarmentSpec):
    """Flat (unshaded) garment texture over the whole (h, w) cloth image."""
    rng = np.random.default_rng(tex["seed"])
    X, Y = unit_grid(h, w)  # units of cloth height
    base = np.float32(tex["base"])
    c2 = np.float32(tex["color2"])
    c3 = np.float32(tex["color3"])
    pat = tex["pattern"]
    period = tex["period"]
    ppx = period * h
    a = np.deg2rad(tex["angle"])
    out = np.empty((h, w, 3), np.float32)
    out[:] = base
    if pat == "stripes":
        v = (X * np.cos(a) + Y * np.sin(a)) / period
        m = _square_wave(v, tex["duty"], ppx)[..., None]
        out = out * (1 - m) + c2 * m
        if tex["duty"] < 0.35:  # thin accent stripe between the main ones
            m2 = _square_wave(v + 0.5, 0.08, ppx)[..., None]
            out = out * (1 - m2) + c3 * m2
    elif pat == "checks":
        m1 = _square_wave((X * np.cos(a) + Y * np.sin(a)) / period, 0.5, ppx)
        m2 = _square_wave((-X * np.sin(a) + Y * np.cos(a)) / period, 0.5, ppx)
        m = (0.5 * m1 + 0.5 * m2)[..., None]
        out = out * (1 - m) + c2 * m
        thin = _square_wave((X * np.cos(a) + Y * np.sin(a)) / period + 0.25, 0.06, ppx)
        out = out * (1 - 0.6 * thin[..., None]) + c3 * 0.6 * thin[..., None]
    elif pat == "dots":
        u = (X * np.cos(a) + Y * np.sin(a)) / period
        v = (-X * np.sin(a) + Y * np.cos(a)) / period
        v2 = v + 0.5 * (np.floor(u) % 2)  # staggered rows
        du = u - np.floor(u) - 0.5
        dv = v2 - np.floor(v2) - 0.5
        rad = 0.18 + 0.25 * tex["duty"]
        sd = (rad - np.sqrt(du * du + dv * dv)) * ppx
        m = clip(sd + 0.5, 0, 1)[..., None]
        out = out * (1 - m) + c2 * m
    elif pat == "gradient":
        t = (X * np.cos(a) + Y * np.sin(a))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        out = base * (1 - t[..., None]) + c2 * t[..., None]
    elif pat == "noise":  # photographic, multi-octave colour noise
        for c in (c2, c3):
            n = smooth_noise(rng, h, w, int(rng.integers(3, 9)), octaves=4)
            m = clip(0.5 + 0.9 * n, 0, 1)[..., None]
            out = out * (1 - 0.6 * m) + c * 0.6 * m
        out += 0.04 * rng.standard_normal((h, w, 1), dtype=np.float32)
    elif pat == "camo":
        for c in (c2, c3):
            n = smooth_noise(rng, h, w, int(rng.integers(3, 7)), octaves=3)
            m = clip((n - 0.1) * h * 0.08, 0, 1)[..., None]
            out = out * (1 - m) + c * m
    if tex["grain"] > 0:  # knit grain
        g = smooth_noise(rng, h, w, max(8, h // 3), octaves=1)
        out *= (1 + tex["grain"] * g)[..., None]

    m = tpl_to_px
    def px(pts):
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        return pts @ m[:, :2].T + m[:, 2]
    scale = float(m[0, 0])  # pixels per template unit

    # collar band around the front neckline
    band = _poly_mask(h, w, [px(spec.neckline_polygon(extra=0.012))]) \
        - _poly_mask(h, w, [px(spec.neckline_polygon())])
    band = clip(band, 0, 1)[..., None]
    if tex["collar"] == "dark":
        out = out * (1 - band) + out * 0.7 * band
    elif tex["collar"] == "contrast":
        out = out * (1 - band) + c2 * band
    else:
        out = out * (1 - 0.12 * band)
    # stitching: hem and sleeve cuffs
    stitch = np.zeros((h, w), np.uint8)
    hy = spec.hem_y - 0.02
    p = px([[-spec.hem_hw * 1.2, hy], [spec.hem_hw * 1.2, hy]])
    cv2.line(stitch, tuple(np.int32(p[0] * 16)), tuple(np.int32(p[1] * 16)), 255,
             max(1, int(scale * 0.004)), cv2.LINE_AA, shift=4)
    if spec.has_sleeves:
        for side in SIDES:
            a0 = spec.sleeve_point(side, 0.9, -1.3)
            a1 = spec.sleeve_point(side, 0.9, 1.3)
            p = px([a0, a1])
            cv2.line(stitch, tuple(np.int32(p[0] * 16)), tuple(np.int32(p[1] * 16)), 255,
                     max(1, int(scale * 0.004)), cv2.LINE_AA, shift=4)
    out *= (1 - 0.25 * stitch.astype(np.float32) / 255)[..., None]

    # chest print
    if tex.get("print"):
        pc = np.float32(tex["print_color"])
        cy = spec.neck_depth + 0.09
        if "logo" in tex["print"]:
            lm = _logo_mask(h, w, tex["logo"], px([[0.0, cy + 0.06]])[0], scale * 0.06)
            out = out * (1 - lm[..., None]) + pc * lm[..., None]
            cy += 0.14
        if "text" in tex["print"]:
            tm = _text_mask(h, w, tex["word"], tex["font"], px([[0.0, cy]])[0],
                            scale * spec.waist_hw * 1.3)
            out = out * (1 - tm[..., None]) + pc * tm[..., None]
    return clip(out, 0, 1)


def _poly_mask(h, w, polys):
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(p * 16).astype(np.int32) for p in polys], 255,
                 cv2.LINE_AA, shift=4)
    return m.astype(np.float32) / 255.0


def _text_mask(h, w, word, font, center, max_width):
    m = np.zeros((h, w), np.uint8)
    th = max(1, int(round(max_width / 70)))
    (tw, tht), _ = cv2.getTextSize(word, font, 1.0, th)
    s = max_width / max(tw, 1)
    th = max(1, int(round(th * s * 0.9)))
    (tw, tht), _ = cv2.getTextSize(word, font, s, th)
    org = (int(center[0] - tw / 2), int(center[1] + tht / 2))
    cv2.putText(m, word, org, font, s, 255, th, cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def _logo_mask(h, w, kind, center, r):
    m = np.zeros((h, w), np.uint8)
    c = np.asarray(center, np.float64)
    S = 16
    def P(pts):
        return [np.round((c + np.asarray(pts) * r) * S).astype(np.int32)]
    if kind == "ring":
        cv2.circle(m, tuple(np.int32(c * S)), int(r * S), 255, max(1, int(r * 0.3)), cv2.LINE_AA, 4)
    elif kind == "disc":
        cv2.circle(m, tuple(np.int32(c * S)), int(r * S), 255, -1, cv2.LINE_AA, 4)
    elif kind == "star":
        ang = np.linspace(-np.pi / 2, 1.5 * np.pi, 11)[:-1]
        rad = np.where(np.arange(10) % 2 == 0, 1.0, 0.42)
        cv2.fillPoly(m, P(np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)), 255, cv2.LINE_AA, 4)
    elif kind == "triangle":
        cv2.fillPoly(m, P([[0, -1], [0.95, 0.7], [-0.95, 0.7]]), 255, cv2.LINE_AA, 4)
    elif kind == "diamond":
        cv2.fillPoly(m, P([[0, -1], [0.75, 0], [0, 1], [-0.75, 0]]), 255, cv2.LINE_AA, 4)
    else:  # bars
        for k in range(3):
            y = -0.8 + k * 0.6
            cv2.fillPoly(m, P([[-1, y], [1, y], [1, y + 0.35], [-1, y + 0.35]]), 255, cv2.LINE_AA, 4)
    return m.astype(np.float32) / 255.0


# --------------------------------------------------------------------------
# Cloth image
# --------------------------------------------------------------------------
@dataclass
class Cloth:
    spec: GarmentSpec
    image: np.ndarray       # (h, w, 3) uint8 RGB, the shop image
    mask: np.ndarray        # (h, w) uint8 0/255
    tex: np.ndarray         # (h, w, 3) float32 flat texture (no shop shading)
    cov_torso: np.ndarray   # (h, w) float32 front-panel coverage
    cov_sleeve: dict        # side -> (h, w) float32 sleeve coverage
    tpl_to_px: np.ndarray   # 2x3 template -> cloth pixel

    @property
    def shape(self):
        return self.image.shape[:2]


def render_cloth(spec: GarmentSpec, h: int, w: int, shading: bool = True) -> Cloth:
    g, ox, oy = spec.fit(w / h)
    # template -> pixel centres: px = h * (g * tpl + o) - 0.5
    m = np.array([[h * g, 0, h * ox - 0.5], [0, h * g, h * oy - 0.5]], np.float64)

    def px(pts):
        return np.asarray(pts, np.float64) @ m[:, :2].T + m[:, 2]

    panel = _poly_mask(h, w, [px(spec.panel_polygon())])
    cut = _poly_mask(h, w, [px(spec.neckline_polygon())])
    if spec.category == "tank-top":
        holes = _poly_mask(h, w, [px(p) for p in spec.armhole_polygons()])
        panel = panel * (1 - holes)
    cov_torso = panel * (1 - cut)
    back = panel * cut
    cov_sleeve = {}
    for side in SIDES:
        if spec.has_sleeves:
            s = _poly_mask(h, w, [px(spec.sleeve_quad(side))])
            cov_sleeve[side] = s * (1 - cov_torso)
        else:
            cov_sleeve[side] = np.zeros((h, w), np.float32)
    union = clip(cov_torso + back + cov_sleeve[-1] + cov_sleeve[1], 0, 1)

    tex = make_texture(spec.texture, h, w, m, spec)
    rng = np.random.default_rng(spec.seed)
    # shop background: near-white, faint gradient
    bgv = rng.uniform(0.93, 0.99)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    bg = np.ones((h, w, 3), np.float32) * (bgv - 0.02 * yy) * np.float32(
        1 + rng.uniform(-0.01, 0.01, 3))
    # drop shadow under the garment
    sh = cv2.GaussianBlur(union, (0, 0), max(1.0, 0.012 * h))
    sh = np.roll(sh, max(1, int(0.006 * h)), axis=0)
    bg *= (1 - 0.06 * sh)[..., None]
    shade = np.ones((h, w), np.float32)
    if shading:  # very mild flat-lay shading: soft wrinkles
        shade = 1.0 - 0.035 * np.abs(smooth_noise(rng, h, w, 4, octaves=2))
    col = tex * shade[..., None]
    inner = clip(tex * 0.62, 0, 1)  # inside of the back at the neck
    col = col * (1 - back[..., None]) + inner * back[..., None]
    img = bg * (1 - union[..., None]) + col * union[..., None]
    img = clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    mask = np.where(union >= 0.5, 255, 0).astype(np.uint8)
    return Cloth(spec, img, mask, tex, cov_torso, cov_sleeve, m)
