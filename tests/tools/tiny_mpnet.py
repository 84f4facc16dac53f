"""Writes tests/data/tiny-mpnet/: a randomly initialised two-layer MPNet (config.json,
model.safetensors) and the token states a plain numpy port of Hugging Face's MPNetModel gives for
two sequences (expected.json), so the candle encoder is checked against an independent
implementation. Run from the repository root: python3 tests/tools/tiny_mpnet.py"""

import json
import math
import struct
from pathlib import Path

import numpy as np

OUT = Path("tests/data/tiny-mpnet")
CONFIG = {
    "model_type": "mpnet",
    "vocab_size": 40,
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 16,
    "max_position_embeddings": 64,
    "layer_norm_eps": 1e-5,
    "pad_token_id": 1,
    "relative_attention_num_buckets": 32,
}
# Long enough (40 tokens) for the logarithmic buckets beyond 8 tokens; the second is padded.
SEQUENCES = [list(range(2, 40)) + [3, 5], [0, 7, 9, 11, 2]]


def weights(rng):
    h, i = CONFIG["hidden_size"], CONFIG["intermediate_size"]
    w = {
        "embeddings.word_embeddings.weight": (CONFIG["vocab_size"], h),
        "embeddings.position_embeddings.weight": (CONFIG["max_position_embeddings"], h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
        "encoder.relative_attention_bias.weight": (32, CONFIG["num_attention_heads"]),
    }
    for layer in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        for name in "qkvo":
            w[p + f"attention.attn.{name}.weight"] = (h, h)
            w[p + f"attention.attn.{name}.bias"] = (h,)
        w[p + "attention.LayerNorm.weight"] = (h,)
        w[p + "attention.LayerNorm.bias"] = (h,)
        w[p + "intermediate.dense.weight"] = (i, h)
        w[p + "intermediate.dense.bias"] = (i,)
        w[p + "output.dense.weight"] = (h, i)
        w[p + "output.dense.bias"] = (h,)
        w[p + "output.LayerNorm.weight"] = (h,)
        w[p + "output.LayerNorm.bias"] = (h,)
    return {k: rng.normal(0, 0.5, s).astype(np.float32) for k, s in w.items()}


def bucket(relative, buckets=32, max_distance=128):
    """MPNetEncoder.relative_position_bucket for one `key - query`."""
    n = -relative
    half = buckets // 2
    ret = half if n < 0 else 0
    n = abs(n)
    exact = half // 2
    if n < exact:
        return ret + n
    large = exact + int(math.log(n / exact) / math.log(max_distance / exact) * (half - exact))
    return ret + min(large, half - 1)


def layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + CONFIG["layer_norm_eps"]) * g + b


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def forward(w, ids):
    """Token states of one unpadded sequence."""
    t, heads = len(ids), CONFIG["num_attention_heads"]
    h = CONFIG["hidden_size"]
    d = h // heads
    positions = np.arange(t) + CONFIG["pad_token_id"] + 1
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    buckets = np.array([[bucket(k - q) for k in range(t)] for q in range(t)])
    bias = w["encoder.relative_attention_bias.weight"][buckets].transpose(2, 0, 1)
    for layer in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def linear(x, name):
            return x @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (
            linear(x, f"attention.attn.{n}").reshape(t, heads, d).transpose(1, 0, 2) for n in "qkv"
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(t, h)
        x = layer_norm(linear(context, "attention.attn.o") + x, w[p + "attention.LayerNorm.weight"], w[p + "attention.LayerNorm.bias"])
        inner = gelu(linear(x, "intermediate.dense"))
        x = layer_norm(linear(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    return x


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        blob = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def main():
    w = weights(np.random.default_rng(7))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    save_safetensors(OUT / "model.safetensors", w)
    expected = {"ids": SEQUENCES, "states": [forward(w, ids).round(6).tolist() for ids in SEQUENCES]}
    (OUT / "expected.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
