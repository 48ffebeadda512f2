"""Low-level raster helpers of the synthetic renderer.

Everything is drawn with analytic fields evaluated per pixel (numpy) or with
anti-aliased cv2 polygons, inside the bounding box of each part only.

Coordinates: shapes are described in *local units* (1.0 = the height of the
portrait frame the person is designed in; x to the right, y down).  A
:class:`Canvas` holds a 2x3 affine ``local -> pixel`` transform (pixel centres
at integer coordinates, the cv2 convention), so the same person can be drawn at
any resolution, rotated, scaled and placed anywhere (dataset crops, demo
frames).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# np.clip is slow for small arrays in numpy 1.24 (argument checks); the ufunc is not (numpy 2 renamed
# numpy.core to numpy._core and warns on the old name).
clip = (np._core if hasattr(np, "_core") else np.core).umath.clip

LIGHT = np.array([-0.32, -0.48, 0.82], np.float32)
LIGHT /= np.linalg.norm(LIGHT)


@lru_cache(maxsize=16)
def _pixel_grid(h: int, w: int):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


@lru_cache(maxsize=16)
def unit_grid(h: int, w: int):
    """Pixel-centre coordinates in units of the image height (read-only)."""
    xs, ys = _pixel_grid(h, w)
    X, Y = (xs + 0.5) / h, (ys + 0.5) / h
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


def similarity(scale: float, angle_deg: float, pivot_local, pivot_px) -> np.ndarray:
    """2x3 matrix mapping local -> pixel: rotate/scale about ``pivot_local``,
    which lands on ``pivot_px``."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a) * scale, np.sin(a) * scale
    m = np.array([[c, -s, 0.0], [s, c, 0.0]], np.float64)
    px = m[:, :2] @ np.asarray(pivot_local, np.float64)
    m[:, 2] = np.asarray(pivot_px, np.float64) - px
    return m


@dataclass
class Region:
    """A rectangular window of the canvas plus its local coordinates."""
    sl: tuple  # (slice_y, slice_x)
    X: np.ndarray  # local x of each pixel centre
    Y: np.ndarray  # local y
    ox: int
    oy: int

    @property
    def shape(self):
        return self.X.shape


class Canvas:
    """RGB image (float, [0,1]) plus the per-pixel annotations every layer
    writes: parse label, garment flow (cloth pixel coordinates), flow
    validity, and DensePose-like IUV."""

    def __init__(self, h: int, w: int, local_to_px: np.ndarray, background=None):
        self.h, self.w = h, w
        self.m = np.asarray(local_to_px, np.float64)
        inv = cv2.invertAffineTransform(self.m)
        self.minv = inv
        self.ppu = float(np.sqrt(abs(np.linalg.det(self.m[:, :2]))))  # pixels per local unit
        self.img = (np.zeros((h, w, 3), np.float32) if background is None
                    else background.astype(np.float32, copy=True))
        self.label = np.zeros((h, w), np.uint8)
        self.flow = np.zeros((h, w, 2), np.float32)
        self.fvalid = np.zeros((h, w), bool)
        self.dp = np.zeros((h, w, 3), np.float32)
        self.body = np.zeros((h, w), np.float32)  # person coverage (for shadows)

    # -- geometry ---------------------------------------------------------
    def to_px(self, pts) -> np.ndarray:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        return pts @ self.m[:, :2].T + self.m[:, 2]

    def region(self, pts_local, margin_local: float = 0.0):
        """Window covering ``pts_local`` (+ margin); None when off-canvas."""
        p = self.to_px(pts_local)
        mg = margin_local * self.ppu + 2
        x0 = int(max(np.floor(p[:, 0].min() - mg), 0))
        x1 = int(min(np.ceil(p[:, 0].max() + mg) + 1, self.w))
        y0 = int(max(np.floor(p[:, 1].min() - mg), 0))
        y1 = int(min(np.ceil(p[:, 1].max() + mg) + 1, self.h))
        if x1 <= x0 or y1 <= y0:
            return None
        xs, ys = _pixel_grid(self.h, self.w)
        xs, ys = xs[y0:y1, x0:x1], ys[y0:y1, x0:x1]
        a = self.minv
        X = a[0, 0] * xs + a[0, 1] * ys + a[0, 2]
        Y = a[1, 0] * xs + a[1, 1] * ys + a[1, 2]
        return Region((slice(y0, y1), slice(x0, x1)), X.astype(np.float32),
                      Y.astype(np.float32), x0, y0)

    def aa(self, sd: np.ndarray) -> np.ndarray:
        """Signed distance (local units, >0 inside) -> anti-aliased coverage."""
        return clip(sd * self.ppu + 0.5, 0.0, 1.0)

    def poly_cov(self, reg: Region, polys) -> np.ndarray:
        """Anti-aliased coverage of local-unit polygons inside ``reg``."""
        hh, ww = reg.shape
        m = np.zeros((hh, ww), np.uint8)
        pts = []
        for poly in polys:
            p = self.to_px(poly) - (reg.ox, reg.oy)
            pts.append(np.round(p * 16).astype(np.int32))
        cv2.fillPoly(m, pts, 255, cv2.LINE_AA, shift=4)
        return m.astype(np.float32) * (1.0 / 255.0)

    # -- compositing --------------------------------------------------------
    def put(self, reg: Region, cov: np.ndarray, color, label=None, flow=None,
            dp=None, body: bool = True):
        """Alpha-composite a layer.  Pixels with coverage >= 0.5 take the
        layer's label / flow / IUV; a layer without flow hides the garment
        flow beneath it."""
        sl = reg.sl
        c = cov[..., None]
        img = self.img[sl]
        img *= 1.0 - c
        img += np.asarray(color, np.float32) * c
        m = cov >= 0.5
        if label is not None:
            np.copyto(self.label[sl], np.uint8(label), where=m)
            if flow is not None:
                np.copyto(self.flow[sl], flow, where=m[..., None])
            np.copyto(self.fvalid[sl], flow is not None, where=m)
        if dp is not None:
            np.copyto(self.dp[sl], dp, where=m[..., None])
        if body:
            b = self.body[sl]
            np.maximum(b, cov, out=b)


def capsule(reg: Region, a, b, ra: float, rb: float, caps: bool = True):
    """Fields of a tapered capsule from ``a`` to ``b``.

    Returns (t, e, r, sd): t the position along the axis (0 at a, 1 at b),
    e the signed distance across (positive on the left of a->b in image
    coordinates, i.e. towards -x for a downward axis), r the radius at t and
    sd the signed distance to the outline (>0 inside)."""
    ax, ay = float(a[0]), float(a[1])
    dx, dy = float(b[0]) - ax, float(b[1]) - ay
    L = max(np.hypot(dx, dy), 1e-6)
    ux, uy = dx / L, dy / L
    px = reg.X - ax
    py = reg.Y - ay
    along = px * ux + py * uy
    t = along / L
    e = px * (-uy) + py * ux  # p . n with n = (-uy, ux)
    tc = clip(t, 0.0, 1.0)
    r = ra + (rb - ra) * tc
    sd = r - np.abs(e)
    if caps:
        da = np.hypot(px, py)
        db = np.hypot(reg.X - float(b[0]), reg.Y - float(b[1]))
        sd = np.where(t < 0, ra - da, np.where(t > 1, rb - db, sd))
    else:
        sd = np.minimum(sd, np.minimum(along, L - along))
    return t, e, r, sd


def cylinder_shade(sigma: np.ndarray, nx: float, ny: float, ambient=0.42,
                   diffuse=0.62, spec=0.0) -> np.ndarray:
    """Lambert shading of a cylinder: ``sigma`` in [-1,1] across the axis,
    (nx, ny) the image direction in which sigma grows."""
    s = clip(sigma, -0.999, 0.999)
    nz = np.sqrt(1.0 - s * s)
    ndotl = s * (nx * LIGHT[0] + ny * LIGHT[1]) + nz * LIGHT[2]
    out = ambient + diffuse * np.maximum(ndotl, 0.0)
    if spec:
        out = out + spec * np.maximum(ndotl, 0.0) ** 12
    return out.astype(np.float32)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int,
                 octaves: int = 3) -> np.ndarray:
    """Resolution-independent value noise in about [-1, 1] (``cells`` random
    values across the image height, upsampled)."""
    out = np.zeros((h, w), np.float32)
    amp, tot = 1.0, 0.0
    for o in range(octaves):
        ch = cells * (2 ** o)
        cw = max(2, int(round(ch * w / h)))
        small = rng.standard_normal((ch + 1, cw + 1)).astype(np.float32)
        out += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        tot += amp
        amp *= 0.5
    return out / tot


def soft_shadow(occluder: np.ndarray, dx: float, dy: float, sigma: float) -> np.ndarray:
    """Blurred, shifted copy of a coverage map (shadow intensity in [0,1])."""
    h, w = occluder.shape
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    sh = cv2.warpAffine(occluder, m, (w, h), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    k = int(max(3, round(sigma * 3)) | 1)
    return cv2.GaussianBlur(sh, (k, k), sigma)
