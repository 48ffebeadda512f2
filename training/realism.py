"""Realism of synthetic renders, as judged by a real person detector.

``python -m training realism --n 200 --versions 2 3 [--seed 7] [--landmark full|lite] [--json out.json]``

Renders N samples of each generator version (in memory, the person image as
written to disk: JPEG quality 95) and runs MediaPipe BlazePose from
``models/person`` (ONNX Runtime) on each, as the app does
(``models/person/README.md``): the pose detector on the whole image
letterboxed to 224x224, then the landmark model on the ROI of the top
detection. Reported per version:

* **detection rate**: fraction of renders whose top detector score >= 0.5
  (MediaPipe's threshold), with its standard error;
* **keypoint error**: for detected renders, distance between the landmark
  model's points and the generator's exact points (nose, eyes, ears,
  shoulders, elbows, wrists, hips; only points the generator marks visible
  and, for v3, inside the camera frame), in units of the crop height H:
  mean, median, and PCK@0.05 (fraction of points within 0.05 H), plus the
  shoulder-only mean (what the framing rule uses).

The generator's joints are a stick figure's (e.g. its "eye" is a point on the
head ellipse), so a few percent of H of error is the floor, not the model's.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, Optional

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models" / "person"
COMPARED = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24)  # BlazePose indices the generator models
SHOULDERS = (11, 12)


def _anchors(opts: dict) -> np.ndarray:
    spec = importlib.util.spec_from_file_location("mgvton_anchors", REPO / "scripts" / "person_models" / "anchors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return np.array(mod.generate(opts), np.float64)


class PoseModel:
    """BlazePose detector + landmark model (ONNX Runtime, one thread each)."""

    def __init__(self, models: Path = MODELS, landmark: str = "full"):
        import onnxruntime as ort
        man = json.loads((models / "manifest.json").read_text())
        self.anchors = _anchors(man["models"]["pose_detection"]["anchors"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        prov = ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(str(models / "pose_detection.onnx"), so, providers=prov)
        self.lm = ort.InferenceSession(str(models / f"pose_landmark_{landmark}.onnx"), so, providers=prov)
        self.lm_out = [o.name for o in self.lm.get_outputs()]

    def __call__(self, rgb: np.ndarray) -> dict:
        """Top detection score and, always, the 33 landmarks (x, y in continuous image coordinates)
        of the landmark model run on the top detection's ROI."""
        H, W = rgb.shape[:2]
        s = min(224 / W, 224 / H)
        lb = np.array([[s, 0, (224 - W * s) / 2], [0, s, (224 - H * s) / 2]])
        # as scripts/person_models/reference.py (and the Go tracker): cv2 pixel-index coordinates throughout
        x = cv2.warpAffine(rgb, lb, (224, 224), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=(0, 0, 0)).astype(np.float32) / 127.5 - 1.0
        reg, cls = self.det.run(None, {"input": x.transpose(2, 0, 1)[None]})
        scores = 1 / (1 + np.exp(-np.clip(cls[0, :, 0].astype(np.float64), -100, 100)))
        i = int(np.argmax(scores))
        r = reg[0, i] / 224.0
        ax, ay = self.anchors[i, 0], self.anchors[i, 1]
        kps = np.array([[r[4 + 2 * k] + ax, r[5 + 2 * k] + ay] for k in range(4)]) * 224
        kps = (kps - lb[:, 2]) / s
        (x0, y0), (x1, y1) = kps[0], kps[1]
        rot = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
        rot = rot - 2 * math.pi * math.floor((rot + math.pi) / (2 * math.pi))
        size = max(2 * math.hypot(x1 - x0, y1 - y0) * 1.25, 1e-3)
        c, sn = math.cos(rot), math.sin(rot)
        k = 256 / size
        a = np.array([[c, sn], [-sn, c]]) * k  # image -> crop
        t = np.array([128.0, 128.0]) - a @ np.array([x0, y0])
        m = np.hstack([a, t[:, None]])
        crop = cv2.warpAffine(rgb, m, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=(0, 0, 0)).astype(np.float32) / 255.0
        out = dict(zip(self.lm_out, self.lm.run(None, {"input": crop.transpose(2, 0, 1)[None]})))
        lms = out["landmarks"][0].reshape(39, 5)[:33]
        ai = np.linalg.inv(a)
        pts = (lms[:, :2] - t) @ ai.T + 0.5  # pixel-index -> continuous coordinates (the exact pose's)
        return {"score": float(scores[i]), "landmarks": pts, "pose_flag": float(out["pose_flag"][0, 0])}


def exact_pose(version: int, seed: int, index: int, h: int, w: int):
    """(image RGB as stored, BlazePose (33, 4) exact keypoints in continuous crop coordinates,
    bool (33,) usable) for one synthetic sample."""
    if version == 3:
        from .data.synth_v3 import make_sample_v3
        s, d = make_sample_v3(seed, index, h, w, details=True)
        bp = d["blazepose"]
        use = (bp[:, 2] > 0) & d["in_frame"]
    else:
        from .data.synth import make_sample
        from .framing import synthetic_keypoints
        s = make_sample(seed, index, h, w)
        bp = synthetic_keypoints(seed, index, h, w)
        use = bp[:, 2] > 0
    # visible in the rendered sample: the generator's own BODY_25 flags (ears hidden by yaw, out of frame)
    from .data import labels as L
    from .data.synth_v3 import BLAZE_FROM_B25
    for name, j in BLAZE_FROM_B25.items():
        use[j] &= bool(s.keypoints[L.B25[name], 2] > 0)
    inside = (bp[:, 0] >= 0) & (bp[:, 0] <= w) & (bp[:, 1] >= 0) & (bp[:, 1] <= h)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return img, bp, use & inside


def measure(version: int, n: int, seed: int = 7, h: int = 256, w: int = 192, model: Optional[PoseModel] = None,
            start: int = 0) -> Dict[str, object]:
    model = model or PoseModel()
    det, errs, sh_errs, per_img = [], [], [], []
    t_gen = t_det = 0.0
    for i in range(start, start + n):
        t0 = time.perf_counter()
        img, bp, use = exact_pose(version, seed, i, h, w)
        t1 = time.perf_counter()
        r = model(img)
        t_det += time.perf_counter() - t1
        t_gen += t1 - t0
        found = r["score"] >= 0.5
        det.append(found)
        idx = [j for j in COMPARED if use[j]]
        e = np.hypot(*(r["landmarks"][idx] - bp[idx, :2]).T) / h if idx else np.zeros(0)
        if found:
            errs += e.tolist()
            sh_errs += [float(v) for j, v in zip(idx, e) if j in SHOULDERS]
        per_img.append({"index": i, "score": round(r["score"], 4),
                        "error": round(float(e.mean()), 4) if len(e) else None})
    d = np.array(det, float)
    e = np.array(errs)
    return {"version": version, "n": n, "seed": seed, "size": [h, w],
            "detection_rate": float(d.mean()), "detection_se": float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
            "keypoints_compared": int(len(e)),
            "keypoint_error_mean_H": float(e.mean()) if len(e) else None,
            "keypoint_error_median_H": float(np.median(e)) if len(e) else None,
            "pck_0.05H": float((e < 0.05).mean()) if len(e) else None,
            "shoulder_error_mean_H": float(np.mean(sh_errs)) if sh_errs else None,
            "seconds_generate": round(t_gen, 2), "seconds_pose": round(t_det, 2),
            "samples_per_s_generate": round(n / max(t_gen, 1e-9), 2), "per_image": per_img}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training realism", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--versions", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--landmark", choices=["full", "lite"], default="full")
    ap.add_argument("--models", default=str(MODELS))
    ap.add_argument("--json", help="write the full report (with per-image scores) here")
    a = ap.parse_args(argv)
    cv2.setNumThreads(1)
    try:
        model = PoseModel(Path(a.models), a.landmark)
    except Exception as e:  # noqa: BLE001 - one line naming the file
        print(f"realism: {a.models}: cannot load the pose models: {e}".splitlines()[0], file=sys.stderr)
        return 1
    reports = []
    for v in a.versions:
        r = measure(v, a.n, a.seed, a.height, a.width, model)
        reports.append(r)

        def f(x, k=1):
            return "n/a" if x is None else f"{100 * x:.{k}f}"
        print(f"v{v}: detection {f(r['detection_rate'])} % (+- {f(r['detection_se'])}) of {a.n}; keypoint error "
              f"mean {f(r['keypoint_error_mean_H'], 2)} % H, median {f(r['keypoint_error_median_H'], 2)} % H, "
              f"PCK@0.05H {f(r['pck_0.05H'])} %, shoulders {f(r['shoulder_error_mean_H'], 2)} % H "
              f"({r['keypoints_compared']} points); generator {r['samples_per_s_generate']} samples/s", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps({"landmark_model": a.landmark, "reports": reports}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
