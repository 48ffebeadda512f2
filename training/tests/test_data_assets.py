"""Bundled assets made by scripts/make_catalog.py and scripts/make_demo.py."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
GARMENTS = ROOT / "assets" / "garments"
DEMO = ROOT / "assets" / "demo.mp4"


def test_catalog():
    doc = json.loads((GARMENTS / "catalog.json").read_text())
    assert doc["version"] == 1
    entries = doc["garments"]
    assert len(entries) >= 12
    assert len({e["id"] for e in entries}) == len(entries)
    cats = {e["category"] for e in entries}
    assert cats == {"t-shirt", "long-sleeve", "tank-top"}
    for e in entries:
        assert re.fullmatch(r"[a-z0-9-]+", e["id"]), e["id"]
        assert e["image"] == f"{e['id']}.png" and e["mask"] == f"{e['id']}_mask.png"
        assert e["thumb"] == f"{e['id']}_thumb.png" and e["name"] and isinstance(e["tags"], list)
        assert e["added"].endswith("Z")
        img = cv2.imread(str(GARMENTS / e["image"]))
        assert img.shape == (512, 384, 3)
        assert img[:8, :8].mean() > 200  # near-white background
        m = cv2.imread(str(GARMENTS / e["mask"]), cv2.IMREAD_UNCHANGED)
        assert m.shape == (512, 384) and set(np.unique(m)) <= {0, 255}
        assert 0.15 < (m > 0).mean() < 0.7
        assert cv2.imread(str(GARMENTS / e["thumb"])).shape == (128, 96, 3)
    assert sum(p.stat().st_size for p in GARMENTS.iterdir()) < 3_000_000


def test_demo_clip():
    assert DEMO.stat().st_size < 5_000_000
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed")
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,width,height,r_frame_rate,pix_fmt,duration",
                          "-of", "json", str(DEMO)], capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)["streams"][0]
    assert (s["codec_name"], s["width"], s["height"], s["pix_fmt"]) == ("h264", 640, 480, "yuv420p")
    assert s["r_frame_rate"] == "30/1" and 12 <= float(s["duration"]) <= 16
