"""Tiny stand-in graphs in the *other* shapes the pipeline must adapt to (see VariantGraphTests.cs):
fp16 tensors, int32 input_ids, a float32 timestep, a fixed batch of 1, and a VAE encoder that returns
8-channel `latent_parameters` (mean + logvar). Not a model: the outputs are simple functions.

    /usr/bin/python3 BananaLab.Tests/Inference/Data/make_variant_model.py
"""
import json, os
import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "variant-model")
F16 = T.FLOAT16


def save(name, nodes, inputs, outputs, inits=()):
    graph = h.make_graph(nodes, name, inputs, outputs, list(inits))
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], producer_name="bananalab-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    onnx.save(model, os.path.join(OUT, name, "model.onnx"))


def const(name, array):
    return nh.from_array(np.asarray(array), name)


# text encoder: int32 ids [1,77] -> fp16 states [1,77,8] = table[ids mod 64]
save("text_encoder",
     [h.make_node("Mod", ["input_ids", "m"], ["r"]), h.make_node("Cast", ["r"], ["r64"], to=T.INT64),
      h.make_node("Gather", ["table", "r64"], ["last_hidden_state"])],
     [h.make_tensor_value_info("input_ids", T.INT32, [1, 77])],
     [h.make_tensor_value_info("last_hidden_state", F16, [1, 77, 8])],
     [const("m", np.int32(64)), const("table", (np.random.default_rng(0).standard_normal((64, 8)) * 0.1).astype(np.float16))])

# unet: epsilon = 0.5*sample + 0.001*t + mean(ctx), fixed batch 1
save("unet",
     [h.make_node("Mul", ["sample", "half"], ["a"]),
      h.make_node("Cast", ["timestep"], ["t16"], to=F16), h.make_node("Mul", ["t16", "milli"], ["tm"]),
      h.make_node("Reshape", ["tm", "shape4"], ["t4"]),
      h.make_node("ReduceMean", ["encoder_hidden_states"], ["cm"], axes=[1, 2], keepdims=1),
      h.make_node("Reshape", ["cm", "shape4"], ["c4"]),
      h.make_node("Add", ["a", "t4"], ["b"]), h.make_node("Add", ["b", "c4"], ["out_sample"])],
     [h.make_tensor_value_info("sample", F16, [1, 4, 16, 16]), h.make_tensor_value_info("timestep", T.FLOAT, [1]),
      h.make_tensor_value_info("encoder_hidden_states", F16, [1, 77, 8])],
     [h.make_tensor_value_info("out_sample", F16, [1, 4, 16, 16])],
     [const("half", np.float16(0.5)), const("milli", np.float16(0.001)), const("shape4", np.array([1, 1, 1, 1], np.int64))])

# vae decoder: first 3 latent channels, nearest x4, tanh -> [-1, 1]
save("vae_decoder",
     [h.make_node("Slice", ["latent_sample", "s0", "s3", "ax"], ["rgb"]),
      h.make_node("Resize", ["rgb", "", "scales"], ["big"], mode="nearest"), h.make_node("Tanh", ["big"], ["sample"])],
     [h.make_tensor_value_info("latent_sample", F16, ["batch", 4, 16, 16])],
     [h.make_tensor_value_info("sample", F16, ["batch", 3, 64, 64])],
     [const("s0", np.array([0], np.int64)), const("s3", np.array([3], np.int64)), const("ax", np.array([1], np.int64)),
      const("scales", np.array([1, 1, 4, 4], np.float32))])

# vae encoder: 4x4 average -> mean = [r, g, b, r], logvar = same -> 8 channels
save("vae_encoder",
     [h.make_node("AveragePool", ["sample"], ["p"], kernel_shape=[4, 4], strides=[4, 4]),
      h.make_node("Slice", ["p", "s0", "s1", "ax"], ["r"]),
      h.make_node("Concat", ["p", "r", "p", "r"], ["latent_parameters"], axis=1)],
     [h.make_tensor_value_info("sample", F16, ["batch", 3, 64, 64])],
     [h.make_tensor_value_info("latent_parameters", F16, ["batch", 8, 16, 16])],
     [const("s0", np.array([0], np.int64)), const("s1", np.array([1], np.int64)), const("ax", np.array([1], np.int64))])

vae = {"_class_name": "AutoencoderKL", "latent_channels": 4, "block_out_channels": [8, 8, 8]}  # no scaling_factor: default
for part in ("vae_decoder", "vae_encoder"):
    json.dump(vae, open(os.path.join(OUT, part, "config.json"), "w"), indent=2)
json.dump({"sample_size": 16}, open(os.path.join(OUT, "unet", "config.json"), "w"), indent=2)
os.makedirs(os.path.join(OUT, "scheduler"), exist_ok=True)
json.dump({"_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "beta_schedule": "scaled_linear",
           "beta_start": 0.00085, "beta_end": 0.012, "prediction_type": "epsilon", "timestep_spacing": "leading",
           "steps_offset": 1}, open(os.path.join(OUT, "scheduler", "scheduler_config.json"), "w"), indent=2)
print("wrote", OUT)
