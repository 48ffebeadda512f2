"""Write the bundled starter catalog ``assets/garments/`` (deterministic).

Garments come from the lab's garment renderer (training/data/garment.py): a
shop-style flat garment centred on a near-white 384x512 (WxH) background,
like VITON-HD's cloth images.  For each garment: ``<id>.png`` (RGB),
``<id>_mask.png`` (0/255), ``<id>_thumb.png`` (96x128), plus ``catalog.json``.

    .venv/bin/python scripts/make_catalog.py [--out assets/garments]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data.garment import render_cloth, sample_garment, sample_texture  # noqa: E402

W, H = 384, 512
THUMB = (96, 128)
ADDED = "2026-11-29T00:00:00Z"

# id, name, category, tags, texture overrides, garment overrides
CATALOG = [
    ("navy-stripe-tee", "Navy stripe tee", "t-shirt", ["stripes"],
     dict(pattern="stripes", base=[0.1, 0.16, 0.36], color2=[0.94, 0.94, 0.92], angle=90, period=0.045, duty=0.45), {}),
    ("red-classic-tee", "Red classic tee", "t-shirt", ["solid"],
     dict(pattern="solid", base=[0.78, 0.1, 0.12], collar="dark"), {}),
    ("black-logo-tee", "Black logo tee", "t-shirt", ["print", "text"],
     dict(pattern="solid", base=[0.08, 0.08, 0.09], print="text+logo", word="MGVTON", logo="star",
          print_color=[0.95, 0.95, 0.92]), {}),
    ("mint-dot-tee", "Mint polka-dot tee", "t-shirt", ["dots"],
     dict(pattern="dots", base=[0.62, 0.88, 0.78], color2=[0.98, 0.98, 0.97], angle=0, period=0.05, duty=0.35), {}),
    ("plaid-tee", "Red plaid tee", "t-shirt", ["checks"],
     dict(pattern="checks", base=[0.72, 0.1, 0.12], color2=[0.1, 0.08, 0.08], color3=[0.95, 0.85, 0.3],
          angle=0, period=0.08), {}),
    ("sky-v-neck-tee", "Sky blue v-neck", "t-shirt", ["solid", "v-neck"],
     dict(pattern="solid", base=[0.55, 0.75, 0.93], collar="same"), dict(neckline="v", neck_depth=0.13)),
    ("sunset-print-tee", "Sunset gradient tee", "t-shirt", ["gradient", "print"],
     dict(pattern="gradient", base=[0.98, 0.75, 0.3], color2=[0.85, 0.25, 0.4], angle=90,
          print="text", word="SUMMER", print_color=[0.98, 0.97, 0.9]), {}),
    ("gingham-long-sleeve", "Blue gingham shirt", "long-sleeve", ["checks"],
     dict(pattern="checks", base=[0.96, 0.96, 0.97], color2=[0.2, 0.35, 0.7], color3=[0.2, 0.35, 0.7],
          angle=0, period=0.04), {}),
    ("grey-marl-long-sleeve", "Grey marl long sleeve", "long-sleeve", ["solid"],
     dict(pattern="solid", base=[0.55, 0.56, 0.58], grain=0.06), {}),
    ("breton-long-sleeve", "Breton stripe top", "long-sleeve", ["stripes"],
     dict(pattern="stripes", base=[0.96, 0.95, 0.92], color2=[0.12, 0.18, 0.45], angle=90, period=0.06, duty=0.3), {}),
    ("olive-camo-long-sleeve", "Olive camo long sleeve", "long-sleeve", ["camo"],
     dict(pattern="camo", base=[0.42, 0.45, 0.28], color2=[0.25, 0.22, 0.15], color3=[0.62, 0.6, 0.45], grain=0.0), {}),
    ("white-tank", "White tank top", "tank-top", ["solid"],
     dict(pattern="solid", base=[0.97, 0.97, 0.96], collar="same"), {}),
    ("coral-diagonal-tank", "Coral diagonal tank", "tank-top", ["stripes"],
     dict(pattern="stripes", base=[0.98, 0.5, 0.42], color2=[0.98, 0.92, 0.85], angle=45, period=0.06, duty=0.4), {}),
    ("black-run-tank", "Black run-club tank", "tank-top", ["print", "text"],
     dict(pattern="solid", base=[0.1, 0.1, 0.12], print="text", word="RUN CLUB", print_color=[0.95, 0.8, 0.2]), {}),
]


def build(out: Path):
    entries = []
    for k, (gid, name, category, tags, tex_over, g_over) in enumerate(CATALOG):
        rng = np.random.default_rng([2026, k])
        tex = sample_texture(rng, tex_over["pattern"])
        tex.update(print=None, grain=0.015, collar="dark")
        tex.update(tex_over)
        g = sample_garment(rng, category, tex)
        for key, v in g_over.items():
            setattr(g, key, v)
        g.fit_jitter = (1.0, 0.0, 0.0)
        cloth = render_cloth(g, H, W)
        bgr = cv2.cvtColor(cloth.image, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(out / f"{gid}.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        cv2.imwrite(str(out / f"{gid}_mask.png"), cloth.mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        thumb = cv2.resize(bgr, THUMB, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / f"{gid}_thumb.png"), thumb, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        entries.append({"id": gid, "name": name, "category": category, "tags": tags,
                        "image": f"{gid}.png", "mask": f"{gid}_mask.png",
                        "thumb": f"{gid}_thumb.png", "added": ADDED})
    (out / "catalog.json").write_text(json.dumps({"version": 1, "garments": entries}, indent=1) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "assets" / "garments"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".garments-", dir=out.parent))
    try:
        build(tmp)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"catalog: {len(CATALOG)} garments in {out} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
