#!/usr/bin/env bash
# train_default.sh: the recipe that made models/default on a 2-core CPU.
# Paper pipeline (teacher warp -> teacher gen -> distilled student warp ->
# student gen), MG-lite size, 256x192 with most steps at half resolution
# (curriculum), then export and evaluation on the held-out test split.
# Usage: scripts/train_default.sh DATA_DIR RUN_PREFIX [STEP_SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?dataset in VITON-HD layout}
RUN=${2:?run prefix, e.g. runs/default}
SCALE=${3:-1}
PY=.venv/bin/python
steps() { echo $(( $1 * SCALE )); }
common=(--arch mg-lite --data "$DATA" --height 256 --width 192 --batch 8 --lr 5e-4 --curriculum 0.85 --seed 1)

$PY -m training train --model teacher --stage warp "${common[@]}" --steps "$(steps 200)" --out "$RUN-teacher-warp"
$PY -m training train --model teacher --stage gen "${common[@]}" --steps "$(steps 120)" \
    --warp-ckpt "$RUN-teacher-warp/ckpt_last.pt" --out "$RUN-teacher-gen"
$PY -m training train --model student --stage warp "${common[@]}" --steps "$(steps 300)" \
    --teacher "$RUN-teacher-gen/ckpt_last.pt" --out "$RUN-student-warp"
$PY -m training train --model student --stage gen "${common[@]}" --steps "$(steps 150)" \
    --teacher "$RUN-teacher-gen/ckpt_last.pt" --warp-ckpt "$RUN-student-warp/ckpt_last.pt" --out "$RUN-student-gen"
echo "trained: $RUN-student-gen/ckpt_last.pt"
