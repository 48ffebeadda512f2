"""Writes framing_cases.json: test vectors of the framing rule, read by the
Go tests (person/framing_test.go) and the Python tests
(training/tests/test_framing.py).

Run from the repository root: PYTHONPATH=. .venv/bin/python person/testdata/make_framing_cases.py

The expected boxes come from training.framing.frame_box; each case also
states, in words, what a correct box must do, and the tests check that too.
"""
import json
from pathlib import Path

import numpy as np

from training import framing as F

NAMES = {"nose": 0, "left_ear": 7, "right_ear": 8, "left_shoulder": 11, "right_shoulder": 12,
         "left_elbow": 13, "right_elbow": 14, "left_hip": 23, "right_hip": 24}


def named(kp):
    return {n: [round(float(v), 3) for v in kp[i]] for n, i in NAMES.items() if kp[i].any()}


def array(points):
    kp = np.zeros((33, 4))
    for n, v in points.items():
        kp[NAMES[n]] = v
    return kp


cases = []


def add(name, points, width, height, note):
    kp = array(points)
    box = F.frame_box(kp, width, height)
    cases.append({"name": name, "note": note, "width": width, "height": height, "keypoints": named(kp),
                  "box": None if box is None else [round(v, 4) for v in box]})


syn = F.synthetic_keypoints(0, 7)
add("synthetic training crop", {n: syn[i] for n, i in NAMES.items()}, 192, 256,
    "the rule crops a training image as it is: box close to (0, 0, 192, 256)")
add("webcam close-up, hips below the frame",
    {"nose": [320, 250, 1, 1], "left_ear": [385, 225, .9, 1], "right_ear": [255, 225, .9, 1],
     "left_shoulder": [470, 462, .95, .9], "right_shoulder": [170, 462, .95, .9],
     "left_elbow": [520, 700, .1, .05], "right_elbow": [120, 700, .1, .05],
     "left_hip": [420, 940, .05, .01], "right_hip": [230, 940, .05, .01]}, 640, 480,
    "scale from the shoulders; the box extends below the frame")
add("webcam close-up, body turned",
    {"nose": [300, 240, 1, 1], "left_ear": [360, 215, .9, 1], "right_ear": [250, 222, .4, 1],
     "left_shoulder": [390, 455, .9, .9], "right_shoulder": [250, 458, .6, .9],
     "left_hip": [330, 930, .05, .01], "right_hip": [260, 930, .05, .01]}, 640, 480,
    "turned shoulders look narrow: the ear-to-shoulder distance sets the scale")
add("full body, small in a 1280x720 frame",
    {"nose": [640, 215, 1, 1], "left_ear": [652, 210, .9, 1], "right_ear": [628, 210, .9, 1],
     "left_shoulder": [668, 250, 1, 1], "right_shoulder": [612, 250, 1, 1],
     "left_hip": [658, 372, 1, 1], "right_hip": [622, 372, 1, 1]}, 1280, 720,
    "hips seen: the torso sets the scale and the hips land at 0.81 of the box")
add("back view, no face",
    {"nose": [400, 180, .02, 1], "left_ear": [430, 175, .2, 1], "right_ear": [370, 175, .2, 1],
     "left_shoulder": [350, 260, .9, 1], "right_shoulder": [450, 262, .9, 1],
     "left_hip": [365, 470, .8, 1], "right_hip": [435, 470, .8, 1]}, 800, 600,
    "no visible face: shoulders and hips still place the box")
add("hips hidden behind a desk",
    {"nose": [320, 150, 1, 1], "left_ear": [355, 135, .9, 1], "right_ear": [285, 135, .9, 1],
     "left_shoulder": [400, 280, .95, 1], "right_shoulder": [240, 280, .95, 1],
     "left_hip": [380, 470, .2, .9], "right_hip": [260, 470, .2, .9]}, 640, 480,
    "hips inside the frame but not visible: shoulders and head set the scale")
add("nobody", {}, 640, 480, "no keypoints: no box")

out = Path(__file__).with_name("framing_cases.json")
out.write_text(json.dumps({"generator": "person/testdata/make_framing_cases.py", "cases": cases}, indent=1) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
