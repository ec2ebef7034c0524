"""banana-nano's PyTorch modules (tools/train-nano) holding the very weights the product runs, read from the committed
ONNX files with onnx.numpy_helper: no training checkpoint needed, so a fresh clone can rerun the PyTorch baseline.

    import onnx_weights
    pipe = onnx_weights.OnnxNanoPipeline("models/banana-nano")   # sample.py's NanoPipeline, same __call__
    imgs = pipe(["red apple"], [0], steps=20, guidance=5.0)      # [B,3,128,128] in [0,1] (banana-nano 1: 64)

Most initializers keep their PyTorch names (conv weights, biases, embeddings, LayerNorm). The exporter folded the rest
into anonymous `onnx::...` constants; the node that reads each one names its module (`/a8d/cross_attn/q/MatMul` is
`a8d.cross_attn.q`):
  MatMul input   -> <module>.weight, transposed (nn.Linear stores [out, in], the graph multiplies by [in, out])
  Mul / Add input of a GroupNorm scope (`/d16/n1/Mul`) -> <module>.weight / .bias, shape [C,1,1] -> [C]
Every parameter of every module must be filled exactly once, with its own shape, or loading fails (strict).
"""
import json, os, sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "train-nano"))

import torch  # noqa: E402
from nano_model import TextEncoder, UNet  # noqa: E402
from vae import AE  # noqa: E402
from clip_bpe import CLIPTokenizer  # noqa: E402
from sample import NanoPipeline  # noqa: E402


def _module_path(node_name):
    """'/a16d/ff/ff.0/MatMul' -> 'a16d.ff.0'; '/layers.0/attn/q/MatMul' -> 'layers.0.attn.q'."""
    parts = [p for p in node_name.split("/") if p][:-1]
    path = []
    for p in parts:
        # a container's child is scoped as '<container>.<index>' right after '<container>'
        if path and p.startswith(path[-1] + "."):
            path[-1] = p
        else:
            path.append(p)
    return ".".join(path)


def graph_weights(path):
    """{state_dict key: numpy array} for every weight the ONNX graph at `path` holds, plus its unmatched constants."""
    model = onnx.load(path)
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    # export_onnx.store_fp16: a float16 initializer read through a Cast under the weight's own name is that weight
    for node in model.graph.node:
        if node.op_type == "Cast" and node.input[0] in initializers:
            initializers[node.output[0]] = initializers.pop(node.input[0]).astype(np.float32)
    weights, constants = {}, {}
    for name, value in initializers.items():
        if not name.startswith("onnx::"):
            weights[name] = value
    for node in model.graph.node:
        for name in node.input:
            if not name.startswith("onnx::") or name not in initializers:
                continue
            value, module = initializers[name], _module_path(node.name)
            if node.op_type == "MatMul" and value.ndim == 2 and module:
                key, value = module + ".weight", value.T
            elif node.op_type in ("Mul", "Add") and value.ndim == 3 and value.shape[1:] == (1, 1) and module:
                key, value = module + (".weight" if node.op_type == "Mul" else ".bias"), value.reshape(-1)
            else:
                constants[name] = value
                continue
            if key in weights:
                raise ValueError(f"{path}: {key} is read from two initializers")
            weights[key] = value
    return weights, constants


def load_strict(module, path, prefix=""):
    """Fills every parameter of `module` from the graph at `path` (its names under `prefix`, as export_onnx.py's
    wrapper gave them); a missing, extra or misshapen weight is an error."""
    weights, _ = graph_weights(path)
    weights = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    state = module.state_dict()
    missing = sorted(set(state) - set(weights))
    extra = sorted(k for k in set(weights) - set(state))
    if missing or extra:
        raise ValueError(f"{path}: weights missing {missing[:8]}, not in the module {extra[:8]}")
    for key, tensor in state.items():
        if tuple(weights[key].shape) != tuple(tensor.shape):
            raise ValueError(f"{path}: {key} is {weights[key].shape} in the graph, {tuple(tensor.shape)} in the module")
    module.load_state_dict({k: torch.from_numpy(np.array(weights[k], dtype=np.float32)) for k in state}, strict=True)
    return module.eval()


def _config(folder):
    text, _ = graph_weights(os.path.join(folder, "text_encoder", "model.onnx"))
    unet, _ = graph_weights(os.path.join(folder, "unet", "model.onnx"))
    vocab, d = text["tok.weight"].shape
    layers = len({k.split(".")[1] for k in text if k.startswith("layers.")})
    c1, c2, tdim = unet["conv_in.weight"].shape[0], unet["d8.c1.weight"].shape[0], unet["temb.0.weight"].shape[0]
    attn16 = "full" if "a16d.self_attn.q.weight" in unet else "cross" if "a16d.cross_attn.q.weight" in unet else None
    return dict(vocab=vocab, d=d, layers=layers, c1=c1, c2=c2, tdim=tdim, attn16=attn16)


class OnnxNanoPipeline(NanoPipeline):
    """sample.py's NanoPipeline (DDIM, CFG, VAE decode) with the weights of a banana-nano ONNX folder."""

    def __init__(self, folder):
        c = _config(folder)
        self.config = c
        self.te = load_strict(TextEncoder(c["vocab"], c["d"], layers=c["layers"]),
                              os.path.join(folder, "text_encoder", "model.onnx"))
        self.unet = load_strict(UNet(c["d"], c["c1"], c["c2"], tdim=c["tdim"], attn16=c["attn16"]),
                                os.path.join(folder, "unet", "model.onnx"))
        lexicon = os.path.exists(os.path.join(folder, "tokenizer", "lexicon.tsv.gz"))  # banana-nano 2
        if lexicon:
            from vae2 import AE8
            from lexicon2 import Lexicon
            self.ae = AE8().eval()
        else:
            self.ae = AE().eval()
        load_strict(self.ae.decoder, os.path.join(folder, "vae_decoder", "model.onnx"))
        encoder = os.path.join(folder, "vae_encoder", "model.onnx")
        if os.path.exists(encoder):
            load_strict(self.ae.encoder, encoder, prefix="e.")  # export_onnx.py's EncWrap
        with open(os.path.join(folder, "vae_decoder", "config.json")) as f:
            self.sf = json.load(f)["scaling_factor"]
        self.tok = (Lexicon if lexicon else CLIPTokenizer).load(os.path.join(folder, "tokenizer"))
        with open(os.path.join(folder, "model_index.json")) as f:
            self.step_count = json.load(f).get("banana_nano", {}).get("train_steps")
