"""Builds the tiny image classifier the moderation tests load through ONNX Runtime.

It is not a content classifier: it scores how red an image is (labels "safe" and "red"), which is
enough to prove that BananaLab's ONNX image-classifier plumbing (decode, resize, normalise, run,
threshold per label) works end to end. Run with Debian's python3-onnx:

    /usr/bin/python3 tools/test-models/make_redness_classifier.py BananaLab.Tests/Moderation/Data/redness.onnx
"""
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1] if len(sys.argv) > 1 else "redness.onnx"
# Mean over height and width gives the average R, G, B (inputs are normalised to [0, 1]).
mean = helper.make_node("ReduceMean", ["input"], ["rgb4"], axes=[2, 3], keepdims=0)
# logits: safe = G + B, red = 2R - 0.2
weights = helper.make_tensor("w", TensorProto.FLOAT, [3, 2], [0.0, 6.0, 3.0, 0.0, 3.0, 0.0])
bias = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.0, -1.2])
matmul = helper.make_node("MatMul", ["rgb4", "w"], ["mm"])
add = helper.make_node("Add", ["mm", "b"], ["logits"])
softmax = helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)
graph = helper.make_graph(
    [mean, matmul, add, softmax], "redness",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 2])],
    initializer=[weights, bias])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="bananalab-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out)
print("wrote", out)
