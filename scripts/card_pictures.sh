#!/usr/bin/env bash
# card_pictures.sh: the pictures of a model card, made again from its evaluation reports and the demo clip.
#
#   test-samples.jpg                - the paired report's sample grid
#   test-samples-teacher-input.jpg  - the teacher-input report's sample grid
#   demo-frames.jpg                 - 8 frames (0.5 to 12.5 s) of `mgvton video` on assets/demo.mp4, 4 x 2
#
# Usage: scripts/card_pictures.sh MODEL_DIR PAIRED_REPORT TEACHER_INPUT_REPORT [GARMENT]
# Needs bin/mgvton (make build), ffmpeg and ImageMagick (make setup installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?model folder}
PAIRED=${2:?paired eval report folder}
TEACHER=${3:?teacher-input eval report folder}
GARMENT=${4:-red-classic-tee}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

convert "$PAIRED/samples.png" -quality 85 "$tmp/test-samples.jpg"
convert "$TEACHER/samples.png" -quality 85 "$tmp/test-samples-teacher-input.jpg"
bin/mgvton video -in assets/demo.mp4 -garment "$GARMENT" -model "$MODEL" -o "$tmp/demo.mp4"
for i in 0 1 2 3 4 5 6 7; do
  t=$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.5 + i * 12 / 7 }')
  ffmpeg -loglevel error -ss "$t" -i "$tmp/demo.mp4" -frames:v 1 -vf scale=320:240 "$tmp/f$i.png"
done
montage "$tmp"/f[0-7].png -tile 4x2 -geometry +0+0 -quality 85 "$tmp/demo-frames.jpg"
mv "$tmp"/test-samples.jpg "$tmp"/test-samples-teacher-input.jpg "$tmp"/demo-frames.jpg "$MODEL/"
echo "card_pictures: wrote $MODEL/test-samples.jpg, test-samples-teacher-input.jpg, demo-frames.jpg"
