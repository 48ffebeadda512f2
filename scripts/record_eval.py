#!/usr/bin/env python3
"""record_eval.py: copy evaluation reports into a model folder's manifest (provenance.evaluation).

Usage: scripts/record_eval.py MODEL_DIR --recipe TEXT NAME=REPORT_DIR [NAME=REPORT_DIR ...]

Each REPORT_DIR is a `python -m training eval` output; its metrics.json (metrics, data, model input) is
stored under provenance.evaluation.NAME, so the numbers in the model card can be traced to a file. The
manifest is rewritten through a temporary file and a rename.
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--recipe", required=True, help="how the model was trained, one line")
    ap.add_argument("reports", nargs="+", help="NAME=REPORT_DIR")
    a = ap.parse_args()
    path = Path(a.model_dir) / "manifest.json"
    man = json.loads(path.read_text())
    ev = {}
    for item in a.reports:
        name, _, folder = item.partition("=")
        rep = Path(folder) / "metrics.json"
        if not name or not rep.is_file():
            print(f"record_eval: {item}: want NAME=REPORT_DIR with a metrics.json", file=sys.stderr)
            return 2
        r = json.loads(rep.read_text())
        ev[name] = {"report": folder, "model": r["model"].get("kind") if isinstance(r["model"], dict) else r["model"],
                    "data": r["data"], "metrics": r["metrics"]}
    prov = man.setdefault("provenance", {})
    prov["evaluation"] = ev
    prov["training_recipe"] = a.recipe
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest.")
    with os.fdopen(fd, "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"record_eval: {path}: {', '.join(ev)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
