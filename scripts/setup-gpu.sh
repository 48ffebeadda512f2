#!/usr/bin/env bash
# setup-gpu.sh installs a GPU build of ONNX Runtime (CUDA execution provider)
# and the CUDA 12 / cuDNN 9 runtime libraries it needs into lib/gpu/, from
# Maven Central and PyPI, checking every download's sha256. Not part of
# 'make setup' or CI: about 1.5 GB of downloads and 2.5 GB on disk.
# It needs an NVIDIA driver to be useful (not installed here: the driver
# belongs to the machine). Idempotent: a complete lib/gpu is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_GPU_VERSION=1.24.1
ORT_GPU_JAR_SHA256=edc108e5e73dedaf44a35fa97e7517c487f0fd5658856ae9c83d0099070b514e
DEST=lib/gpu

# PyPI wheels (name==version sha256); their lib/*.so* go beside the runtime,
# where the CUDA provider finds them (its RUNPATH is set to $ORIGIN below).
WHEELS=(
  "nvidia-cuda-runtime-cu12==12.9.79 25bba2dfb01d48a9b59ca474a1ac43c6ebf7011f1b0b8cc44f54eb6ac48a96c3"
  "nvidia-cublas-cu12==12.9.3.13 d7d51055f161b317c7105ddaae90e71eda059026074ffef93cf7cde2886bfe72"
  "nvidia-curand-cu12==10.3.10.19 49b274db4780d421bd2ccd362e1415c13887c53c214f0d4b761752b8f9f6aa1e"
  "nvidia-cufft-cu12==11.4.1.4 c67884f2a7d276b4b80eb56a79322a95df592ae5e765cf1243693365ccab4e28"
  "nvidia-cudnn-cu12==9.28.0.42 9ff58b7f36dacd0a93e89f8f2957b52466889217963701daa15e577317cfa375"
  "nvidia-cuda-nvrtc-cu12==12.9.86 210cf05005a447e29214e9ce50851e83fc5f4358df8b453155d5e1918094dcb4"
)

log() { printf 'setup-gpu: %s\n' "$*"; }
die() { printf 'setup-gpu: %s\n' "$*" >&2; exit 1; }

if [ -f "$DEST/.complete" ]; then
  log "$DEST is installed (remove it to reinstall)"
  exit 0
fi
command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
if ! command -v patchelf >/dev/null; then
  log "installing patchelf (Debian)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends patchelf
fi
[ -x .venv/bin/python ] || die ".venv missing: run 'make setup' first"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
stage="$tmp/gpu"; mkdir -p "$stage"

# 1. The runtime: Maven's onnxruntime_gpu jar carries the C library and its
#    CUDA/TensorRT providers for linux-x64.
log "fetching com.microsoft.onnxruntime:onnxruntime_gpu:$ORT_GPU_VERSION (about 370 MB)"
mvn -q dependency:get -Dartifact="com.microsoft.onnxruntime:onnxruntime_gpu:$ORT_GPU_VERSION" -Dtransitive=false
jar="$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime_gpu/$ORT_GPU_VERSION/onnxruntime_gpu-$ORT_GPU_VERSION.jar"
echo "$ORT_GPU_JAR_SHA256  $jar" | sha256sum -c --status || die "$jar: checksum mismatch"
unzip -q -j -o "$jar" 'ai/onnxruntime/native/linux-x64/libonnxruntime.so' \
  'ai/onnxruntime/native/linux-x64/libonnxruntime_providers_*.so' -d "$stage"

# 2. CUDA 12 and cuDNN 9 runtime libraries from PyPI wheels (no installs:
#    each wheel is unpacked and only its shared libraries are kept).
for w in "${WHEELS[@]}"; do
  spec=${w%% *}; sum=${w##* }
  log "fetching $spec"
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp/wheels" "$spec"
  file=$(ls "$tmp"/wheels/"$(echo "${spec%%==*}" | tr - _)"-*.whl)
  echo "$sum  $file" | sha256sum -c --status || die "$file: checksum mismatch"
  mkdir -p "$tmp/unpack"
  unzip -q -o "$file" 'nvidia/*/lib/*.so*' -d "$tmp/unpack"
done
cp -a "$tmp"/unpack/nvidia/*/lib/*.so* "$stage/"

# 3. ONNX Runtime dlopens its CUDA provider, whose own dependencies are then
#    looked up in the system paths only: point it at its folder.
patchelf --set-rpath '$ORIGIN' "$stage/libonnxruntime_providers_cuda.so"

# 4. Every library the CUDA provider needs must resolve inside lib/gpu
#    (libcuda.so.1 comes with the driver and is loaded at run time).
missing=$(LD_LIBRARY_PATH= ldd "$stage/libonnxruntime_providers_cuda.so" | grep 'not found' || true)
[ -z "$missing" ] || die "the CUDA provider's libraries do not resolve: $missing"

rm -rf "$DEST.tmp" && mkdir -p "$(dirname "$DEST")" && mv "$stage" "$DEST.tmp"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
touch "$DEST/.complete"
log "installed $(du -sh "$DEST" | cut -f1) in $DEST"
if [ -d /proc/driver/nvidia/gpus ] && [ -n "$(ls /proc/driver/nvidia/gpus)" ]; then
  log "GPU found: 'mgvton -device cuda' and 'make run' use it"
else
  log "no NVIDIA driver/GPU on this machine: mgvton keeps running on the CPU (-device auto)"
fi
