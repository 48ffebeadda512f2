#!/usr/bin/env python3
"""Reference outputs of the person models for the Go tests, and overlays to
look at. Runs in convert.sh's throwaway venv (TensorFlow for the TFLite
reference, onnxruntime for the converted graphs).

    reference.py --tflite-dir WORK/build --pose-dir WORK/pose/package \
        --models models/person --images a.jpg b.jpg --json person/testdata/reference.json \
        [--draw /tmp/overlays]

Pipeline, exactly (the Go side replicates it):
  1. detector input: the whole image letterboxed into 224x224 (scale
     s = min(224/W, 224/H), centred, cv2.warpAffine INTER_LINEAR,
     BORDER_CONSTANT black), RGB, v/127.5-1.
  2. decode the 2254 anchors (manifest), sigmoid(clip(logit,+-100)); the top
     scoring box (no NMS needed for the top one); box and keypoints mapped back
     from letterbox units to image pixels.
  3. ROI from the top detection: centre = kp0 (hip centre), size =
     2*|kp1-kp0| * 1.25, rotation = normalize(pi/2 - atan2(-(y1-y0), x1-x0)).
     (Square: the detection-derived box is already square, square_long keeps it.)
  4. landmark input: the ROI warped into 256x256 by the 2x3 affine matrix
     stored per image (image pixel -> crop pixel), cv2.warpAffine
     INTER_LINEAR, BORDER_CONSTANT 0, RGB, v/255.
  5. landmarks: crop pixels -> image pixels through the inverse of that matrix.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

if not hasattr(np, "product"):
    np.product = np.prod

import cv2  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchors as anchors_mod  # noqa: E402

KEYPOINTS = {"nose": 0, "left_shoulder": 11, "right_shoulder": 12, "left_hip": 23, "right_hip": 24}
EDGES = [(11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25),
         (25, 27), (24, 26), (26, 28), (0, 11), (0, 12)]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80, 80)))


def tfl(path, x):
    it = tf.lite.Interpreter(model_path=path)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


def sess(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def letterbox_matrix(w, h, size):
    s = min(size / w, size / h)
    return np.array([[s, 0, (size - w * s) / 2], [0, s, (size - h * s) / 2]], np.float64)


def roi_matrix(cx, cy, size, rot, out):
    """Affine image px -> crop px for a square ROI of side `size` centred at
    (cx, cy), rotated by `rot` (radians, MediaPipe's sense)."""
    c, s = math.cos(rot), math.sin(rot)
    k = out / size
    # crop = k * R(-rot) * (p - centre) + out/2
    a = np.array([[c, s], [-s, c]]) * k
    t = np.array([out / 2, out / 2]) - a @ np.array([cx, cy])
    return np.hstack([a, t[:, None]])


def inv_affine(m):
    a = m[:, :2]
    ai = np.linalg.inv(a)
    return np.hstack([ai, (-ai @ m[:, 2])[:, None]])


def apply(m, pts):
    pts = np.asarray(pts, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tflite-dir", required=True, help="convert.py's work dir (pose_detection.tflite)")
    ap.add_argument("--pose-dir", required=True)
    ap.add_argument("--selfie-dir", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--images", nargs="+", required=True)
    ap.add_argument("--json")
    ap.add_argument("--draw")
    a = ap.parse_args()

    anc = np.array(anchors_mod.generate(anchors_mod.BLAZEPOSE_224))
    det_onnx = sess(os.path.join(a.models, "pose_detection.onnx"))
    lm_onnx = {v: sess(os.path.join(a.models, f"pose_landmark_{v}.onnx")) for v in ("lite", "full")}
    seg_onnx = sess(os.path.join(a.models, "selfie_segmentation.onnx"))
    det_tfl = os.path.join(a.tflite_dir, "pose_detection.tflite")
    lm_tfl = {v: os.path.join(a.pose_dir, f"pose_landmark_{v}.tflite") for v in ("lite", "full")}
    seg_tfl = os.path.join(a.tflite_dir, "selfie_segmentation_ref.tflite")

    refs = []
    for path in a.images:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            sys.exit(f"reference.py: {path}: cannot read image")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        H, W = rgb.shape[:2]
        # 1-2 detector
        lb = letterbox_matrix(W, H, 224)
        x = cv2.warpAffine(rgb, lb, (224, 224), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=(0, 0, 0)).astype(np.float32) / 127.5 - 1.0
        out = tfl(det_tfl, x[None])
        reg, cls = out["Identity"][0], out["Identity_1"][0, :, 0]
        oreg, ocls = det_onnx.run(None, {"input": x.transpose(2, 0, 1)[None]})
        scores = sigmoid(np.clip(cls, -100, 100))
        i = int(np.argmax(scores))
        r = reg[i] / 224.0
        ax, ay = anc[i, 0], anc[i, 1]
        box_lb = np.array([r[0] + ax, r[1] + ay, r[2], r[3]])  # centre x, y, w, h in [0,1] letterbox
        kps_lb = np.array([[r[4 + 2 * k] + ax, r[5 + 2 * k] + ay] for k in range(4)])
        lbi = inv_affine(lb)
        kps = apply(lbi, kps_lb * 224)
        c = apply(lbi, [box_lb[:2] * 224])[0]
        bw, bh = box_lb[2] * 224 / lb[0, 0], box_lb[3] * 224 / lb[1, 1]
        box = [c[0] - bw / 2, c[1] - bh / 2, c[0] + bw / 2, c[1] + bh / 2]
        # 3 ROI
        (x0, y0), (x1, y1) = kps[0], kps[1]
        rot = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
        rot = rot - 2 * math.pi * math.floor((rot + math.pi) / (2 * math.pi))
        size = 2 * math.hypot(x1 - x0, y1 - y0) * 1.25
        m = roi_matrix(x0, y0, size, rot, 256)
        # 4 landmarks
        crop = cv2.warpAffine(rgb, m, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=(0, 0, 0)).astype(np.float32) / 255.0
        mi = inv_affine(m)
        lmres = {}
        for v in ("lite", "full"):
            lo = tfl(lm_tfl[v], crop[None])
            lms = lo["Identity"][0].reshape(39, 5)
            onames = [o.name for o in lm_onnx[v].get_outputs()]
            olo = dict(zip(onames, lm_onnx[v].run(None, {"input": crop.transpose(2, 0, 1)[None]})))
            p = apply(mi, lms[:, :2])
            op_ = apply(mi, olo["landmarks"][0].reshape(39, 5)[:, :2])
            ix = list(KEYPOINTS.values())
            lmres[v] = {
                "pose_flag": float(lo["Identity_1"][0, 0]),
                "onnx_pose_flag": float(olo["pose_flag"][0, 0]),
                "keypoints_crop_px": {k: [float(lms[j, 0]), float(lms[j, 1])] for k, j in KEYPOINTS.items()},
                "keypoints_px": {k: [float(p[j, 0]), float(p[j, 1])] for k, j in KEYPOINTS.items()},
                "keypoint_visibility": {k: float(sigmoid(lms[j, 3])) for k, j in KEYPOINTS.items()},
                "keypoint_presence": {k: float(sigmoid(lms[j, 4])) for k, j in KEYPOINTS.items()},
                "onnx_keypoints_max_abs_diff_px": float(np.abs(op_[ix] - p[ix]).max()),
                "segmentation_mean": float(sigmoid(lo["Identity_2"][0, :, :, 0]).mean()),
                "onnx_segmentation_mean": float(sigmoid(olo["segmentation"][0, 0]).mean()),
            }
            if v == "full":
                pts, flag, seg = p, lmres[v]["pose_flag"], sigmoid(lo["Identity_2"][0, :, :, 0])
        # selfie: whole frame resized to 256x256
        sx = cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        smask = tfl(seg_tfl, sx[None])
        smask = next(iter(smask.values()))[0, :, :, 0]
        osmask = seg_onnx.run(None, {"input": sx.transpose(2, 0, 1)[None]})[0][0, 0]

        name = os.path.basename(path)
        ref = {
            "image": name, "width": W, "height": H,
            "detector": {
                "letterbox_matrix": lb.tolist(),
                "top_anchor": i, "top_score": float(scores[i]),
                "top_logit": float(cls[i]), "top_regressors": [float(v) for v in reg[i]],
                "top_anchor_center": [float(ax), float(ay)],
                "onnx_top_score": float(sigmoid(np.clip(ocls[0, i, 0], -100, 100))),
                "box_xyxy_px": [float(v) for v in box],
                "keypoints_px": kps.tolist(),
                "num_scores_over_0_5": int((scores > 0.5).sum()),
            },
            "roi": {"center_px": [float(x0), float(y0)], "size_px": size, "rotation_rad": rot,
                    "matrix_image_to_crop": m.tolist()},
            "landmarks": {"pose_landmark_" + v: r for v, r in lmres.items()},
            "selfie_mask_mean": float(smask.mean()),
            "onnx_selfie_mask_mean": float(osmask.mean()),
        }
        refs.append(ref)
        print(name, "det %.3f" % ref["detector"]["top_score"], "selfie mean %.3f" % ref["selfie_mask_mean"],
              " ".join("%s flag %.3f seg %.3f kp-diff %.4fpx" % (v, r["pose_flag"], r["segmentation_mean"],
                                                                r["onnx_keypoints_max_abs_diff_px"])
                       for v, r in lmres.items()))

        if a.draw:
            os.makedirs(a.draw, exist_ok=True)
            vis = bgr.copy()
            big = cv2.resize(smask, (W, H))
            vis[..., 1] = np.clip(vis[..., 1] * (1 - 0.4 * big) + 255 * 0.4 * big, 0, 255).astype(np.uint8)
            segimg = cv2.warpAffine(seg.astype(np.float32), mi, (W, H), flags=cv2.INTER_LINEAR)
            vis[..., 2] = np.clip(vis[..., 2] * (1 - 0.4 * segimg) + 255 * 0.4 * segimg, 0, 255).astype(np.uint8)
            cv2.rectangle(vis, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), (255, 0, 0), 2)
            corners = apply(mi, [[0, 0], [256, 0], [256, 256], [0, 256]]).astype(np.int32)
            cv2.polylines(vis, [corners], True, (0, 255, 255), 2)
            for p, q in EDGES:
                cv2.line(vis, tuple(int(v) for v in pts[p]), tuple(int(v) for v in pts[q]), (0, 255, 0), 2)
            for j in range(33):
                cv2.circle(vis, tuple(int(v) for v in pts[j]), 3, (0, 0, 255), -1)
            for k in kps:
                cv2.circle(vis, tuple(int(v) for v in k), 5, (255, 0, 255), -1)
            cv2.putText(vis, f"det {scores[i]:.2f} flag(full) {flag:.2f}", (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                        (255, 255, 255), 2)
            cv2.imwrite(os.path.join(a.draw, os.path.splitext(name)[0] + "_overlay.jpg"), vis)

    if a.json:
        doc = {
            "about": "TFLite outputs of the MediaPipe person models (the originals) on these images, "
                     "which the converted ONNX graphs must reproduce; onnx_* fields are what "
                     "onnxruntime gave here. Made by scripts/person_models/reference.py.",
            "preprocessing": {
                "detector": "whole image letterboxed into 224x224 by detector.letterbox_matrix (image px "
                            "-> input px; scale min(224/W,224/H), centred), OpenCV warpAffine "
                            "INTER_LINEAR, BORDER_CONSTANT black; RGB; v/127.5-1; NCHW",
                "detector_decode": "anchors from manifest.json (2254); score = sigmoid(clip(logit,+-100)); "
                                   "top_anchor is the argmax; box/keypoints = regressor/224 + anchor centre, "
                                   "then mapped back through the inverse letterbox matrix to image px",
                "roi": "from the top detection: center = keypoint 0; size = 2*|kp1-kp0|*1.25; rotation = "
                       "pi/2 - atan2(-(y1-y0), x1-x0) normalized to [-pi,pi); matrix_image_to_crop maps "
                       "image px p to 256x256 crop px: crop = k*R*(p - center) + (128, 128) with k = 256/size, "
                       "R = [[cos r, sin r], [-sin r, cos r]], r = rotation",
                "landmark": "the ROI crop by roi.matrix_image_to_crop, OpenCV warpAffine INTER_LINEAR, "
                            "BORDER_CONSTANT 0; RGB; v/255; NCHW. Keypoints: landmark x,y (crop px) mapped "
                            "through the inverse matrix to image px; visibility = sigmoid(logit). "
                            "segmentation_mean = mean of sigmoid(segmentation) over the 256x256 crop",
                "selfie": "whole image resized to 256x256 (cv2.resize INTER_LINEAR, aspect not kept); "
                          "RGB; v/255; NCHW; selfie_mask_mean = mean of mask",
            },
            "tolerances_suggested": {"score": 0.01, "keypoint_px": 2.0, "pose_flag": 0.01,
                                     "segmentation_mean": 0.01, "selfie_mask_mean": 0.01},
            "images": refs,
        }
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
