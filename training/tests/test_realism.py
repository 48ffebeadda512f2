"""Realism measure: the BlazePose pipeline in Python matches the reference outputs, and finds the
rendered people where the generator put them."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("onnxruntime")
from training.realism import PoseModel, exact_pose, measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "person" / "testdata"


@pytest.fixture(scope="module")
def model():
    return PoseModel(landmark="full")


def test_matches_reference_outputs(model):
    refs = {r["image"]: r for r in json.loads((REF / "reference.json").read_text())["images"]}
    for name in ("messi5.jpg", "basketball1.jpg"):
        rgb = cv2.cvtColor(cv2.imread(str(REF / name)), cv2.COLOR_BGR2RGB)
        r = model(rgb)
        ref = refs[name]
        assert abs(r["score"] - ref["detector"]["top_score"]) < 0.02
        for k, j in (("nose", 0), ("left_shoulder", 11), ("right_shoulder", 12), ("left_hip", 23)):
            want = np.array(ref["landmarks"]["pose_landmark_full"]["keypoints_px"][k])
            assert np.hypot(*(r["landmarks"][j] - 0.5 - want)) < 4.0, (name, k)


def test_nobody_is_not_detected(model):
    rgb = cv2.cvtColor(cv2.imread(str(REF / "nobody_room.jpg")), cv2.COLOR_BGR2RGB)
    assert model(rgb)["score"] < 0.5


@pytest.mark.parametrize("version", [2, 3])
def test_measure_on_a_few_renders(model, version):
    r = measure(version, 3, seed=7, model=model)
    assert r["n"] == 3 and 0 <= r["detection_rate"] <= 1
    assert r["keypoints_compared"] > 10
    # the exact pose is in the same coordinates as the detector's points: the shoulders agree closely
    assert r["shoulder_error_mean_H"] < 0.12


def test_exact_pose_marks_out_of_frame_points_unusable():
    for i in range(6):
        img, bp, use = exact_pose(3, 7, i, 256, 192)
        assert img.shape == (256, 192, 3)
        assert (bp[use, 1] <= 256).all()
