#!/usr/bin/env python3
"""ONNX Runtime latency of the person models on this CPU, one thread.

    .venv/bin/python scripts/person_models/bench.py [models/person] [runs]

Prints median and 90th percentile per graph and the load average, so a
number taken on a busy machine can be told apart. Any onnxruntime works
(the repo's .venv has it); no TensorFlow needed."""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../models/person")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    man = json.load(open(os.path.join(d, "manifest.json")))
    print(f"onnxruntime {ort.__version__}, 1 thread, {runs} runs, load average before {os.getloadavg()}")
    for name, m in man["models"].items():
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        s = ort.InferenceSession(os.path.join(d, m["file"]), so, providers=["CPUExecutionProvider"])
        shape = m["inputs"][0]["shape"]
        x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
        for _ in range(5):
            s.run(None, {"input": x})
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            s.run(None, {"input": x})
            ts.append((time.perf_counter() - t0) * 1e3)
        print(f"{name:32s} median {np.median(ts):6.2f} ms  p90 {np.percentile(ts, 90):6.2f} ms  min {min(ts):6.2f} ms")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
