"""Label conventions of the VITON-HD layout (and of this repo's synthetic data).

Human parsing (``image-parse-v3``) uses the 20 CIHP/LIP classes exactly as
VITON-HD and HR-VITON do (ids 0..19, P-mode PNG with the CIHP palette).
"Left"/"right" are the *person's* sides, as in CIHP: the person's left arm
appears on the image's right in a frontal photo.  HR-VITON calls label 10
"neck"; CIHP calls it "torso-skin": it is any visible skin of the neck/torso.

Code never compares against bare ids: use the names and groups below.

Pose is OpenPose BODY_25 in ``openpose_json`` (like VITON-HD); the loader
converts it to the 18 COCO keypoints that try-on networks use as pose maps.
"""
from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------
# Parsing labels (CIHP / LIP, 20 classes)
# --------------------------------------------------------------------------
BACKGROUND = 0
HAT = 1
HAIR = 2
GLOVE = 3
SUNGLASSES = 4
UPPER_CLOTHES = 5
DRESS = 6
COAT = 7
SOCKS = 8
PANTS = 9
TORSO_SKIN = 10  # "neck" in HR-VITON
SCARF = 11
SKIRT = 12
FACE = 13
LEFT_ARM = 14
RIGHT_ARM = 15
LEFT_LEG = 16
RIGHT_LEG = 17
LEFT_SHOE = 18
RIGHT_SHOE = 19

NUM_LABELS = 20

LABEL_NAMES = (
    "background", "hat", "hair", "glove", "sunglasses", "upper-clothes",
    "dress", "coat", "socks", "pants", "torso-skin", "scarf", "skirt", "face",
    "left-arm", "right-arm", "left-leg", "right-leg", "left-shoe", "right-shoe",
)

# Named groups (HR-VITON's 13-class merge uses the same sets).
GROUP_UPPER = (UPPER_CLOTHES, DRESS, COAT)       # the garment being tried on
GROUP_ARMS = (LEFT_ARM, RIGHT_ARM)
GROUP_HEAD = (HAT, HAIR, SUNGLASSES, FACE)
GROUP_FACE_KEEP = (SUNGLASSES, FACE)             # VITON-HD agnostic keeps these
GROUP_LOWER = (PANTS, SKIRT, LEFT_LEG, RIGHT_LEG, LEFT_SHOE, RIGHT_SHOE)
GROUP_NECK = (TORSO_SKIN,)

# CIHP palette (the colours VITON-HD's image-parse-v3 PNGs use), RGB.
PALETTE = (
    (0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51),
    (255, 85, 0), (0, 0, 85), (0, 119, 221), (85, 85, 0), (0, 85, 85),
    (85, 51, 0), (52, 86, 128), (0, 128, 0), (0, 0, 255), (51, 170, 221),
    (0, 255, 255), (85, 255, 170), (170, 255, 85), (255, 255, 0), (255, 170, 0),
)


def palette_flat() -> list:
    """768-entry flat palette for PIL ``putpalette`` (unused entries black)."""
    flat = [c for rgb in PALETTE for c in rgb]
    return flat + [0] * (768 - len(flat))


def in_group(parse: np.ndarray, group) -> np.ndarray:
    """Boolean mask of pixels whose label is in ``group``."""
    lut = np.zeros(256, bool)
    lut[list(group)] = True
    if parse.dtype == np.uint8:
        return lut[parse]
    return np.isin(parse, np.asarray(group, dtype=parse.dtype))


def colorize(parse: np.ndarray) -> np.ndarray:
    """(H, W) label ids -> (H, W, 3) uint8 RGB using the CIHP palette."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:NUM_LABELS] = PALETTE
    return lut[parse]


# --------------------------------------------------------------------------
# Pose: OpenPose BODY_25 and COCO-18
# --------------------------------------------------------------------------
BODY25_NAMES = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder",
    "l_elbow", "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip",
    "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe",
    "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)
B25 = {name: i for i, name in enumerate(BODY25_NAMES)}

COCO18_NAMES = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder",
    "l_elbow", "l_wrist", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee",
    "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)
# COCO-18 keypoint k is BODY_25 keypoint BODY25_TO_COCO18[k].
BODY25_TO_COCO18 = tuple(B25[n] for n in COCO18_NAMES)

# Limbs drawn by OpenPose's renderer (BODY_25 pairs) and their colours (RGB).
BODY25_LIMBS = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10),
    (10, 11), (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16),
    (16, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
)
BODY25_COLORS = (
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0),
    (170, 255, 0), (85, 255, 0), (0, 255, 0), (255, 0, 0), (0, 255, 85),
    (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255),
    (255, 0, 170), (170, 0, 255), (255, 0, 255), (85, 0, 255), (0, 0, 255),
    (0, 0, 255), (0, 0, 255), (0, 255, 255), (0, 255, 255), (0, 255, 255),
)


def body25_to_coco18(kp: np.ndarray) -> np.ndarray:
    """(25, 3) BODY_25 keypoints -> (18, 3) COCO-18 keypoints."""
    kp = np.asarray(kp)
    if kp.shape != (25, 3):
        raise ValueError(f"expected (25, 3) BODY_25 keypoints, got {kp.shape}")
    return kp[list(BODY25_TO_COCO18)]


# --------------------------------------------------------------------------
# DensePose-like part indices (the I channel), as in DensePose's 24 parts.
# --------------------------------------------------------------------------
DP_TORSO = 2
DP_RIGHT_HAND = 3
DP_LEFT_HAND = 4
DP_RIGHT_UPPER_LEG = 7
DP_LEFT_UPPER_LEG = 8
DP_LEFT_UPPER_ARM = 15
DP_RIGHT_UPPER_ARM = 16
DP_LEFT_LOWER_ARM = 19
DP_RIGHT_LOWER_ARM = 20
DP_HEAD_RIGHT = 23
DP_HEAD_LEFT = 24
DP_I_SCALE = 10  # stored I channel value = part index * DP_I_SCALE
