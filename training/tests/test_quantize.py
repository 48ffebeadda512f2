"""quantize: an int8 copy of a model folder that keeps the contract, the flow estimator in fp32."""
from __future__ import annotations

import json

import onnx

from training.quantize import KEEP_FP32_PREFIXES, main as quantize_main


def test_int8_folder_keeps_the_contract_and_the_flow_in_fp32(tiny_model_dir, synth_root, tmp_path, capsys):
    _, tiny_model = tiny_model_dir
    out = tmp_path / "int8"
    assert quantize_main(["--model", str(tiny_model), "--data", str(synth_root), "--out", str(out), "--n", "2",
                          "--check", "1"]) == 0
    assert "int8" in capsys.readouterr().out
    src = json.loads((tiny_model / "manifest.json").read_text())
    man = json.loads((out / "manifest.json").read_text())
    assert man["stages"] == src["stages"] and man["name"].endswith("-int8")
    q = man["provenance"]["quantization"]
    assert q["calibration_data"]["items"] == 2 and q["calibration_data"]["split"] == "train"
    for stage, st in man["stages"].items():
        g = onnx.load(str(out / st["file"]))
        onnx.checker.check_model(g)
        assert [i.name for i in g.graph.input] == [i["name"] for i in st["inputs"]]
        assert [o.name for o in g.graph.output] == [o["name"] for o in st["outputs"]]
        for vi in list(g.graph.input) + list(g.graph.output):
            assert vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # fp32 I/O as the runtime feeds it
        assert q["stages"][stage]["quantized_nodes"] > 0
        assert any(n.op_type == "DequantizeLinear" for n in g.graph.node)
        # no quantize/dequantize pair touches a flow-estimator convolution
        quantized_inputs = {n.output[0] for n in g.graph.node if n.op_type == "DequantizeLinear"}
        for n in g.graph.node:
            if n.op_type == "Conv" and n.name.startswith(KEEP_FP32_PREFIXES):
                assert not set(n.input) & quantized_inputs, n.name


def test_refuses_an_existing_folder_and_too_few_items(tiny_model_dir, synth_root, tmp_path, capsys):
    _, tiny_model = tiny_model_dir
    assert quantize_main(["--model", str(tiny_model), "--data", str(synth_root), "--out", str(tiny_model)]) == 2
    assert "exists" in capsys.readouterr().err
    out = tmp_path / "x"
    assert quantize_main(["--model", str(tiny_model), "--data", str(synth_root), "--out", str(out),
                          "--n", "500"]) == 2
    err = capsys.readouterr().err
    assert "need" in err and str(synth_root) in err and not out.exists()
