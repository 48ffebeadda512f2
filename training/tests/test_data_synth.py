"""Synthetic generator: layout, annotations, determinism, split hygiene."""
import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from training.data import labels as L
from training.data.synth import FOLDERS, generate, main, make_sample

H, W = 64, 48


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth") / "ds"
    assert main(["--out", str(root), "--n", "6", "--seed", "3", "--height", str(H),
                 "--width", str(W), "--test-fraction", "0.34", "--workers", "1", "--quiet"]) == 0
    return root


def _pairs(root, split, suffix=""):
    lines = (root / f"{split}_pairs{suffix}.txt").read_text().split("\n")
    return [tuple(line.split()) for line in lines if line.strip()]


def _stems(root, split):
    return sorted(p.stem for p in (root / split / "image").glob("*.jpg"))


def test_layout_complete(tiny):
    for split in ("train", "test"):
        stems = _stems(tiny, split)
        assert stems, split
        for folder in FOLDERS:
            names = sorted(p.name for p in (tiny / split / folder).iterdir())
            assert len(names) == len(stems), (split, folder, names)
        for person, cloth in _pairs(tiny, split) + _pairs(tiny, split, "_paired"):
            for name in (person, cloth):
                s = Path(name).stem
                d = tiny / split
                for rel in (f"image/{s}.jpg", f"cloth/{s}.jpg", f"cloth-mask/{s}.png",
                            f"image-parse-v3/{s}.png", f"openpose_json/{s}_keypoints.json",
                            f"openpose_img/{s}_rendered.png", f"image-densepose/{s}.jpg",
                            f"agnostic-v3.2/{s}.jpg", f"garment-flow/{s}.png"):
                    assert (d / rel).is_file(), d / rel
    meta = json.loads((tiny / "synth.json").read_text())
    assert (meta["train"], meta["test"]) == (4, 2)


def test_images_and_masks(tiny):
    for split in ("train", "test"):
        for s in _stems(tiny, split):
            d = tiny / split
            img = cv2.imread(str(d / "image" / f"{s}.jpg"))
            assert img.shape == (H, W, 3)
            m = cv2.imread(str(d / "cloth-mask" / f"{s}.png"), cv2.IMREAD_UNCHANGED)
            assert m.shape == (H, W) and m.dtype == np.uint8
            assert set(np.unique(m)) <= {0, 255} and (m == 255).mean() > 0.1


def test_parse_labels(tiny):
    for split in ("train", "test"):
        for s in _stems(tiny, split):
            im = Image.open(tiny / split / "image-parse-v3" / f"{s}.png")
            assert im.mode == "P"
            assert im.getpalette()[: 3 * L.NUM_LABELS] == [c for rgb in L.PALETTE for c in rgb]
            a = np.asarray(im)
            assert a.shape == (H, W) and a.max() < L.NUM_LABELS
            present = set(np.unique(a).tolist())
            assert {L.BACKGROUND, L.UPPER_CLOTHES, L.FACE, L.HAIR} <= present, present


def test_keypoints_inside_image(tiny):
    for split in ("train", "test"):
        for s in _stems(tiny, split):
            doc = json.loads((tiny / split / "openpose_json" / f"{s}_keypoints.json").read_text())
            kp = np.asarray(doc["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
            vis = kp[:, 2] > 0
            assert vis[[L.B25[n] for n in ("nose", "neck", "r_shoulder", "l_shoulder")]].all()
            assert (kp[vis, 0] >= 0).all() and (kp[vis, 0] <= W - 1).all()
            assert (kp[vis, 1] >= 0).all() and (kp[vis, 1] <= H - 1).all()
            assert (kp[~vis, :2] == 0).all()


def test_flow_valid_only_on_garment(tiny):
    for split in ("train", "test"):
        for s in _stems(tiny, split):
            d = tiny / split
            f = cv2.imread(str(d / "garment-flow" / f"{s}.png"), cv2.IMREAD_UNCHANGED)
            assert f.dtype == np.uint16 and f.shape == (H, W, 3)
            valid = f[..., 2] == 65535
            assert set(np.unique(f[..., 2])) <= {0, 65535}
            parse = np.asarray(Image.open(d / "image-parse-v3" / f"{s}.png"))
            assert valid.sum() > 0.05 * H * W
            assert not (valid & ~L.in_group(parse, L.GROUP_UPPER)).any()
            assert (f[~valid] == 0).all()
            # every valid pixel points into the garment of the cloth image
            xy = f[..., :2].astype(np.float32) / 65535 * 2 - 1
            px = ((xy[..., 0] + 1) * W - 1) / 2
            py = ((xy[..., 1] + 1) * H - 1) / 2
            mask = cv2.imread(str(d / "cloth-mask" / f"{s}.png"), cv2.IMREAD_GRAYSCALE)
            hit = cv2.remap(mask.astype(np.float32), px, py, cv2.INTER_LINEAR)[valid]
            assert (hit >= 64).mean() > 0.97


def test_deterministic_by_seed(tiny, tmp_path):
    again = tmp_path / "again"
    generate(again, n=6, seed=3, height=H, width=W, test_fraction=0.34, workers=2, progress=False)
    assert _files(again) == _files(tiny)  # same bytes, whatever the worker count
    other = tmp_path / "other"
    generate(other, n=6, seed=4, height=H, width=W, test_fraction=0.34, workers=1, progress=False)
    a, b = _files(other), _files(tiny)
    assert sum(a[k] == b[k] for k in a if k.endswith(".jpg")) == 0


def test_train_test_disjoint(tiny):
    tr, te = _stems(tiny, "train"), _stems(tiny, "test")
    assert not set(tr) & set(te)
    for folder, ext in (("image", ".jpg"), ("cloth", ".jpg")):
        h = {split: {hashlib.sha256((tiny / split / folder / f"{s}{ext}").read_bytes()).hexdigest()
                     for s in _stems(tiny, split)} for split in ("train", "test")}
        assert not h["train"] & h["test"], folder
        assert len(h["train"]) == len(tr) and len(h["test"]) == len(te)  # all distinct


def test_pairs_files(tiny):
    for split in ("train", "test"):
        stems = set(_stems(tiny, split))
        unpaired = _pairs(tiny, split)
        assert sorted(Path(p).stem for p, _ in unpaired) == sorted(stems)
        assert all(p != c and Path(c).stem in stems for p, c in unpaired)
        assert sorted(Path(c).stem for _, c in unpaired) == sorted(stems)  # each garment once
        assert all(p == c for p, c in _pairs(tiny, split, "_paired"))


def test_too_small_split_is_an_error(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "x"), "--n", "3", "--quiet"]) == 1
    assert "each split needs" in capsys.readouterr().err


def _warp(cloth, flow):
    h, w = cloth.shape[:2]
    px = ((flow[..., 0] + 1) * w - 1) / 2
    py = ((flow[..., 1] + 1) * h - 1) / 2
    return cv2.remap(cloth.astype(np.float32), px.astype(np.float32), py.astype(np.float32),
                     cv2.INTER_LINEAR)


@pytest.mark.parametrize("index", range(4))
def test_flow_reproduces_garment_without_shading(index):
    """With shading off, warping the cloth with the flow gives the person's
    garment pixels: mean abs error < 1.5/255 (95th percentile < 3/255) inside
    the valid region eroded by one pixel (edges are anti-aliased against arms,
    background and the other garment part).  Measured: ~0.3/255 mean."""
    s = make_sample(11, index, 128, 96, flat=True)
    warped = _warp(s.cloth, s.flow)
    inner = cv2.erode(s.flow_valid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    err = np.abs(warped - s.image.astype(np.float32)).mean(-1)[inner]
    assert inner.sum() > 500
    assert err.mean() < 1.5, err.mean()
    assert np.percentile(err, 95) < 3.0


def test_resume_finishes_an_interrupted_run(tiny, tmp_path):
    part = tmp_path / "part"
    shutil.copytree(tiny, part)
    s = _stems(part, "train")[1]
    for folder, ext in (("image", ".jpg"), ("garment-flow", ".png")):
        (part / "train" / folder / f"{s}{ext}").unlink()
    info = generate(part, n=6, seed=3, height=H, width=W, test_fraction=0.34, workers=1,
                    progress=False, resume=True)
    assert info["generated"] == 1
    assert _files(part) == _files(tiny)
    with pytest.raises(ValueError, match="other arguments"):
        generate(part, n=6, seed=9, height=H, width=W, test_fraction=0.34, workers=1,
                 progress=False, resume=True)
