"""The framing rule (training/framing.py) against the shared test vectors
(person/testdata/framing_cases.json, also read by the Go tests) and against
the synthetic training crops it was measured on."""
import json
from pathlib import Path

import numpy as np
import pytest

from training import framing as F

CASES = json.loads((Path(__file__).resolve().parents[2] / "person" / "testdata" /
                    "framing_cases.json").read_text())["cases"]
NAMES = {"nose": 0, "left_ear": 7, "right_ear": 8, "left_shoulder": 11, "right_shoulder": 12,
         "left_elbow": 13, "right_elbow": 14, "left_hip": 23, "right_hip": 24}


def _kp(case):
    kp = np.zeros((33, 4))
    for n, v in case["keypoints"].items():
        kp[NAMES[n]] = v
    return kp


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_shared_vectors(case):
    got = F.frame_box(_kp(case), case["width"], case["height"])
    if case["box"] is None:
        assert got is None
        return
    assert got is not None
    np.testing.assert_allclose(got, case["box"], atol=1e-3)
    x, y, w, h = got
    assert w / h == pytest.approx(0.75)


def test_closeup_box_extends_below_the_frame():
    case = next(c for c in CASES if c["name"].startswith("webcam close-up, hips"))
    x, y, w, h = F.frame_box(_kp(case), case["width"], case["height"])
    assert y + h > case["height"] * 2  # hips are far below the frame: so is the box's bottom
    sh_y = case["keypoints"]["left_shoulder"][1]
    assert (sh_y - y) / h == pytest.approx(F.SHOULDER_Y)


def test_full_body_puts_hips_where_training_data_has_them():
    case = next(c for c in CASES if c["name"].startswith("full body"))
    x, y, w, h = F.frame_box(_kp(case), case["width"], case["height"])
    hip_y = case["keypoints"]["left_hip"][1]
    assert (hip_y - y) / h == pytest.approx(F.HIP_Y, abs=1e-6)


def test_rule_reproduces_synthetic_crops():
    """Applied to the exact keypoints of synthetic 256x192 samples, the rule
    returns (nearly) the sample's own crop: the crops the model trained on."""
    errs = []
    for i in range(300):
        x, y, w, h = F.frame_box(F.synthetic_keypoints(1, i), 192, 256)
        errs.append([x / 256, y / 256, h / 256 - 1])
    errs = np.abs(np.array(errs))
    # Spread of the generator's own placement: std 0.026 W in x, 0.017 H in y,
    # about 4 % in scale.
    assert np.median(errs, axis=0).max() < 0.04, np.median(errs, axis=0)
    assert errs.max(axis=0)[2] < 0.15


def test_constants_are_the_measured_targets():
    m = F.measure(n=600, seed=3)
    assert m["shoulder_y"]["mean"] == pytest.approx(F.SHOULDER_Y, abs=0.004)
    assert m["hip_y"]["mean"] == pytest.approx(F.HIP_Y, abs=0.004)
    assert m["shoulder_width"]["mean"] == pytest.approx(F.SHOULDER_WIDTH, abs=0.004)
    assert m["ear_drop"]["mean"] == pytest.approx(F.EAR_DROP, abs=0.003)
    assert m["shoulder_x"]["mean"] == pytest.approx(F.SHOULDER_X, abs=0.005)


def test_crop_pads_past_the_frame_and_matches_go_rounding():
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, :, 0] = np.arange(640)[None, :] // 3  # a horizontal ramp
    case = next(c for c in CASES if c["name"].startswith("webcam close-up, hips"))
    box = F.frame_box(_kp(case), case["width"], case["height"])
    x, y, w, h = F.box_rect(box)
    assert w == int(np.floor(h * 0.75 + 0.5))
    out = F.crop(img, box)
    assert out.shape == (256, 192, 3)
    # Below the frame the bottom row is replicated: the crop's bottom rows
    # equal the row where the frame ends.
    frame_end = int((480 - y) / h * 256)
    np.testing.assert_array_equal(out[-1], out[min(frame_end + 5, 255)])
    with pytest.raises(ValueError):
        F.crop(img, (700, 0, 30, 40))
