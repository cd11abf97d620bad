"""ONNX Runtime as the reference for AudioNet's ONNX export (Tests/FormatsTests/ONNXExportTests.swift runs it).

    python onnx_runtime_reference.py MODEL.onnx INPUT.npy OUTPUT.npy [--unoptimized]

Checks MODEL.onnx with onnx.checker (full_check: types and shapes inferred through the whole graph), runs it
in ONNX Runtime on INPUT.npy (its one input; graph optimisations on, as users run it, or off with --unoptimized:
the file's operators as written, which for DequantizeLinear → MatMul differs, since the optimiser fuses them into
dynamically quantized integer products) and writes its first output to OUTPUT.npy. Prints the opset and the
operator counts.
"""
import collections
import sys

import numpy as np
import onnx
import onnxruntime


def main(model_path, input_path, output_path, *flags):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    options = onnxruntime.SessionOptions()
    if "--unoptimized" in flags:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    (graph_input,) = session.get_inputs()
    (result, *_) = session.run(None, {graph_input.name: np.load(input_path).astype(np.float32)})
    np.save(output_path, result)
    operators = collections.Counter(node.op_type for node in model.graph.node)
    print(f"opset {model.opset_import[0].version}:", ", ".join(f"{op} {n}" for op, n in sorted(operators.items())))


if __name__ == "__main__":
    main(*sys.argv[1:])
