"""The float weights of the official YAMNet TF Lite model, read with LiteRT (no torch needed).

Shared by make_yamnet_fixtures.py (the PyTorch same-weights reference) and make_yamnet_keras_h5.py (the
synthetic yamnet.h5): convolutions in graph order, each with its kernel and its BatchNorm folded into a bias,
and the classifier, every int8 tensor dequantized as scale * (q - zero_point) in float32.
"""
import numpy as np
from ai_edge_litert.interpreter import Interpreter


def dequantized(interpreter, index):
    """A constant tensor as float32, following a DEQUANTIZE operator to its int8 input."""
    details = interpreter.get_tensor_details()[index]
    for op in interpreter._get_ops_details():
        if op["op_name"] == "DEQUANTIZE" and index in op["outputs"]:
            return dequantized(interpreter, int(op["inputs"][0]))
    q = interpreter.get_tensor(index)
    if q.dtype == np.float32:
        return q
    params = details["quantization_parameters"]
    scales, zeros, axis = params["scales"].astype(np.float32), params["zero_points"], params["quantized_dimension"]
    shape = [1] * q.ndim
    if len(scales) > 1:
        shape[axis] = len(scales)
    zeros = zeros.astype(np.float32).reshape(shape if zeros.size > 1 else [1] * q.ndim)
    return scales.reshape(shape) * (q.astype(np.float32) - zeros)


def load_reference(path):
    interpreter = Interpreter(model_path=path, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    layers = [(op["op_name"], dequantized(interpreter, int(op["inputs"][1])), dequantized(interpreter, int(op["inputs"][2])))
              for op in convs]
    dense = [op for op in ops if op["op_name"] == "FULLY_CONNECTED"][-1]
    return layers, dequantized(interpreter, int(dense["inputs"][1])), dequantized(interpreter, int(dense["inputs"][2]))
