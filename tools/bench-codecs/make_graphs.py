"""ONNX Runtime Extensions image graphs (domain com.microsoft.extensions), all with pixels in RGB order:

    BananaLab.Worker/Inference/Imaging/png_encoder.onnx   EncodeImage "png": pixels uint8 [H, W, 3] -> bytes uint8 [N]
                                                          (the worker's PNG encoder, ExtensionsPngEncoder)
    tools/bench-codecs/decode_image.onnx                  DecodeImage: bytes uint8 [N] -> pixels uint8 [H, W, 3]
    tools/bench-codecs/encode_jpg.onnx                    EncodeImage "jpg"

tools/bench-codecs measures them against SkiaSharp. Run from the repository root (needs python3-onnx):

    /usr/bin/python3 tools/bench-codecs/make_graphs.py
"""
import onnx
from onnx import TensorProto, helper


def save(path, op, inputs, outputs, **attributes):
    node = helper.make_node(op, [i[0] for i in inputs], [o[0] for o in outputs], domain="com.microsoft.extensions",
                            color_space="rgb", **attributes)
    graph = helper.make_graph([node], op,
                              [helper.make_tensor_value_info(n, TensorProto.UINT8, shape) for n, shape in inputs],
                              [helper.make_tensor_value_info(n, TensorProto.UINT8, shape) for n, shape in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft.extensions", 1)])
    model.ir_version = 8
    onnx.save(model, path)


if __name__ == "__main__":
    save("BananaLab.Worker/Inference/Imaging/png_encoder.onnx", "EncodeImage", [("pixels", [None, None, 3])], [("image", [None])], format="png")
    save("tools/bench-codecs/decode_image.onnx", "DecodeImage", [("image", [None])], [("pixels", [None, None, 3])])
    save("tools/bench-codecs/encode_jpg.onnx", "EncodeImage", [("pixels", [None, None, 3])], [("image", [None])], format="jpg")
