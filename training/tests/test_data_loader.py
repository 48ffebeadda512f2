"""VitonHDDataset: round trip, resizing, flow, and errors that name the file."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from training.data import VitonHDDataset
from training.data import labels as L
from training.data.synth import generate

FIXTURE = Path(__file__).parent / "fixtures" / "vitonhd_tiny"

IMAGE_KEYS = ("person", "cloth", "cloth_unpaired", "densepose", "agnostic")
MASK_KEYS = ("cloth_mask", "cloth_mask_unpaired", "garment_region", "flow_valid")


def check_item(it, h, w):
    for k in IMAGE_KEYS:
        assert it[k].shape == (3, h, w) and it[k].dtype == torch.float32, k
        assert it[k].min() >= -1 and it[k].max() <= 1, k
    for k in MASK_KEYS:
        assert it[k].shape == (1, h, w) and it[k].dtype == torch.float32, k
        assert set(torch.unique(it[k]).tolist()) <= {0.0, 1.0}, k
    assert it["parse"].shape == (h, w) and it["parse"].dtype == torch.int64
    assert 0 <= int(it["parse"].min()) and int(it["parse"].max()) < L.NUM_LABELS
    assert it["pose_map"].shape == (18, h, w)
    assert 0 <= float(it["pose_map"].min()) and float(it["pose_map"].max()) <= 1
    assert it["flow"].shape == (2, h, w)
    assert it["flow"].abs().max() <= 1
    assert isinstance(it["has_flow"], bool) and isinstance(it["name"], str)
    assert it["cloth_unpaired_name"] != it["name"]
    # the garment region is where the parse says upper clothes
    gr = L.in_group(it["parse"].numpy(), L.GROUP_UPPER)
    assert (it["garment_region"][0].numpy() > 0).tolist() == gr.tolist()
    if it["has_flow"]:
        assert it["flow_valid"].sum() > 0
        assert (it["flow_valid"] <= it["garment_region"]).all()
        assert (it["flow"] * (1 - it["flow_valid"]) == 0).all()


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("pairs", ["paired", "unpaired"])
def test_fixture_round_trip(split, pairs):
    ds = VitonHDDataset(FIXTURE, split, 256, 192, pairs)
    assert len(ds) == 2 and ds.has_flow
    for i in range(len(ds)):
        check_item(ds[i], 256, 192)


@pytest.mark.parametrize("hw", [(128, 96), (320, 240), (100, 80)])
def test_resize_any_size(hw):
    ds = VitonHDDataset(FIXTURE, "train", *hw)
    it = ds[0]
    check_item(it, *hw)
    # the resized flow still puts the (resized) cloth on the (resized) person
    assert flow_colour_cosine(it) > 0.99


def flow_colour_cosine(it, shift=(0.0, 0.0)):
    """Mean cosine similarity between the RGB vectors of the person and of
    the cloth warped by the flow, inside the valid region eroded by 1 px."""
    v = -F.max_pool2d(-it["flow_valid"][None], 3, 1, 1)[0, 0] > 0
    flow = it["flow"] + torch.tensor(shift)[:, None, None]
    w = F.grid_sample(it["cloth"][None], flow.permute(1, 2, 0)[None], align_corners=False)[0]
    a, b = ((w + 1) / 2)[:, v], ((it["person"] + 1) / 2)[:, v]
    return float(F.cosine_similarity(a + 0.02, b + 0.02, dim=0).mean())


def test_fresh_tiny_set(tmp_path):
    generate(tmp_path, n=6, seed=2, height=64, width=48, test_fraction=0.34, workers=1,
             progress=False)
    for split, n in (("train", 4), ("test", 2)):
        for hw in ((64, 48), (32, 24)):
            ds = VitonHDDataset(tmp_path, split, *hw, pairs="unpaired", preload=True)
            assert len(ds) == n
            for i in range(n):
                check_item(ds[i], *hw)
    batch = next(iter(DataLoader(VitonHDDataset(tmp_path, "train", 64, 48), batch_size=2)))
    assert batch["person"].shape == (2, 3, 64, 48) and len(batch["name"]) == 2


def test_unpaired_partner_comes_from_pairs_file():
    ds = VitonHDDataset(FIXTURE, "test", 64, 48, "unpaired")
    lines = [line.split() for line in (FIXTURE / "test_pairs.txt").read_text().splitlines()]
    for i, (person, cloth) in enumerate(lines):
        assert ds.persons[i] == person and ds.partners[i] == cloth
    paired = VitonHDDataset(FIXTURE, "test", 64, 48, "paired")
    assert paired.pairs_file.name == "test_pairs_paired.txt"
    assert all(p != c for p, c in zip(paired.persons, paired.partners))


def test_flow_warps_cloth_onto_person():
    """grid_sample(cloth, flow) matches the person's garment up to shading.
    Shading scales a pixel's RGB vector, so inside the valid region (eroded
    by one pixel) we compare colour directions: mean cosine similarity
    > 0.995 (measured >= 0.998), and closer than with a flow shifted by a few
    pixels; the mean abs error stays < 40/255 (shading, shadows, JPEG).  The
    exact check without shading is in test_data_synth."""
    for split in ("train", "test"):
        ds = VitonHDDataset(FIXTURE, split, 256, 192)
        for i in range(len(ds)):
            it = ds[i]
            c = flow_colour_cosine(it)
            c_shift = flow_colour_cosine(it, (0.1, 0.05))
            v = it["flow_valid"][0] > 0
            w = F.grid_sample(it["cloth"][None], it["flow"].permute(1, 2, 0)[None],
                              align_corners=False)[0]
            mae = float((w - it["person"]).abs()[:, v].mean()) * 127.5
            assert c > 0.995 and 1 - c < 0.5 * (1 - c_shift) + 2e-4 and mae < 40, \
                (it["name"], c, c_shift, mae)


def test_pose_map_peaks_at_keypoints():
    ds = VitonHDDataset(FIXTURE, "train", 128, 96)
    it = ds[0]
    stem = Path(it["name"]).stem
    doc = json.loads((FIXTURE / "train" / "openpose_json" / f"{stem}_keypoints.json").read_text())
    kp = L.body25_to_coco18(np.asarray(doc["people"][0]["pose_keypoints_2d"]).reshape(25, 3))
    for k in range(18):
        m = it["pose_map"][k]
        if kp[k, 2] <= 0:
            assert m.max() == 0
            continue
        y, x = divmod(int(torch.argmax(m)), 96)
        # source 256x192 -> 128x96: pixel centres scale as (p + 0.5) / 2 - 0.5
        assert abs(x - ((kp[k, 0] + 0.5) / 2 - 0.5)) <= 1 and abs(y - ((kp[k, 1] + 0.5) / 2 - 0.5)) <= 1


@pytest.fixture
def copy(tmp_path):
    dst = tmp_path / "ds"
    shutil.copytree(FIXTURE, dst)
    return dst


def test_real_layout_without_flow(copy):
    for split in ("train", "test"):
        shutil.rmtree(copy / split / "garment-flow")
    ds = VitonHDDataset(copy, "train", 64, 48)
    assert ds.has_flow is False
    it = ds[0]
    assert it["has_flow"] is False
    assert it["flow"].abs().sum() == 0 and it["flow_valid"].sum() == 0
    check_item(it, 64, 48)


def _stem0(root, split="train"):
    return (root / f"{split}_pairs.txt").read_text().split()[0].rsplit(".", 1)[0]


def test_missing_file_is_named(copy):
    s = _stem0(copy)
    victim = copy / "train" / "cloth-mask" / f"{s}.png"
    victim.unlink()
    ds = VitonHDDataset(copy, "train", 64, 48)
    with pytest.raises(FileNotFoundError, match=str(victim)):
        ds[0]


def test_missing_flow_file_is_named(copy):
    s = _stem0(copy)
    victim = copy / "train" / "garment-flow" / f"{s}.png"
    victim.unlink()
    with pytest.raises(FileNotFoundError, match=str(victim)):
        VitonHDDataset(copy, "train", 64, 48)[0]


def test_corrupt_image_is_named(copy):
    s = _stem0(copy)
    victim = copy / "train" / "image" / f"{s}.jpg"
    victim.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=str(victim)):
        VitonHDDataset(copy, "train", 64, 48)[0]


def test_keypoints_without_people_is_named(copy):
    s = _stem0(copy)
    victim = copy / "train" / "openpose_json" / f"{s}_keypoints.json"
    victim.write_text(json.dumps({"version": 1.3, "people": []}))
    with pytest.raises(ValueError, match=str(victim)):
        VitonHDDataset(copy, "train", 64, 48)[0]


def test_parse_out_of_range_is_named(copy):
    from PIL import Image
    s = _stem0(copy)
    victim = copy / "train" / "image-parse-v3" / f"{s}.png"
    a = np.asarray(Image.open(victim)).copy()
    a[0, 0] = 42
    im = Image.fromarray(a, "P")
    im.putpalette(L.palette_flat())
    im.save(victim)
    with pytest.raises(ValueError, match=str(victim)):
        VitonHDDataset(copy, "train", 64, 48)[0]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        VitonHDDataset(FIXTURE, "val")
    with pytest.raises(FileNotFoundError, match="missing split folder"):
        VitonHDDataset(tmp_path, "train")
