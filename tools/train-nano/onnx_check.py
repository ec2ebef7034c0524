"""Independent check of the exported ONNX graphs without onnxruntime (not installable here):
a small interpreter walks each graph node by node (ops implemented with numpy/torch functional
kernels) and compares with the PyTorch eager modules, at a batch size different from the one
used for tracing (catches baked-in shapes), plus the full 20-step DDIM pipeline.

    /usr/bin/python3 onnx_check.py --model /work/main/models/banana-nano --ckpt /work/nano-run/diff_ckpt.pt
"""
import argparse, math
import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def attr(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def run_graph(model, feeds):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    T = lambda x: torch.from_numpy(np.ascontiguousarray(x))
    for n in model.graph.node:
        a = attr(n)
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Shape":
            y = np.array(x[0].shape, np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(i) % (y.ndim + len(x[1])) for i in x[1]):
                y = np.expand_dims(y, ax)
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Reshape":
            shape = [s if s != 0 else x[0].shape[i] for i, s in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(x[0], a["perm"])
        elif op == "Cast":
            y = x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op]
            y = f(x[0], x[1])
            if np.issubdtype(x[0].dtype, np.integer) and op == "Div":
                y = (x[0] // x[1])
            y = y.astype(x[0].dtype)
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * A @ B + (a.get("beta", 1.0) * x[2] if len(x) > 2 else 0)
        elif op == "Softmax":
            y = F.softmax(T(x[0]), dim=a.get("axis", -1)).numpy()
        elif op == "Erf":
            y = torch.erf(T(x[0])).numpy()
        elif op in ("Cos", "Sin", "Exp", "Sigmoid", "Sqrt"):
            y = getattr(torch, op.lower())(T(x[0])).numpy()
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            y = F.layer_norm(T(x[0]), x[0].shape[ax:], T(x[1]), T(x[2]) if len(x) > 2 else None, a.get("epsilon", 1e-5)).numpy()
        elif op == "InstanceNormalization":
            y = F.instance_norm(T(x[0]), weight=T(x[1]), bias=T(x[2]), eps=a.get("epsilon", 1e-5)).numpy()
        elif op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(T(x[0]), T(x[1]), T(x[2]) if len(x) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=p[:2], dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1)).numpy()
        elif op == "Resize":
            scales = x[2] if len(x) > 2 and x[2] is not None and x[2].size else None
            if scales is None:
                sizes = x[3]; scales = np.array(sizes, np.float32) / np.array(x[0].shape, np.float32)
            s = float(scales[2]); assert abs(scales[3] - s) < 1e-6 and scales[0] == 1 and scales[1] == 1
            if a["mode"] == "nearest":
                assert a.get("coordinate_transformation_mode") == "asymmetric" and a.get("nearest_mode") == "floor"
                assert s == int(s)
                y = x[0].repeat(int(s), axis=2).repeat(int(s), axis=3)
            elif a["mode"] == "cubic":
                assert a["coordinate_transformation_mode"] == "half_pixel" and abs(a["cubic_coeff_a"] + 0.75) < 1e-6
                y = F.interpolate(T(x[0]), scale_factor=s, mode="bicubic", align_corners=False).numpy()
            else:
                raise NotImplementedError(a)
        elif op == "DepthToSpace":
            assert a.get("mode", "DCR") == "CRD"
            y = F.pixel_shuffle(T(x[0]), a["blocksize"]).numpy()
        elif op == "PRelu":
            y = np.where(x[0] >= 0, x[0], x[0] * x[1])
        elif op == "Clip":
            y = np.clip(x[0], x[1] if len(x) > 1 and x[1] is not None else -np.inf, x[2] if len(x) > 2 and x[2] is not None else np.inf)
        elif op in ("Sqrt",):
            y = np.sqrt(x[0])
        elif op == "Slice":
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s0, e0, ax, st in zip(starts, ends, axes, steps):
                sl[ax] = slice(int(s0), int(min(e0, 2**62)), int(st))
            y = x[0][tuple(sl)]
        else:
            raise NotImplementedError(op)
        if isinstance(y, np.ndarray) and y.dtype == np.float64:
            y = y.astype(np.float32)
        env[n.output[0]] = np.asarray(y)
    return {o.name: env[o.name] for o in model.graph.output}


def rel(a, b):
    return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/main/models/banana-nano")
    ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
    ap.add_argument("--upscaler", default="/work/main/models/upscaler/x4/model.onnx")
    ap.add_argument("--upscaler_pt", default="/work/nano-run/upscaler_x4.pt", help="'' skips the upscaler check")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from sample import NanoPipeline, ddim_timesteps, ddim_step
    pipe = NanoPipeline(a.ckpt)
    M = {k: onnx.load(f"{a.model}/{k}/model.onnx") for k in ["text_encoder", "unet", "vae_encoder", "vae_decoder"]}
    B = 3
    ids = np.array([pipe.tok(p) for p in ["red apple", "", "grinning face on a blue background"]], np.int64)
    with torch.no_grad():
        ctx_t = pipe.te(torch.from_numpy(ids)).numpy()
        ctx_o = run_graph(M["text_encoder"], {"input_ids": ids})["last_hidden_state"]
        print("text_encoder  max rel err %.2e" % rel(ctx_o, ctx_t))
        x = np.random.default_rng(0).standard_normal((B, 4, 16, 16)).astype(np.float32)
        t = np.array([999, 500, 0], np.int64)
        v_t = pipe.unet(torch.from_numpy(x), torch.from_numpy(t), torch.from_numpy(ctx_t)).numpy()
        v_o = run_graph(M["unet"], {"sample": x, "timestep": t, "encoder_hidden_states": ctx_t})["out_sample"]
        print("unet          max rel err %.2e" % rel(v_o, v_t))
        size = 128 if type(pipe.ae).__name__ == "AE8" else 64  # banana-nano 2 : 1
        img = np.random.default_rng(1).uniform(-1, 1, (B, 3, size, size)).astype(np.float32)
        z_t = pipe.ae.encoder(torch.from_numpy(img)).numpy()
        z_o = run_graph(M["vae_encoder"], {"sample": img})["latent_sample"]
        print("vae_encoder   max rel err %.2e" % rel(z_o, z_t))
        d_t = pipe.ae.decoder(torch.from_numpy(x)).numpy()
        d_o = run_graph(M["vae_decoder"], {"latent_sample": x})["sample"]
        print("vae_decoder   max rel err %.2e" % rel(d_o, d_t))
        # full pipeline through the ONNX graphs vs torch sampler
        import json
        sf = json.load(open(f"{a.model}/vae_decoder/config.json"))["scaling_factor"]
        prompts = ["red apple", "grinning face"]; seeds = [0, 1]; steps = 20; g = 5.0
        ref = pipe(prompts, seeds, steps, g).numpy()
        cond = np.array([pipe.tok(p) for p in prompts]); unc = np.array([pipe.tok("")] * 2)
        ctx = run_graph(M["text_encoder"], {"input_ids": np.concatenate([unc, cond])})["last_hidden_state"]
        lat = torch.stack([torch.randn(4, 16, 16, generator=torch.Generator().manual_seed(s)) for s in seeds])
        for tt in ddim_timesteps(steps):
            v = run_graph(M["unet"], {"sample": np.concatenate([lat.numpy()] * 2), "timestep": np.full(4, tt, np.int64),
                                      "encoder_hidden_states": ctx})["out_sample"]
            v = torch.from_numpy(v[:2] + g * (v[2:] - v[:2]))
            lat = ddim_step(v, int(tt), lat, steps)
        out = run_graph(M["vae_decoder"], {"latent_sample": (lat / sf).numpy()})["sample"]
        out = np.clip((out + 1) / 2, 0, 1)
        print("pipeline (20 DDIM steps, cfg 5) max abs err in [0,1] pixels %.2e" % np.abs(out - ref).max())
        print("timesteps(20):", list(ddim_timesteps(20)))
        if a.upscaler and a.upscaler_pt:
            from train_upscaler import ESPCN
            m = ESPCN(4); m.load_state_dict(torch.load(a.upscaler_pt)); m.eval()
            u = np.random.default_rng(2).uniform(0, 1, (1, 3, 37, 23)).astype(np.float32)
            u_o = run_graph(onnx.load(a.upscaler), {"input": u})["output"]
            print("upscaler x4   max abs err %.2e  out shape %s" % (np.abs(u_o - m(torch.from_numpy(u)).numpy()).max(), u_o.shape))


if __name__ == "__main__":
    main()
