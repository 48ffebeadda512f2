"""Loader for the VITON-HD folder layout (the real data set or ours).

``VitonHDDataset(root, split, height, width, pairs)`` reads
``root/{split}/...`` and ``root/{split}_pairs.txt`` (see :mod:`.synth` for the
layout) and returns, per person, a dict of tensors resized to (height, width):

==================== =============== =====================================
key                  shape / type    content
==================== =============== =====================================
person               (3,H,W) float   person image in [-1, 1]
cloth                (3,H,W) float   the garment the person wears, [-1, 1]
cloth_mask           (1,H,W) float   its mask, {0, 1}
cloth_unpaired       (3,H,W) float   another garment c' (pairs-file partner)
cloth_mask_unpaired  (1,H,W) float   its mask
parse                (H,W) int64     CIHP label ids (nearest resize)
garment_region       (1,H,W) float   parse in the upper-clothes group, {0,1}
pose_map             (18,H,W) float  COCO-18 gaussian heatmaps (peak 1)
densepose            (3,H,W) float   IUV-like image in [-1, 1]
agnostic             (3,H,W) float   clothing-agnostic person, [-1, 1]
flow                 (2,H,W) float   absolute sampling grid into ``cloth``,
                                     [-1,1], align_corners=False, ch 0 = x
flow_valid           (1,H,W) float   1 where ``flow`` is defined
has_flow             bool            the data set has garment-flow/
name                 str             person image file name
cloth_unpaired_name  str             file name of c'
==================== =============== =====================================

``has_flow`` is a property of the whole split: real VITON-HD has no
``garment-flow/`` folder, and then ``flow``/``flow_valid`` are zeros for every
item.  When the folder exists every file must be there.

Pairs: ``pairs='unpaired'`` lists persons from ``{split}_pairs.txt``;
``pairs='paired'`` from ``{split}_pairs_paired.txt`` when it exists, else
``{split}_pairs.txt`` (VITON-HD's train list is paired).  ``cloth`` is always
the person's own garment (same file name); ``cloth_unpaired`` is the list's
partner, or, when the list pairs a person with their own garment, a
deterministic different garment of the split.

Missing or undecodable files raise ``FileNotFoundError``/``ValueError``
naming the file; nothing falls back silently.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from . import labels as L

# folder -> extensions accepted, in order of preference
_EXTS = {
    "image": (".jpg", ".png"),
    "cloth": (".jpg", ".png"),
    "cloth-mask": (".png", ".jpg"),
    "image-parse-v3": (".png",),
    "image-densepose": (".jpg", ".png"),
    "agnostic-v3.2": (".jpg", ".png"),
    "garment-flow": (".png",),
}


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


class VitonHDDataset(Dataset):
    def __init__(self, root, split: str = "train", height: int = 256, width: int = 192,
                 pairs: str = "unpaired", preload: bool = False, pose_sigma: float = 3.0):
        """``pose_sigma``: heatmap standard deviation in pixels at height 256
        (scaled with ``height``).  ``preload`` reads every file's bytes into
        memory once (decoding still happens per item)."""
        if split not in ("train", "test"):
            raise ValueError(f"vitonhd: split must be 'train' or 'test', got {split!r}")
        if pairs not in ("paired", "unpaired"):
            raise ValueError(f"vitonhd: pairs must be 'paired' or 'unpaired', got {pairs!r}")
        self.root = Path(root)
        self.split = split
        self.dir = self.root / split
        self.height, self.width = int(height), int(width)
        self.sigma = pose_sigma * self.height / 256.0
        if not self.dir.is_dir():
            raise FileNotFoundError(f"vitonhd: missing split folder {self.dir}")
        plist = self.root / f"{split}_pairs.txt"
        if pairs == "paired" and (self.root / f"{split}_pairs_paired.txt").is_file():
            plist = self.root / f"{split}_pairs_paired.txt"
        self.pairs_file = plist
        self.persons, self.partners = self._read_pairs(plist)
        self.has_flow = (self.dir / "garment-flow").is_dir()
        self._ext = {}
        for folder, exts in _EXTS.items():
            if folder == "garment-flow" and not self.has_flow:
                continue
            probe = _stem(self.persons[0])
            found = [e for e in exts if (self.dir / folder / (probe + e)).is_file()]
            self._ext[folder] = found[0] if found else exts[0]
        self._bytes = None
        if preload:
            self._bytes = {}
            for i in range(len(self)):
                for p in self._paths(i).values():
                    if isinstance(p, Path) and p not in self._bytes:
                        self._bytes[p] = self._read_bytes(p)

    # -- index --------------------------------------------------------------
    def _read_pairs(self, path: Path):
        if not path.is_file():
            raise FileNotFoundError(f"vitonhd: missing pairs file {path}")
        persons, partners = [], []
        for k, line in enumerate(path.read_text().splitlines()):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"vitonhd: {path}:{k + 1}: expected 'person cloth', got {line!r}")
            persons.append(parts[0])
            partners.append(parts[1])
        if not persons:
            raise ValueError(f"vitonhd: empty pairs file {path}")
        n = len(persons)
        out = []
        for i, (p, c) in enumerate(zip(persons, partners)):
            if _stem(c) == _stem(p):
                if n < 2:
                    raise ValueError(f"vitonhd: {path} lists one person: no other garment to pair with")
                c = persons[(i + max(1, n // 2)) % n]
            out.append(c)
        return persons, out

    def __len__(self) -> int:
        return len(self.persons)

    def _file(self, folder: str, stem: str) -> Path:
        return self.dir / folder / (stem + self._ext[folder])

    def _paths(self, i: int) -> dict:
        s, c = _stem(self.persons[i]), _stem(self.partners[i])
        p = {
            "image": self._file("image", s),
            "cloth": self._file("cloth", s),
            "cloth_mask": self._file("cloth-mask", s),
            "cloth_u": self._file("cloth", c),
            "cloth_mask_u": self._file("cloth-mask", c),
            "parse": self._file("image-parse-v3", s),
            "pose": self.dir / "openpose_json" / f"{s}_keypoints.json",
            "densepose": self._file("image-densepose", s),
            "agnostic": self._file("agnostic-v3.2", s),
        }
        if self.has_flow:
            p["flow"] = self._file("garment-flow", s)
        return p

    # -- readers ------------------------------------------------------------
    def _read_bytes(self, path: Path) -> bytes:
        if self._bytes is not None and path in self._bytes:
            return self._bytes[path]
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"vitonhd: missing file {path}") from None

    def _decode(self, path: Path, flags) -> np.ndarray:
        buf = np.frombuffer(self._read_bytes(path), np.uint8)
        img = cv2.imdecode(buf, flags) if buf.size else None
        if img is None:
            raise ValueError(f"vitonhd: cannot decode image {path}")
        return img

    def _rgb(self, path: Path) -> np.ndarray:
        img = self._decode(path, cv2.IMREAD_COLOR)
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def _resize(self, img: np.ndarray, nearest: bool = False) -> np.ndarray:
        h, w = img.shape[:2]
        if (h, w) == (self.height, self.width):
            return img
        if nearest:
            interp = cv2.INTER_NEAREST
        else:
            interp = cv2.INTER_AREA if h > self.height else cv2.INTER_LINEAR
        return cv2.resize(img, (self.width, self.height), interpolation=interp)

    @staticmethod
    def _to_tensor_rgb(img: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float()
        return t.div_(127.5).sub_(1.0)

    def _mask(self, path: Path) -> torch.Tensor:
        m = self._decode(path, cv2.IMREAD_GRAYSCALE)
        m = self._resize(m)
        return torch.from_numpy((m >= 128).astype(np.float32))[None]

    def _parse(self, path: Path) -> np.ndarray:
        try:
            with Image.open(path) as im:
                if im.mode not in ("P", "L"):
                    raise ValueError(f"vitonhd: {path}: parse must be a P or L mode PNG of label ids, got {im.mode}")
                arr = np.asarray(im, dtype=np.uint8)
        except FileNotFoundError:
            raise FileNotFoundError(f"vitonhd: missing file {path}") from None
        except (OSError, SyntaxError) as e:
            raise ValueError(f"vitonhd: cannot decode parse {path}: {e}") from None
        if arr.max(initial=0) >= L.NUM_LABELS:
            raise ValueError(f"vitonhd: {path}: label {int(arr.max())} out of range 0..{L.NUM_LABELS - 1}")
        return self._resize(arr, nearest=True)

    def _keypoints(self, path: Path) -> np.ndarray:
        try:
            doc = json.loads(self._read_bytes(path))
        except json.JSONDecodeError as e:
            raise ValueError(f"vitonhd: {path}: invalid JSON: {e}") from None
        people = doc.get("people") if isinstance(doc, dict) else None
        if not people:
            raise ValueError(f"vitonhd: {path}: no people in keypoints file")
        kp = np.asarray(people[0].get("pose_keypoints_2d", []), np.float32)
        if kp.size == 75:
            return L.body25_to_coco18(kp.reshape(25, 3))
        if kp.size == 54:
            return kp.reshape(18, 3)
        raise ValueError(f"vitonhd: {path}: pose_keypoints_2d has {kp.size} values, "
                         "expected 75 (BODY_25) or 54 (COCO-18)")

    def _pose_map(self, kp: np.ndarray, src_hw) -> torch.Tensor:
        H, W = self.height, self.width
        sy, sx = H / src_hw[0], W / src_hw[1]
        # keypoints are pixel-centre coordinates of the source image
        xs = (np.arange(W, dtype=np.float32) + 0.5) / sx - 0.5
        ys = (np.arange(H, dtype=np.float32) + 0.5) / sy - 0.5
        out = np.zeros((18, H, W), np.float32)
        s2 = 2 * (self.sigma / ((sx + sy) / 2)) ** 2  # sigma in source pixels
        for k in range(18):
            x, y, c = kp[k]
            if c <= 0:
                continue
            gx = np.exp(-((xs - x) ** 2) / s2)
            gy = np.exp(-((ys - y) ** 2) / s2)
            out[k] = gy[:, None] * gx[None, :]
        return torch.from_numpy(out)

    def _flow(self, path: Path):
        f = self._decode(path, cv2.IMREAD_UNCHANGED)
        if f.dtype != np.uint16 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"vitonhd: {path}: garment flow must be a 16-bit 3-channel PNG")
        f = f.astype(np.float32) * (1.0 / 65535.0)
        valid = (f[..., 2] > 0.5).astype(np.float32)
        xy = (f[..., :2] * 2 - 1) * valid[..., None]
        h, w = valid.shape
        if (h, w) != (self.height, self.width):
            # resize the valid part only: average flow over valid pixels,
            # keep as valid only output pixels fully covered by valid input
            interp = cv2.INTER_AREA if h > self.height else cv2.INTER_LINEAR
            size = (self.width, self.height)
            xy = cv2.resize(xy, size, interpolation=interp)
            vr = cv2.resize(valid, size, interpolation=interp)
            valid = (vr > 0.999).astype(np.float32)
            xy = xy / np.maximum(vr, 1e-6)[..., None] * valid[..., None]
        return (torch.from_numpy(np.ascontiguousarray(xy.transpose(2, 0, 1))),
                torch.from_numpy(valid)[None])

    # -- item -----------------------------------------------------------------
    def __getitem__(self, i: int) -> dict:
        p = self._paths(i)
        person = self._rgb(p["image"])
        src_hw = person.shape[:2]
        parse = self._parse(p["parse"])
        item = {
            "person": self._to_tensor_rgb(self._resize(person)),
            "cloth": self._to_tensor_rgb(self._resize(self._rgb(p["cloth"]))),
            "cloth_mask": self._mask(p["cloth_mask"]),
            "cloth_unpaired": self._to_tensor_rgb(self._resize(self._rgb(p["cloth_u"]))),
            "cloth_mask_unpaired": self._mask(p["cloth_mask_u"]),
            "parse": torch.from_numpy(parse.astype(np.int64)),
            "garment_region": torch.from_numpy(
                L.in_group(parse, L.GROUP_UPPER).astype(np.float32))[None],
            "pose_map": self._pose_map(self._keypoints(p["pose"]), src_hw),
            "densepose": self._to_tensor_rgb(self._resize(self._rgb(p["densepose"]), nearest=True)),
            "agnostic": self._to_tensor_rgb(self._resize(self._rgb(p["agnostic"]))),
            "has_flow": self.has_flow,
            "name": self.persons[i],
            "cloth_unpaired_name": self.partners[i],
        }
        if self.has_flow:
            item["flow"], item["flow_valid"] = self._flow(p["flow"])
        else:
            item["flow"] = torch.zeros(2, self.height, self.width)
            item["flow_valid"] = torch.zeros(1, self.height, self.width)
        return item
