#!/usr/bin/env bash
# train_v3.sh: the chain that made models/default's webcam version (issue 14) from the previous default,
# on a 2-core CPU in one session. The previous default's training checkpoints were not kept, so the chain
# starts from its ONNX graphs (`python -m training recover`, BatchNorm folded and frozen) and fine-tunes
# them on generator-v3 webcam framings mixed with v2 studio people, with the ImageNet MobileNetV2
# perceptual loss. The teacher (parser-based, needs the exact labels) is trained anew on the same data.
#
#   0  data: v3 8,000 samples (seed 1), v2 2,000 samples (seed 1), mixed by symlinks (scripts/mix_datasets.sh)
#   1  recover the previous default (models/default) into a checkpoint
#   2  teacher warp (from scratch) and teacher gen with the person skip, on the mix
#   3  student warp fine-tuned at 128x96 (flow at full resolution of that size, as the previous chain),
#      half the items self-reconstruction, distilled from 2
#   4  student gen fine-tuned at 256x192 on 3's warp, composite-mask weight x5 (see models/default/README.md)
#
# Usage: scripts/train_v3.sh RUN_PREFIX [MODEL_DIR]   (steps: env WARP_STEPS, GEN_STEPS, TEACHER_STEPS)
# Every run resumes where it stopped when started again with the same prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:?run prefix, e.g. runs/v3}
BASE=${2:-models/default}
PY=.venv/bin/python
TW=${TEACHER_STEPS:-200}
WS=${WARP_STEPS:-600}
GS=${GEN_STEPS:-250}
MIX=data/mix-v3v2

[ -d data/v3-main ] || $PY -m training synth --version 3 --out data/v3-main --n 8000 --seed 1 --test-fraction 0.01
[ -d data/v2-main ] || $PY -m training synth --version 2 --out data/v2-main --n 2000 --seed 1 --test-fraction 0.01
[ -d $MIX ] || scripts/mix_datasets.sh $MIX data/v3-main data/v2-main

# run OUT ARGS...: train into OUT unless it finished; continue it when it was interrupted
run() {
  local out=$1; shift
  if [ -f "$out/done" ]; then return; fi
  local resume=()
  [ -f "$out/ckpt_last.pt" ] && resume=(--resume)
  $PY -m training train --arch mg-lite --data $MIX --batch 8 --mobilenet-weights auto --out "$out" "${resume[@]}" "$@"
  touch "$out/done"
}

[ -f "$R-recovered.pt" ] || $PY -m training recover --model "$BASE" --out "$R-recovered.pt"
run "$R-teacher-warp" --model teacher --stage warp --lr 5e-4 --curriculum 0.85 --seed 31 --steps "$TW"
run "$R-teacher-gen" --model teacher --stage gen --lr 5e-4 --curriculum 0.85 --seed 32 --steps $((TW * 3 / 2)) \
  --person-skip on --warp-ckpt "$R-teacher-warp/ckpt_last.pt"
run "$R-student-warp" --model student --stage warp --height 128 --width 96 --flow-downsample 1 --lr 2e-4 \
  --lr-decay-frac 0.5 --seed 33 --steps "$WS" --self-recon 0.5 --loss-weights flow=4 --init "$R-recovered.pt" \
  --teacher "$R-teacher-gen/ckpt_last.pt"
run "$R-student-gen" --model student --stage gen --height 256 --width 192 --flow-downsample 2 --lr 1.5e-4 \
  --lr-decay-frac 0.5 --seed 34 --steps "$GS" --loss-weights gen_mask=5 --warp-ckpt "$R-student-warp/ckpt_last.pt" \
  --teacher "$R-teacher-gen/ckpt_last.pt"
echo "trained: $R-student-gen/ckpt_last.pt"
echo "export:  $PY -m training export --ckpt $R-student-gen/ckpt_last.pt --out models/NAME --measure-threads"
