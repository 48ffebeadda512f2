#!/usr/bin/env bash
# Reproducible conversion of MediaPipe's person models to ONNX (see README.md).
# Everything heavy happens under $WORK (default /tmp/mgvton-person-models):
# the npm tarballs, a throwaway venv with TensorFlow, intermediate files.
# Writes models/person/*.onnx, SHA256SUMS and manifest.json in the repo.
# Not part of `make setup` or CI. `convert.sh --parity-only` keeps the committed
# ONNX files and only re-runs the checks against TFLite.
set -euo pipefail

POSE_VERSION=0.5.1675469404
SELFIE_VERSION=0.1.1675465747
TF_VERSION=2.21.0
TF2ONNX_VERSION=1.17.0
ORT_VERSION=1.32.0
ONNX_VERSION=1.23.2
OPENCV_VERSION=5.1.0.95
# sha256 of the npm tarballs as packed on 2026-12-02
POSE_TGZ_SHA256=8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84
SELFIE_TGZ_SHA256=7767b33eaa68990ee06c28bbb89f39a13a47ebb07ff0f1fd4947d9e817bb9bf9

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/mgvton-person-models}
OUT=${OUT:-$REPO/models/person}
PY=${PYTHON:-python3}
mkdir -p "$WORK"

cd "$WORK"
for spec in "@mediapipe/pose@$POSE_VERSION" "@mediapipe/selfie_segmentation@$SELFIE_VERSION"; do
	tgz=$(echo "$spec" | sed 's/^@//; s/\//-/; s/@/-/').tgz
	[ -f "$tgz" ] || npm pack --silent "$spec" >/dev/null
	[ -f "$tgz" ] || { echo "convert.sh: npm pack $spec made no $tgz" >&2; exit 1; }
done
echo "$POSE_TGZ_SHA256  mediapipe-pose-$POSE_VERSION.tgz
$SELFIE_TGZ_SHA256  mediapipe-selfie_segmentation-$SELFIE_VERSION.tgz" | sha256sum -c --quiet - ||
	{ echo "convert.sh: npm tarballs differ from the pinned sha256" >&2; exit 1; }
rm -rf pose selfie && mkdir pose selfie
tar xzf "mediapipe-pose-$POSE_VERSION.tgz" -C pose
tar xzf "mediapipe-selfie_segmentation-$SELFIE_VERSION.tgz" -C selfie

if [ ! -x venv/bin/python ]; then
	"$PY" -m venv venv
	venv/bin/pip install -q "tensorflow-cpu==$TF_VERSION" "tf2onnx==$TF2ONNX_VERSION" \
		"onnxruntime==$ORT_VERSION" "onnx==$ONNX_VERSION" "opencv-python-headless==$OPENCV_VERSION"
fi

# parity images: real photos of people (assets/realset when present, else
# OpenCV's messi5.jpg and basketball1.png from Debian's opencv-doc)
IMAGES=()
if compgen -G "$REPO/assets/realset/*.jpg" >/dev/null; then
	IMAGES=("$REPO"/assets/realset/*.jpg)
else
	[ -f opencv-doc.deb ] || { apt-get download opencv-doc >/dev/null 2>&1 && mv opencv-doc_*.deb opencv-doc.deb; }
	rm -rf ocvdoc && mkdir ocvdoc && dpkg-deb -x opencv-doc.deb ocvdoc
	d=ocvdoc/usr/share/doc/opencv-doc/examples/data
	IMAGES=("$d/messi5.jpg" "$d/basketball1.png")
fi

VERSIONS=$(printf '{"@mediapipe/pose": "%s", "@mediapipe/selfie_segmentation": "%s", "tensorflow-cpu": "%s", "tf2onnx": "%s", "opset": 17}' \
	"$POSE_VERSION" "$SELFIE_VERSION" "$TF_VERSION" "$TF2ONNX_VERSION")
mkdir -p "$OUT"
PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2 venv/bin/python "$REPO/scripts/person_models/convert.py" \
	--pose-dir pose/package --selfie-dir selfie/package --work "$WORK/build" --out "$OUT" \
	--images "${IMAGES[@]}" --versions "$VERSIONS" "$@"
cp pose/package/package.json "$WORK/build/pose-package.json"
cp selfie/package/package.json "$WORK/build/selfie-package.json"
echo "convert.sh: wrote $OUT (parity details in $OUT/parity.json)"
