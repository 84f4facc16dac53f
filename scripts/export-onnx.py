#!/usr/bin/env python3
"""Writes the encoder of an argmine model directory as ONNX, for the `onnx` backend.

    python3 scripts/export-onnx.py models/argmine-minilm            # model.onnx (f32)
    python3 scripts/export-onnx.py models/argmine-minilm --int8     # also model.int8.onnx

The graph is built operator by operator from `config.json` and `model.safetensors` (f16 on
disk, widened to f32), so the export needs only `onnx` and `numpy`, not torch. It computes
exactly what the candle encoder (src/encode/bert.rs, src/encode/candle.rs) computes:

    inputs   input_ids, attention_mask      int64 [batch, width]
    output   sentence_embedding             f32   [batch, hidden]
             BERT's last layer, mean-pooled over the real tokens, L2-normalised

The operators follow the pattern of a Hugging Face BERT export (MatMul + Add, Reshape and
Transpose into heads, Softmax, erf GELU, LayerNormalization), which ONNX Runtime's graph
optimiser fuses at session start. `--int8` adds ONNX Runtime's dynamic quantisation of the
weight matrices (int8 per output channel, 7-bit range so that AVX2 kernels cannot saturate;
activations are quantised per batch at run time). Three kinds of product stay f32, because
quantising them costs far more accuracy than it saves time: the attention products (query ×
key, probabilities × value), the embeddings, and each layer's feed-forward output projection,
whose 1,536-wide GELU input has the outliers that int8 handles worst.
"""

import argparse
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization is a standard operator from opset 17 on.

DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": None}


def read_safetensors(path):
    """Returns {name: f32 array} from a safetensors file (format: u64 header size, JSON, data)."""
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            sys.exit(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=dtype)
        tensors[name.removeprefix("bert.")] = array.reshape(info["shape"]).astype(np.float32)
    return tensors


class Graph:
    """Collects nodes and initialisers; each helper returns the name of its output."""

    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.initializers = []
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, transpose=False):
        array = self.weights[name]
        return self.const(name, array.T.copy() if transpose else array)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x, prefix):
        # PyTorch stores Linear weights [out, in]; MatMul wants [in, out].
        y = self.op("MatMul", [x, self.weight(f"{prefix}.weight", transpose=True)])
        return self.op("Add", [y, self.weight(f"{prefix}.bias")])

    def layer_norm(self, x, prefix, eps):
        return self.op(
            "LayerNormalization",
            [x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")],
            axis=-1,
            epsilon=eps,
        )

    def gelu(self, x):
        # Exact GELU, x/2 · (1 + erf(x/√2)), as Hugging Face's "gelu" and candle's gelu_erf.
        scaled = self.op("Div", [x, self.const(self.fresh("sqrt2"), np.float32(math.sqrt(2)))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const(self.fresh("one"), np.float32(1))])
        half = self.op("Mul", [x, self.const(self.fresh("half"), np.float32(0.5))])
        return self.op("Mul", [half, one_plus])


def build(config, weights):
    h = config["hidden_size"]
    heads = config["num_attention_heads"]
    d = h // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = Graph(weights)

    # Embeddings: word + position + token type 0, then LayerNorm.
    word = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    shape = g.op("Shape", ["input_ids"])
    width = g.op("Slice", [shape, g.const("one_i64", np.array([1])), g.const("two_i64", np.array([2]))])
    positions = g.op(
        "Slice",
        [g.weight("embeddings.position_embeddings.weight"), g.const("zero_i64", np.array([0])), width],
    )
    token_type = g.const("token_type_0", weights["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", [g.op("Add", [word, positions]), token_type])
    x = g.layer_norm(x, "embeddings.LayerNorm", eps)

    # Additive attention bias: 0 on real tokens, -10⁴ on padding, [batch, 1, 1, width].
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = g.op("Mul", [g.op("Sub", [mask, g.const("one_f", np.float32(1))]), g.const("big", np.float32(1e4))])
    bias = g.op("Unsqueeze", [bias, g.const("axes_1_2", np.array([1, 2]))])

    split_heads = g.const("split_heads", np.array([0, 0, heads, d]))
    merge_heads = g.const("merge_heads", np.array([0, 0, h]))
    scale = g.const("scale", np.float32(1 / math.sqrt(d)))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def project(name, perm):
            y = g.linear(x, f"{p}.attention.self.{name}")
            return g.op("Transpose", [g.op("Reshape", [y, split_heads])], perm=perm)

        q = project("query", [0, 2, 1, 3])  # [b, heads, t, d]
        k = project("key", [0, 2, 3, 1])  # [b, heads, d, t]
        v = project("value", [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads])
        attended = g.linear(context, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", [attended, x]), f"{p}.attention.output.LayerNorm", eps)
        inner = g.gelu(g.linear(x, f"{p}.intermediate.dense"))
        out = g.linear(inner, f"{p}.output.dense")
        x = g.layer_norm(g.op("Add", [out, x]), f"{p}.output.LayerNorm", eps)

    # Mean over real tokens, then L2 normalisation (src/encode/candle.rs: mean_pool, l2_normalize).
    weights_3d = g.op("Unsqueeze", [mask, g.const("axis_2", np.array([2]))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, weights_3d]), g.const("axis_1", np.array([1]))], keepdims=0)
    counts = g.op("ReduceSum", [weights_3d, g.const("axis_1b", np.array([1]))], keepdims=0)
    counts = g.op("Max", [counts, g.const("tiny", np.float32(1e-9))])
    mean = g.op("Div", [summed, counts])
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean]), g.const("axis_last", np.array([1]))], keepdims=1)])
    norm = g.op("Max", [norm, g.const("tiny_norm", np.float32(1e-12))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="sentence_embedding"))

    graph = helper.make_graph(
        g.nodes,
        "argmine-encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "width"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "width"]),
        ],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", h])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="argmine")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, help="an argmine model directory")
    parser.add_argument("--int8", action="store_true", help="also write model.int8.onnx")
    args = parser.parse_args()

    config = json.loads((args.model_dir / "config.json").read_text())
    if config.get("model_type", "bert") != "bert":
        sys.exit(f"{args.model_dir}: the graph is built for BERT encoders, this one is {config['model_type']}")
    weights = read_safetensors(args.model_dir / "model.safetensors")
    model = build(config, weights)
    out = args.model_dir / "model.onnx"
    onnx.save(model, out)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")

    if args.int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        weights = {i.name for i in model.graph.initializer}
        def quantised(node):
            if node.op_type != "MatMul" or node.input[1] not in weights:
                return False
            feed_forward_out = ".output.dense." in node.input[1] and ".attention." not in node.input[1]
            return not feed_forward_out

        projections = [n.name for n in model.graph.node if quantised(n)]
        int8 = args.model_dir / "model.int8.onnx"
        quantize_dynamic(
            out,
            int8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_quantize=projections,
        )
        print(f"wrote {int8} ({int8.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
