"""Write a CLIP tokenizer as an ONNX graph: one CLIPTokenizer node of ONNX Runtime Extensions (domain ai.onnx.contrib)
with a tokenizer folder's vocab.json and merges.txt as its attributes, the layout of Microsoft's C# Stable Diffusion
sample (cliptokenizer.onnx) and of OnnxStack/Amuse model folders (tokenizer/model.onnx).

    /usr/bin/python3 tools/tokenizer-graph/clip_tokenizer_graph.py models/banana-nano/tokenizer out.onnx

Input  string_input: string [N]          (one prompt per row)
Output input_ids:    int64  [N, L]       bos + BPE ids + eos, unpadded (padding_length -1)
       attention_mask: int64 [N, L]
Needs only python3-onnx (Debian); the graph runs wherever ONNX Runtime Extensions is registered.
"""
import sys

import onnx
from onnx import TensorProto, helper


def build(tokenizer_folder: str) -> onnx.ModelProto:
    with open(f"{tokenizer_folder}/vocab.json", encoding="utf-8") as f:
        vocab = f.read()
    with open(f"{tokenizer_folder}/merges.txt", encoding="utf-8") as f:
        merges = f.read()
    node = helper.make_node("CLIPTokenizer", ["string_input"], ["input_ids", "attention_mask"], name="CLIPTokenizer",
                            domain="ai.onnx.contrib", vocab=vocab, merges=merges, padding_length=-1)
    graph = helper.make_graph(
        [node], "clip_tokenizer",
        [helper.make_tensor_value_info("string_input", TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [None, None]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [None, None])])
    model = helper.make_model(graph, producer_name="bananalab-clip-tokenizer-graph",
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.contrib", 1)])
    model.ir_version = 8
    return model


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    onnx.save(build(sys.argv[1]), sys.argv[2])
