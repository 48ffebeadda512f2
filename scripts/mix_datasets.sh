#!/usr/bin/env bash
# mix_datasets.sh OUT SRC... : one VITON-HD-layout train split made of the train splits of several datasets,
# as symlinks (no copies). Source k's stems get the prefix "mK-" so equal stems of two sources never collide;
# the pairs files are concatenated with the same renaming. OUT must not exist.
#
# Used by scripts/train_v3.sh to keep some generator-v2 people beside the v3 webcam framings.
set -euo pipefail
OUT=${1:?usage: mix_datasets.sh OUT SRC...}
shift
[ $# -ge 1 ] || { echo "mix_datasets: give at least one source dataset" >&2; exit 2; }
[ ! -e "$OUT" ] || { echo "mix_datasets: $OUT: exists" >&2; exit 2; }
tmp="$OUT.partial-$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/train"
k=0
for src in "$@"; do
  src=$(cd "$src" && pwd)
  [ -f "$src/train_pairs.txt" ] || { echo "mix_datasets: $src: no train_pairs.txt" >&2; exit 2; }
  for dir in "$src"/train/*/; do
    name=$(basename "$dir")
    mkdir -p "$tmp/train/$name"
    for f in "$dir"*; do
      ln -s "$f" "$tmp/train/$name/m$k-$(basename "$f")"
    done
  done
  for list in train_pairs.txt train_pairs_paired.txt; do
    [ -f "$src/$list" ] && awk -v p="m$k-" 'NF == 2 { print p $1, p $2 }' "$src/$list" >> "$tmp/$list"
  done
  k=$((k + 1))
done
printf '{"mix": [%s]}\n' "$(printf '"%s",' "$@" | sed 's/,$//')" > "$tmp/mix.json"
mv "$tmp" "$OUT"
trap - EXIT
echo "mix_datasets: $OUT: $(wc -l < "$OUT/train_pairs.txt") train pairs from $# datasets"
