"""Pictures for humans: sample grids and loss curves as PNG (numpy + OpenCV; no matplotlib here)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np
import torch

BG = (255, 255, 255)
INK = (40, 40, 40)
GRID = (225, 225, 225)
COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]  # RGB


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(C,H,W) in [-1,1] (3 channels) or [0,1] (1 channel) -> (H,W,3) uint8 RGB."""
    img = img.detach().float().cpu()
    if img.shape[0] == 1:
        img = img.clamp(0, 1).expand(3, -1, -1)
    else:
        img = ((img[:3] + 1) / 2).clamp(0, 1)
    return (img.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Atomic PNG write (RGB array)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"viz: cannot encode {path}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)


def grid_image(columns: Dict[str, torch.Tensor], rows: int = 4, min_width: int = 96) -> np.ndarray:
    """One row per sample, one labelled column per entry of ``columns`` ((B,C,H,W) tensors)."""
    names = list(columns)
    b = min(rows, *(v.shape[0] for v in columns.values()))
    h, w = next(iter(columns.values())).shape[-2:]
    scale = max(1, math.ceil(min_width / w))
    ch, cw = h * scale, w * scale
    head = 18
    canvas = np.full((head + b * (ch + 2), len(names) * (cw + 2), 3), 255, np.uint8)
    for j, name in enumerate(names):
        x0 = j * (cw + 2)
        label = name if len(name) * 7 <= cw else name[: max(1, cw // 7 - 1)] + "."
        cv2.putText(canvas, label, (x0 + 2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, INK, 1, cv2.LINE_AA)
        for i in range(b):
            tile = to_uint8(columns[name][i])
            if tile.shape[:2] != (h, w):
                tile = cv2.resize(tile, (w, h), interpolation=cv2.INTER_AREA)
            tile = cv2.resize(tile, (cw, ch), interpolation=cv2.INTER_NEAREST)
            y0 = head + i * (ch + 2)
            canvas[y0:y0 + ch, x0:x0 + cw] = tile
    return canvas


def save_grid(path: Path, columns: Dict[str, torch.Tensor], rows: int = 4) -> None:
    write_png(path, grid_image(columns, rows))


def line_plot(series: Dict[str, Sequence[float]], x: Sequence[float], title: str = "", log_y: bool = True,
              size=(720, 400)) -> np.ndarray:
    """A minimal line chart: axes, grid, ticks, legend; log10 y when all values are positive."""
    wd, ht = size
    ml, mr, mt, mb = 64, 150, 28, 36
    img = np.full((ht, wd, 3), 255, np.uint8)
    xs = np.asarray(x, dtype=np.float64)
    vals = {k: np.asarray(v, dtype=np.float64) for k, v in series.items() if len(v)}
    finite = np.concatenate([v[np.isfinite(v)] for v in vals.values()]) if vals else np.zeros(1)
    use_log = log_y and finite.size and (finite > 0).all()
    tr = (lambda v: np.log10(np.maximum(v, 1e-12))) if use_log else (lambda v: v)
    ys = np.concatenate([tr(v[np.isfinite(v)]) for v in vals.values()]) if vals else np.zeros(1)
    y_lo, y_hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    x_lo, x_hi = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    if x_hi - x_lo < 1e-9:
        x_hi = x_lo + 1

    def px(v):
        return (ml + (v - x_lo) / (x_hi - x_lo) * (wd - ml - mr)).astype(np.int32)

    def py(v):
        return (ht - mb - (v - y_lo) / (y_hi - y_lo) * (ht - mt - mb)).astype(np.int32)

    for t in np.linspace(y_lo, y_hi, 5):
        y = int(py(np.array(t)))
        cv2.line(img, (ml, y), (wd - mr, y), GRID, 1)
        lab = f"{10 ** t:.3g}" if use_log else f"{t:.3g}"
        cv2.putText(img, lab, (4, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, INK, 1, cv2.LINE_AA)
    for t in np.linspace(x_lo, x_hi, 5):
        xx = int(px(np.array(t)))
        cv2.line(img, (xx, mt), (xx, ht - mb), GRID, 1)
        cv2.putText(img, f"{t:.0f}", (xx - 10, ht - mb + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.38, INK, 1, cv2.LINE_AA)
    cv2.rectangle(img, (ml, mt), (wd - mr, ht - mb), INK, 1)
    for i, (name, v) in enumerate(vals.items()):
        c = COLORS[i % len(COLORS)]
        ok = np.isfinite(v)
        pts = np.stack([px(xs[: len(v)][ok]), py(tr(v[ok]))], 1).reshape(-1, 1, 2)
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, c, 1 if name.startswith("_") else 2, cv2.LINE_AA)
        ly = mt + 14 + 16 * i
        cv2.line(img, (wd - mr + 8, ly - 4), (wd - mr + 24, ly - 4), c, 2)
        cv2.putText(img, name, (wd - mr + 28, ly), cv2.FONT_HERSHEY_SIMPLEX, 0.4, INK, 1, cv2.LINE_AA)
    t = title + ("  (log scale)" if use_log else "")
    cv2.putText(img, t, (ml, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, INK, 1, cv2.LINE_AA)
    cv2.putText(img, "step", ((wd - mr + ml) // 2 - 12, ht - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, INK, 1, cv2.LINE_AA)
    return img


def ema(v: Sequence[float], alpha: float = 0.1) -> List[float]:
    out, m = [], None
    for x in v:
        m = x if m is None else (1 - alpha) * m + alpha * x
        out.append(m)
    return out


def save_loss_curves(path: Path, history: List[Dict[str, float]], title: str = "") -> None:
    """Total loss (raw and smoothed) and each term (smoothed) against the step."""
    steps = [h["step"] for h in history]
    keys = [k for k in history[-1] if k not in ("step", "samples_per_s", "total")]
    series = {"total": ema([h["total"] for h in history]), "_total raw": [h["total"] for h in history]}
    for k in keys:
        series[k] = ema([h.get(k, float("nan")) for h in history])
    write_png(path, line_plot(series, steps, title or "loss"))
