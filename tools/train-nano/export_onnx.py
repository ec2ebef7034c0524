"""Export banana-nano (EMA weights) to the HF Optimum ONNX Stable Diffusion layout.

    /usr/bin/python3 export_onnx.py --ckpt /work/nano-run/diff_ckpt.pt --vae /work/nano-run/vae.pt \
        --out /work/main/models/banana-nano

banana-nano 2 checkpoints (cfg version 2) export the 128 px AE8 and the concept lexicon
(tokenizer/lexicon.tsv.gz, gzipped without a timestamp so the file is reproducible,
lexicon_config.json, concepts.tsv) in place of the BPE files:

    /usr/bin/python3 export_onnx.py --ckpt /work/nano2-run/diff2_ckpt.pt --vae /work/nano2-run/vae2.pt \
        --tokenizer /work/nano2-run/tokenizer2 --out models/banana-nano
    /usr/bin/python3 export_onnx.py --ckpt /work/nano2-run/turbo_ckpt.pt --vae /work/nano2-run/vae2.pt \
        --tokenizer /work/nano2-run/tokenizer2 --out models/banana-nano-turbo --share ../banana-nano

Large weights are stored as float16 and computed in float32 (store_fp16), so that both catalog models
and the moderation classifier fit in the 40 MB of models/. --share links text_encoder/, tokenizer/, vae_encoder/, vae_decoder/ and preview/ to another
export of the same text encoder and AE (a distilled model changes only the UNet).
"""
import argparse, datetime, gzip, json, os, shutil
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


def store_fp16(path, min_elements=1024):
    """Stores the graph's large float32 initializers as float16, each read through a Cast back to float32 under its
    own name: the file halves, the arithmetic stays float32 (ONNX Runtime folds the casts when it loads the graph,
    so inference runs exactly as on weights rounded to float16). Small tensors (biases, norms) stay float32."""
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(path)
    g = m.graph
    kept, casts = [], []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= min_elements:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], name=f"/fp16/{init.name}",
                                          to=TensorProto.FLOAT))
        else:
            kept.append(init)
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)
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
    ap.add_argument("--tokenizer", default=None, help="banana-nano 2: the lexicon folder (lexicon2.py --out)")
    ap.add_argument("--share", default=None, help="banana-nano 2: link the shared components to this export (relative)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(a.ckpt, map_location="cpu")
    c = ck["cfg"]
    if c.get("version", 1) == 2:
        return export2(a, ck)
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


def export2(a, ck):
    from vae2 import load_ae, CH2
    from lexicon2 import Lexicon
    c = ck["cfg"]
    te = TextEncoder(c["vocab_size"], c["d"], layers=c["layers"]).eval(); te.load_state_dict(ck["ema_te"])
    un = UNet(c["d"], c["c1"], c["c2"], attn16=c["attn16"]).eval(); un.load_state_dict(ck["ema_unet"])
    ae = load_ae(a.vae)
    sf = float(ck["scaling_factor"])
    lex = Lexicon.load(a.tokenizer)
    assert lex.V + 2 == c["vocab_size"]
    turbo = c.get("turbo")
    shared = ("text_encoder", "tokenizer", "vae_encoder", "vae_decoder", "preview")
    os.makedirs(a.out, exist_ok=True)
    for part in shared if a.share else ():
        path = os.path.join(a.out, part)
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        os.symlink(os.path.join(a.share, part), path)
    ids = torch.tensor([lex("red apple"), lex("")])
    size = c["image_size"]
    with torch.no_grad():
        ctx = te(ids)
        if not a.share:
            export(te, (ids,), f"{a.out}/text_encoder/model.onnx", ["input_ids"], ["last_hidden_state"],
                   {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
            img = torch.rand(2, 3, size, size) * 2 - 1
            export(EncWrap(ae.encoder), (img,), f"{a.out}/vae_encoder/model.onnx", ["sample"], ["latent_sample"],
                   {"sample": {0: "batch"}, "latent_sample": {0: "batch"}})
            z = torch.randn(2, 4, 16, 16)
            export(ae.decoder, (z,), f"{a.out}/vae_decoder/model.onnx", ["latent_sample"], ["sample"],
                   {"latent_sample": {0: "batch"}, "sample": {0: "batch"}})
            for part in ("text_encoder", "vae_encoder", "vae_decoder"):
                store_fp16(f"{a.out}/{part}/model.onnx")
        x = torch.randn(2, 4, 16, 16); t = torch.tensor([999, 10], dtype=torch.long)
        export(un, (x, t, ctx), f"{a.out}/unet/model.onnx", ["sample", "timestep", "encoder_hidden_states"],
               ["out_sample"], {"sample": {0: "batch"}, "timestep": {0: "batch"},
                                "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch"}})
        store_fp16(f"{a.out}/unet/model.onnx")
    if not a.share:
        vae_cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0", "in_channels": 3, "out_channels": 3,
                   "latent_channels": 4, "block_out_channels": list(CH2), "sample_size": size, "scaling_factor": sf}
        wjson(f"{a.out}/vae_encoder/config.json", vae_cfg)
        wjson(f"{a.out}/vae_decoder/config.json", vae_cfg)
        wjson(f"{a.out}/text_encoder/config.json", {"_class_name": "BananaNanoTextEncoder", "hidden_size": c["d"],
                                                   "max_position_embeddings": 77, "vocab_size": c["vocab_size"],
                                                   "bos_token_id": lex.bos, "eos_token_id": lex.eos,
                                                   "pad_token_id": lex.eos})
        tok = f"{a.out}/tokenizer"
        if os.path.isdir(tok):
            shutil.rmtree(tok)
        os.makedirs(tok)
        with open(os.path.join(a.tokenizer, "lexicon.tsv"), "rb") as src, \
                gzip.GzipFile(os.path.join(tok, "lexicon.tsv.gz"), "wb", compresslevel=9, mtime=0) as dst:
            shutil.copyfileobj(src, dst)
        for name in ("lexicon_config.json", "concepts.tsv"):
            shutil.copy(os.path.join(a.tokenizer, name), os.path.join(tok, name))
    wjson(f"{a.out}/unet/config.json", {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
                                       "sample_size": 16, "in_channels": 4, "out_channels": 4,
                                       "cross_attention_dim": c["d"], "prediction_type": "v_prediction"})
    wjson(f"{a.out}/scheduler/scheduler_config.json", {
        "_class_name": "DDIMScheduler", "_diffusers_version": "0.30.0", "num_train_timesteps": 1000,
        "beta_schedule": "squaredcos_cap_v2", "beta_start": 0.0001, "beta_end": 0.02, "trained_betas": None,
        "prediction_type": "v_prediction", "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 0,
        "timestep_spacing": "trailing", "rescale_betas_zero_snr": False, "thresholding": False})
    meta = {"generation": 2, "dataset": "Noto Color Emoji, 1392 single-codepoint emoji at 128x128 on 11 backgrounds "
            "(15312 singles) + 48000 two-emoji compositions (next to / on / in front of); captions from CLDR "
            "annotations (10 languages) and WordNet synonyms through the concept lexicon; tools/train-nano/README.md",
            "train_steps": int(ck["step"]), "train_seconds": round(float(ck["elapsed"])),
            "export_date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "weights": "EMA, stored as float16 (tensors of 1024+ values; computed in float32)",
            "prediction_type": "v_prediction", "latent_scaling_factor": sf,
            "bos_token_id": lex.bos, "eos_token_id": lex.eos, "image_size": size,
            "recommended_steps": turbo["steps"] if turbo else 20,
            "recommended_guidance": turbo["guidance"] if turbo else 3.0}
    if turbo:
        meta["distillation"] = turbo
    wjson(f"{a.out}/model_index.json", {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
        "feature_extractor": [None, None], "safety_checker": [None, None], "requires_safety_checker": False,
        "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["bananalab", "ConceptLexicon"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"],
        "banana_nano": meta})
    print("exported to", a.out, "scaling_factor", sf)


if __name__ == "__main__":
    main()
