"""Benchmark the synthetic generator (not a test).

``python -m training.data.bench_synth [--n 400] [--workers 2] [--height 256 --width 192] [--version 3]``

Generates N samples into a temporary folder and prints wall time, CPU time
per sample (this process and its workers, from getrusage, so the figure is
meaningful on a shared machine) and the projected time for 10,000 samples
on the given number of otherwise idle cores.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time

from .synth import generate


def _cpu() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.data.bench_synth")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--version", type=int, default=2, choices=[2, 3])
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        c0, t0 = _cpu(), time.time()
        generate(d, args.n, 0, args.height, args.width, 0.1, args.workers, progress=True,
                 version=args.version)
        wall, cpu = time.time() - t0, _cpu() - c0
    per = cpu / args.n
    print(f"bench_synth: v{args.version}, {args.n} samples {args.height}x{args.width}, {args.workers} workers: "
          f"wall {wall:.1f}s ({args.n / wall:.1f} samples/s), cpu {per * 1000:.0f} ms/sample; "
          f"10,000 samples on {args.workers} idle cores ~ {10000 * per / args.workers / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
