"""Export banana-nano (EMA weights) to the HF Optimum ONNX Stable Diffusion layout.

    /usr/bin/python3 export_onnx.py --ckpt /work/nano-run/diff_ckpt.pt --vae /work/nano-run/vae.pt \
        --out /work/main/models/banana-nano
"""
import argparse, datetime, json, os
import numpy as np
import onnx
import torch

from nano_model import TextEncoder, UNet
from vae import AE, CH
from clip_bpe import CLIPTokenizer

OPSET = 17


def describe(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    def fmt(v):
        t = v.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        return f"{v.name} {onnx.TensorProto.DataType.Name(t.elem_type).lower()} {dims}"
    print(f"{path} ({os.path.getsize(path)/1e6:.2f} MB) opset {m.opset_import[0].version}")
    for v in m.graph.input:
        print("   in :", fmt(v))
    for v in m.graph.output:
        print("   out:", fmt(v))


def export(module, args, path, in_names, out_names, dyn):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=in_names, output_names=out_names,
                      dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)
    describe(path)


def wjson(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)


class EncWrap(torch.nn.Module):
    def __init__(self, e):
        super().__init__(); self.e = e
    def forward(self, sample):
        return self.e(sample)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
    ap.add_argument("--vae", default="/work/nano-run/vae.pt")
    ap.add_argument("--out", default="/work/main/models/banana-nano")
    ap.add_argument("--meta", default="/work/nano-run/train_meta.json", help="extra training facts (optional)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(a.ckpt, map_location="cpu")
    c = ck["cfg"]
    te = TextEncoder(c["vocab_size"], c["d"], layers=c.get("layers", 4)).eval(); te.load_state_dict(ck["ema_te"])
    un = UNet(c["d"], c["c1"], c["c2"], attn16=c.get("attn16", "cross")).eval(); un.load_state_dict(ck["ema_unet"])
    ae = AE().eval(); ae.load_state_dict(torch.load(a.vae, map_location="cpu")["model"])
    sf = float(ck["scaling_factor"])
    tok = CLIPTokenizer.load(os.path.join(a.out, "tokenizer"))
    assert len(tok.encoder) == c["vocab_size"]
    D = c["d"]
    ids = torch.tensor([tok("red apple"), tok("")])
    with torch.no_grad():
        export(te, (ids,), f"{a.out}/text_encoder/model.onnx", ["input_ids"], ["last_hidden_state"],
               {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
        ctx = te(ids)
        x = torch.randn(2, 4, 16, 16); t = torch.tensor([999, 10], dtype=torch.long)
        export(un, (x, t, ctx), f"{a.out}/unet/model.onnx", ["sample", "timestep", "encoder_hidden_states"],
               ["out_sample"], {"sample": {0: "batch"}, "timestep": {0: "batch"},
                                "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch"}})
        img = torch.rand(2, 3, 64, 64) * 2 - 1
        export(EncWrap(ae.encoder), (img,), f"{a.out}/vae_encoder/model.onnx", ["sample"], ["latent_sample"],
               {"sample": {0: "batch"}, "latent_sample": {0: "batch"}})
        z = torch.randn(2, 4, 16, 16)
        export(ae.decoder, (z,), f"{a.out}/vae_decoder/model.onnx", ["latent_sample"], ["sample"],
               {"latent_sample": {0: "batch"}, "sample": {0: "batch"}})
    vae_cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0", "in_channels": 3, "out_channels": 3,
               "latent_channels": 4, "block_out_channels": list(CH), "sample_size": 64, "scaling_factor": sf}
    wjson(f"{a.out}/vae_encoder/config.json", vae_cfg)
    wjson(f"{a.out}/vae_decoder/config.json", vae_cfg)
    wjson(f"{a.out}/unet/config.json", {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
                                       "sample_size": 16, "in_channels": 4, "out_channels": 4,
                                       "cross_attention_dim": D, "prediction_type": "v_prediction"})
    wjson(f"{a.out}/text_encoder/config.json", {"_class_name": "CLIPTextModel", "hidden_size": D,
                                               "max_position_embeddings": 77, "vocab_size": c["vocab_size"],
                                               "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
                                               "pad_token_id": tok.eos_id})
    wjson(f"{a.out}/scheduler/scheduler_config.json", {
        "_class_name": "DDIMScheduler", "_diffusers_version": "0.30.0", "num_train_timesteps": 1000,
        "beta_schedule": "squaredcos_cap_v2", "beta_start": 0.0001, "beta_end": 0.02, "trained_betas": None,
        "prediction_type": "v_prediction", "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 0,
        "timestep_spacing": "trailing", "rescale_betas_zero_snr": False, "thresholding": False})
    meta = {}
    if os.path.exists(a.meta):
        meta = json.load(open(a.meta))
    meta.update({"train_steps": int(ck["step"]), "train_seconds": round(float(ck["elapsed"])),
                 "export_date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "weights": "EMA", "prediction_type": "v_prediction", "latent_scaling_factor": sf,
                 "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id, "image_size": 64})
    wjson(f"{a.out}/model_index.json", {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
        "feature_extractor": [None, None], "safety_checker": [None, None], "requires_safety_checker": False,
        "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"],
        "banana_nano": meta})
    # parity: run the exported graphs through onnx's reference? (not available in onnx 1.12) -> re-trace check
    print("exported to", a.out, "scaling_factor", sf)


if __name__ == "__main__":
    main()
