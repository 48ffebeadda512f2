#!/usr/bin/env python3
"""Convert MediaPipe's person models (TFLite, from the npm packages) to
standard-op ONNX (opset 17, NCHW) and check them against the TFLite
interpreter.

Run through convert.sh, which packs the pinned npm packages and builds the
throwaway venv this needs (tensorflow-cpu, tf2onnx 1.17, onnxruntime,
opencv-python-headless). Not part of `make setup` or CI.

    convert.py --pose-dir P --selfie-dir S --work W --out models/person \
               --images IMG [IMG ...] --versions JSON
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

if not hasattr(np, "product"):  # tf2onnx 1.17 still calls np.product (gone in NumPy 2)
    np.product = np.prod

import cv2  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from tensorflow.lite.python import schema_py_generated as sch  # noqa: E402
from tensorflow.lite.tools import flatbuffer_utils as fbu  # noqa: E402

import anchors as anchors_mod  # noqa: E402  (same folder)

OPSET = 17
NO_DELEGATES = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
OPNAMES = {v: k for k, v in vars(sch.BuiltinOperator).items() if not k.startswith("_")}


def die(msg):
    print("convert.py: " + msg, file=sys.stderr)
    sys.exit(1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def op_name(model, op):
    oc = model.operatorCodes[op.opcodeIndex]
    code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
    name = OPNAMES[code]
    if name == "CUSTOM":
        cc = oc.customCode
        name = cc.decode() if isinstance(cc, bytes) else cc
    return name


# --------------------------------------------------------------------------
# TFLite surgery


def extract_detector(packed_path, out_path):
    """pose_solution_packed_assets.data holds pose_detection.tflite. A TFLite
    flatbuffer carries its file identifier 'TFL3' at bytes 4..8, so the model
    starts 4 bytes before the identifier."""
    buf = open(packed_path, "rb").read()
    i = buf.find(b"TFL3")
    if i < 4:
        die(f"{packed_path}: no TFLite flatbuffer (identifier TFL3) inside")
    with open(out_path, "wb") as f:
        f.write(buf[i - 4:])
    tf.lite.Interpreter(model_path=out_path).allocate_tensors()  # loads => it is a model
    return i - 4


def bake_densify(src, dst):
    """Replace every DENSIFY op by its dense output as a constant. The dense
    values are read from the TFLite interpreter with the default delegates
    (XNNPACK) off: XNNPACK swallows the sparse weights and the intermediate
    tensors then hold no values."""
    it = tf.lite.Interpreter(model_path=src, experimental_op_resolver_type=NO_DELEGATES,
                             experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], np.zeros(d["shape"], np.float32))
    it.invoke()
    model = fbu.read_model(src)
    g = model.subgraphs[0]
    kept, n = [], 0
    for op in g.operators:
        if op_name(model, op) != "DENSIFY":
            kept.append(op)
            continue
        t = op.outputs[0]
        val = it.get_tensor(t)
        if list(val.shape) != list(g.tensors[t].shape):
            die(f"{src}: DENSIFY output {t} has shape {val.shape}, tensor says {g.tensors[t].shape}")
        b = sch.BufferT()
        b.data = np.frombuffer(val.tobytes(), np.uint8).copy()
        model.buffers.append(b)
        g.tensors[t].buffer = len(model.buffers) - 1
        n += 1
    g.operators = kept
    prune_tensors(g)
    fbu.write_model(model, dst)
    return n


def prune_tensors(g):
    """Drop tensors no op or graph IO uses (the sparse weights DENSIFY read:
    their buffers do not match their dense shapes, which tf2onnx rejects)."""
    used = set(int(i) for i in g.inputs) | set(int(i) for i in g.outputs)
    for op in g.operators:
        used |= {int(i) for i in op.inputs if i >= 0} | {int(i) for i in op.outputs}
    remap = {old: new for new, old in enumerate(sorted(used))}
    g.tensors = [g.tensors[i] for i in sorted(used)]

    def m(ix):
        return np.array([remap[int(i)] if i >= 0 else -1 for i in ix], np.int32)
    g.inputs, g.outputs = m(g.inputs), m(g.outputs)
    for op in g.operators:
        op.inputs, op.outputs = m(op.inputs), m(op.outputs)


def transpose_conv_reference(src, dst):
    """A TFLite file the stock interpreter can run: MediaPipe's custom
    Convolution2DTransposeBias (options: TfLiteTransposeConvParams = padding,
    stride_w, stride_h as int32; weights OHWI; bias) becomes the builtin
    TRANSPOSE_CONV with its optional bias input. Used only as the parity
    reference for the selfie models."""
    model = fbu.read_model(src)
    g = model.subgraphs[0]
    found = 0
    for op in g.operators:
        if op_name(model, op) != "Convolution2DTransposeBias":
            continue
        pad, sw, sh = np.frombuffer(bytes(bytearray(op.customOptions)), np.int32)[:3]
        x, w, b = op.inputs[:3]
        out_shape = np.array(g.tensors[op.outputs[0]].shape, np.int32)
        buf = sch.BufferT()
        buf.data = np.frombuffer(out_shape.tobytes(), np.uint8).copy()
        model.buffers.append(buf)
        t = sch.TensorT()
        t.shape = np.array([4], np.int32)
        t.type = sch.TensorType.INT32
        t.buffer = len(model.buffers) - 1
        t.name = b"transpose_conv_output_shape"
        g.tensors.append(t)
        oc = sch.OperatorCodeT()
        oc.builtinCode = oc.deprecatedBuiltinCode = sch.BuiltinOperator.TRANSPOSE_CONV
        oc.version = 3
        model.operatorCodes.append(oc)
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.inputs = np.array([len(g.tensors) - 1, w, x, b], np.int32)
        opts = sch.TransposeConvOptionsT()
        opts.padding = sch.Padding.SAME if pad == 1 else sch.Padding.VALID
        opts.strideW, opts.strideH = int(sw), int(sh)
        op.builtinOptionsType = sch.BuiltinOptions.TransposeConvOptions
        op.builtinOptions = opts
        op.customOptions = None
        found += 1
    fbu.write_model(model, dst)
    return found


# --------------------------------------------------------------------------
# tf2onnx: MediaPipe's transposed convolution as standard ops


def conv_transpose_bias_handler(ctx, node, name, args):
    """TFL Convolution2DTransposeBias(x NHWC, w OHWI, b) ->
    Transpose(NCHW) -> ConvTranspose(w as IOHW, b) -> Transpose(NHWC).
    tf2onnx's optimizer then cancels the transposes against its own."""
    pad, sw, sh = args
    x_shape = ctx.get_shape(node.input[0])
    w_shape = ctx.get_shape(node.input[1])
    kh, kw = w_shape[1], w_shape[2]
    pads = [0, 0, 0, 0]
    if pad == 1:  # SAME: output = input * stride
        th = max((x_shape[1] - 1) * sh + kh - x_shape[1] * sh, 0)
        tw = max((x_shape[2] - 1) * sw + kw - x_shape[2] * sw, 0)
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
    node.type = "ConvTranspose"
    node.domain = ""
    for a in list(node.attr.keys()):
        del node.attr[a]
    node.set_attr("strides", [sh, sw])
    node.set_attr("kernel_shape", [kh, kw])
    node.set_attr("pads", pads)
    ctx.insert_new_node_on_input(node, "Transpose", node.input[0], perm=[0, 3, 1, 2])
    ctx.insert_new_node_on_input(node, "Transpose", node.input[1], perm=[3, 0, 1, 2])
    out = node.output[0]
    shape = ctx.get_shape(out)
    dtype = ctx.get_dtype(out)
    t = ctx.insert_new_node_on_output("Transpose", out, perm=[0, 2, 3, 1])
    ctx.set_shape(t.output[0], shape)
    ctx.set_dtype(t.output[0], dtype)
    if shape is not None:
        ctx.set_shape(out, [shape[0], shape[3], shape[1], shape[2]])


def custom_options(path, opname):
    model = fbu.read_model(path)
    for op in model.subgraphs[0].operators:
        if op_name(model, op) == opname:
            return [int(v) for v in np.frombuffer(bytes(bytearray(op.customOptions)), np.int32)[:3]]
    return None


def to_onnx(tfl, out, rename, nchw_outputs, handlers=None):
    """tf2onnx, then stable names. rename maps a TFLite output name to ours."""
    it = tf.lite.Interpreter(model_path=tfl)
    in_name = it.get_input_details()[0]["name"]
    nchw_out = [k for k, v in rename.items() if v in nchw_outputs]
    proto, _ = tf2onnx.convert.from_tflite(
        tfl, opset=OPSET, inputs_as_nchw=[in_name], outputs_as_nchw=nchw_out,
        custom_op_handlers=handlers)
    names = dict(rename)
    names[in_name] = "input"
    g = proto.graph
    for n in g.node:
        n.input[:] = [names.get(i, i) for i in n.input]
        n.output[:] = [names.get(o, o) for o in n.output]
    for v in list(g.input) + list(g.output) + list(g.value_info):
        v.name = names.get(v.name, v.name)
    bad = [v.name for v in g.output if v.name not in rename.values()]
    if bad:
        die(f"{tfl}: unexpected outputs {bad}")
    # outputs in our order
    order = list(rename.values())
    outs = sorted(g.output, key=lambda v: order.index(v.name))
    del g.output[:]
    g.output.extend(outs)
    domains = {n.domain for n in g.node} - {"", "ai.onnx"}
    if domains:
        die(f"{tfl}: non-standard op domains left: {domains}")
    proto.producer_name = "mgvton scripts/person_models (tf2onnx %s)" % tf2onnx.__version__
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, out)
    return proto


def io_of(path):
    m = onnx.load(path)

    def dims(v):
        return [d.dim_value if d.dim_value else d.dim_param for d in v.type.tensor_type.shape.dim]
    return ([{"name": v.name, "shape": dims(v)} for v in m.graph.input],
            [{"name": v.name, "shape": dims(v)} for v in m.graph.output])


# --------------------------------------------------------------------------
# inputs from real images


def letterbox(img_rgb, w, h):
    """Whole image, aspect kept, centred, padded with black; bilinear."""
    ih, iw = img_rgb.shape[:2]
    s = min(w / iw, h / ih)
    m = np.array([[s, 0, (w - iw * s) / 2], [0, s, (h - ih * s) / 2]], np.float64)
    return cv2.warpAffine(img_rgb, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def tflite_run(path, x_nhwc, delegates=True):
    kw = {} if delegates else {"experimental_op_resolver_type": NO_DELEGATES}
    it = tf.lite.Interpreter(model_path=path, **kw)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x_nhwc)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


def ort_session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def to_nchw(a):
    return a if a.ndim != 4 else a.transpose(0, 3, 1, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pose-dir", required=True)
    ap.add_argument("--selfie-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", nargs="+", required=True)
    ap.add_argument("--versions", required=True, help="JSON with package versions")
    ap.add_argument("--parity-only", action="store_true",
                    help="keep the ONNX files in --out; only check them against TFLite again")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    versions = json.loads(a.versions)

    # 1. the TFLite files
    det_raw = os.path.join(a.work, "pose_detection.tflite")
    off = extract_detector(os.path.join(a.pose_dir, "pose_solution_packed_assets.data"), det_raw)
    det_dense = os.path.join(a.work, "pose_detection_dense.tflite")
    nd = bake_densify(det_raw, det_dense)
    print(f"pose_detection: at byte {off} of the packed assets; {nd} DENSIFY ops baked")

    lm_rename = {"Identity": "landmarks", "Identity_1": "pose_flag", "Identity_2": "segmentation",
                 "Identity_3": "heatmap", "Identity_4": "world_landmarks"}
    jobs = [
        # name, tflite to convert, tflite reference, rename, nchw outputs, handlers
        ("pose_detection", det_dense, det_raw,
         {"Identity": "regressors", "Identity_1": "classificators"}, [], None),
        ("pose_landmark_lite", os.path.join(a.pose_dir, "pose_landmark_lite.tflite"), None,
         lm_rename, ["segmentation", "heatmap"], None),
        ("pose_landmark_full", os.path.join(a.pose_dir, "pose_landmark_full.tflite"), None,
         lm_rename, ["segmentation", "heatmap"], None),
    ]
    for name, tname, oname in [("selfie_segmentation", "selfie_segmentation.tflite", "activation_10"),
                               ("selfie_segmentation_landscape", "selfie_segmentation_landscape.tflite",
                                "segment_back")]:
        src = os.path.join(a.selfie_dir, tname)
        opts = custom_options(src, "Convolution2DTransposeBias")
        if opts is None:
            die(f"{src}: no Convolution2DTransposeBias op (package changed?)")
        ref = os.path.join(a.work, name + "_ref.tflite")
        transpose_conv_reference(src, ref)
        # tf2onnx's old custom-op api: args[0] is an op type to rename to (None: keep)
        handlers = {"TFL_Convolution2DTransposeBias": (conv_transpose_bias_handler, [None] + opts),
                    "Convolution2DTransposeBias": (conv_transpose_bias_handler, [None] + opts)}
        jobs.append((name, src, ref, {oname: "mask"}, ["mask"], handlers))

    images = []
    for p in a.images:
        im = cv2.imread(p, cv2.IMREAD_COLOR)
        if im is None:
            die(f"{p}: cannot read image")
        images.append((os.path.basename(p), cv2.cvtColor(im, cv2.COLOR_BGR2RGB)))

    results = {}
    for name, tfl, ref, rename, nchw, handlers in jobs:
        out = os.path.join(a.out, name + ".onnx")
        if not a.parity_only:
            to_onnx(tfl, out, rename, nchw, handlers)
        elif not os.path.exists(out):
            die(f"{out}: missing (--parity-only checks existing files)")
        ins, outs = io_of(out)
        _, c, h, w = ins[0]["shape"]
        ref = ref or tfl
        sess = ort_session(out)
        rng = (-1.0, 1.0) if name == "pose_detection" else (0.0, 1.0)
        parity = {}
        for iname, rgb in images:
            x = letterbox(rgb, w, h).astype(np.float32) / 255.0 * (rng[1] - rng[0]) + rng[0]
            x = x[None]
            want = tflite_run(ref, x)
            got = dict(zip([o["name"] for o in outs], sess.run(None, {"input": to_nchw(x)})))
            per = {}
            for tn, on in rename.items():
                wv = to_nchw(want[tn])
                gv = got[on]
                if wv.shape != gv.shape:
                    die(f"{out}: output {on} shape {gv.shape}, TFLite {wv.shape}")
                per[on] = {"max_abs_diff": float(np.abs(wv - gv).max()),
                           "max_abs_ref": float(np.abs(wv).max())}
                if on == "segmentation":  # logits: what counts is the probability
                    def sg(v):
                        return 1 / (1 + np.exp(-np.clip(v, -80, 80)))
                    per[on]["max_abs_diff_after_sigmoid"] = float(np.abs(sg(wv) - sg(gv)).max())
            parity[iname] = per
            print(f"{name} {iname}: " + ", ".join(f"{k} {v['max_abs_diff']:.2e} (|ref|<={v['max_abs_ref']:.3g})"
                                                  for k, v in per.items()))
        # timing, 1 thread
        x = np.random.default_rng(0).uniform(rng[0], rng[1], (1, c, h, w)).astype(np.float32)
        for _ in range(5):
            sess.run(None, {"input": x})
        ts = []
        for _ in range(30):
            t0 = time.perf_counter()
            sess.run(None, {"input": x})
            ts.append((time.perf_counter() - t0) * 1e3)
        results[name] = {"file": name + ".onnx", "inputs": ins, "outputs": outs,
                         "bytes": os.path.getsize(out), "sha256": sha256(out),
                         "parity": parity, "ort_ms_1thread_median": float(np.median(ts))}
        print(f"{name}: {os.path.getsize(out)} bytes, ORT 1 thread median {np.median(ts):.2f} ms")

    # anchors: generated here from the same options the manifest gives Go
    anc = anchors_mod.generate(anchors_mod.BLAZEPOSE_224)
    if len(anc) != 2254:
        die(f"anchors: {len(anc)} generated, the detector has 2254 boxes")

    with open(os.path.join(a.out, "parity.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(a.out, "SHA256SUMS"), "w") as f:
        for name in sorted(results):
            f.write(f"{results[name]['sha256']}  {results[name]['file']}\n")
    write_manifest(a.out, results, versions)


LANDMARK_CONTRACT = {
    "input": "input [1,3,256,256] float32, RGB, NCHW, values v/255 in [0,1]: the region of interest "
             "(a rotated square, see roi_*) warped to 256x256 with bilinear sampling; pixels outside "
             "the frame are 0",
    "landmarks": "[1,195] = 39 x (x, y, z, visibility, presence); x, y in input pixels (0..256 across "
                 "the ROI crop); z on the x scale, relative to the hips (smaller = nearer the camera); "
                 "visibility and presence are logits: apply sigmoid",
    "pose_flag": "[1,1] probability (already sigmoid) that a person is in the ROI; MediaPipe drops the "
                 "track below 0.5",
    "segmentation": "[1,1,256,256] person logits over the ROI crop: apply sigmoid",
    "heatmap": "[1,39,64,64] per-landmark heatmaps over the ROI crop (MediaPipe refines x, y with a "
               "7x7 window on them; optional)",
    "world_landmarks": "[1,117] = 39 x (x, y, z) in metres, origin at the hip centre",
    "landmark_names": {"0": "nose", "11": "left_shoulder", "12": "right_shoulder", "13": "left_elbow",
                       "14": "right_elbow", "15": "left_wrist", "16": "right_wrist", "23": "left_hip",
                       "24": "right_hip", "25": "left_knee", "26": "right_knee", "27": "left_ankle",
                       "28": "right_ankle",
                       "33": "roi_centre (body centre, for the next frame's ROI)",
                       "34": "roi_scale_point (on the circle around the body)"},
    "landmark_count": 39,
    "visible_landmarks": 33,
    "roi_from_landmarks": {"start_landmark": 33, "end_landmark": 34, "target_angle_deg": 90,
                           "scale_x": 1.25, "scale_y": 1.25, "square_long": True},
}

CONTRACT = {
    "layout": "NCHW for every image input and every map output; batch 1; float32",
    "pose_detection": {
        "input": "input [1,3,224,224] float32, RGB, NCHW, values v/127.5-1 in [-1,1]: the whole frame "
                 "letterboxed (aspect kept, centred, bilinear, padding black = -1)",
        "regressors": "[1,2254,12] per anchor: box dx, dy, w, h, then 4 keypoints (x, y), all in "
                      "224-input pixels; decode: x = dx/224*anchor.w + anchor.x_center, "
                      "y = dy/224*anchor.h + anchor.y_center, w = w/224*anchor.w, h = h/224*anchor.h, "
                      "kp_k = (r[4+2k]/224*anchor.w + anchor.x_center, r[5+2k]/224*anchor.h + "
                      "anchor.y_center); results are in [0,1] letterboxed-input units "
                      "(anchor.w = anchor.h = 1: fixed_anchor_size)",
        "classificators": "[1,2254,1] logits: score = sigmoid(clip(x, -100, 100))",
        "decode": {"num_boxes": 2254, "num_coords": 12, "box_coord_offset": 0,
                   "keypoint_coord_offset": 4, "num_keypoints": 4, "num_values_per_keypoint": 2,
                   "box_format": "xywh (centre)", "x_scale": 224.0, "y_scale": 224.0, "w_scale": 224.0,
                   "h_scale": 224.0, "sigmoid_score": True, "score_clipping_thresh": 100.0,
                   "min_score_thresh": 0.5, "nms": "weighted", "nms_min_suppression_threshold": 0.3},
        "keypoints": ["hip_centre", "full_body_scale_point", "shoulder_centre", "upper_body_scale_point"],
        "roi_from_detection": {"start_keypoint": 0, "end_keypoint": 1, "target_angle_deg": 90,
                               "rule": "centre = kp0; size = 2*|kp1-kp0| (in frame pixels); rotation = "
                                       "normalize(90deg - atan2(-(y1-y0), x1-x0)); then scale 1.25 and "
                                       "square on the long side",
                               "scale_x": 1.25, "scale_y": 1.25, "square_long": True},
    },
    "pose_landmark_lite": LANDMARK_CONTRACT,
    "pose_landmark_full": LANDMARK_CONTRACT,
    "selfie_segmentation": {
        "input": "input [1,3,256,256] float32, RGB, NCHW, values v/255 in [0,1]: the whole frame resized "
                 "(aspect not kept), bilinear",
        "mask": "[1,1,256,256] person probability in [0,1] (the sigmoid is inside the model)",
    },
    "selfie_segmentation_landscape": {
        "input": "input [1,3,144,256] float32, RGB, NCHW, values v/255 in [0,1]: the whole frame resized "
                 "(aspect not kept), bilinear",
        "mask": "[1,1,144,256] person probability in [0,1] (the sigmoid is inside the model)",
    },
}


def write_manifest(out, results, versions):
    path = os.path.join(out, "manifest.json")
    man = json.load(open(path)) if os.path.exists(path) else {}
    man["source"] = versions
    man["layout"] = CONTRACT["layout"]
    man.setdefault("models", {})
    for name, r in results.items():
        m = man["models"].setdefault(name, {})
        m.pop("ort_ms_1thread_median_at_conversion", None)  # timings: bench.py, README
        m.update({"file": r["file"], "sha256": r["sha256"], "bytes": r["bytes"],
                  "inputs": r["inputs"], "outputs": r["outputs"],
                  "parity_max_abs_diff_vs_tflite": {
                      o: max(p[o]["max_abs_diff"] for p in r["parity"].values())
                      for o in next(iter(r["parity"].values()))},
                  "parity_max_abs_diff_vs_tflite_after_sigmoid": {
                      o: max(p[o]["max_abs_diff_after_sigmoid"] for p in r["parity"].values())
                      for o in next(iter(r["parity"].values()))
                      if "max_abs_diff_after_sigmoid" in next(iter(r["parity"].values()))[o]},
                  "parity_images": sorted(r["parity"]),
                  "contract": CONTRACT[name]})
    man["models"]["pose_detection"]["anchors"] = anchors_mod.BLAZEPOSE_224
    with open(path, "w") as f:
        for m in man["models"].values():
            if not m.get("parity_max_abs_diff_vs_tflite_after_sigmoid", True):
                del m["parity_max_abs_diff_vs_tflite_after_sigmoid"]
        json.dump(man, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
