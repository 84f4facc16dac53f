#!/usr/bin/env python3
"""argmine next to the Python peers, on the same machine, the same model and the same sentences,
in one run.

    pip install -r benches/compare/requirements.txt     # torch, transformers, onnxruntime
    cargo build --release --features onnx
    python3 scripts/export-onnx.py models/argmine-minilm --int8
    python3 benches/compare/compare.py                  # prints a Markdown table

The corpus is `argmine bench`'s default: the bundled samples read 5 times over. argmine is
measured end to end (files in, graphs out: `argmine bench --json`, once per backend); the peers
encode the same sequences (every sentence and title that argmine encodes, as argmine segments
them), encoder only, tokenised before the clock starts:

- torch: Hugging Face `BertModel` on the model's weights (widened to f32), mean pooling,
  `inference_mode`;
- onnxruntime: the same model exported by `torch.onnx.export` (f32).

Both peers use length-sorted batches (the sentence-transformers strategy, their fastest
configuration) of the same size as argmine, and the same number of threads. Rates are
sentences per second: the corpus's sentence count over the time (titles are encoded but not
counted, as in `argmine bench`).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def argmine_bench(binary, backend, batch_size, threads):
    out = subprocess.run(
        [binary, "bench", "--json", "--backend", backend, "--batch-size", str(batch_size), "--threads", str(threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def corpus_sequences(binary, model_dir, repeat):
    """The sentences and titles argmine encodes for the bench corpus, and its sentence count."""
    out = subprocess.run(
        [binary, "mine", "--model", str(model_dir), str(ROOT / "datasets/samples")],
        check=True,
        capture_output=True,
        text=True,
    )
    texts, sentences = [], 0
    for line in out.stdout.splitlines():
        record = json.loads(line)
        texts += [s["text"] for s in record["sentences"]]
        sentences += len(record["sentences"])
        if record.get("title"):
            texts.append(record["title"]["text"])
    return texts * repeat, sentences * repeat


def sorted_batches(encodings, batch_size):
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def padded(encodings, rows):
    import numpy as np

    width = max(len(encodings[i]) for i in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, i in enumerate(rows):
        ids[r, : len(encodings[i])] = encodings[i]
        mask[r, : len(encodings[i])] = 1
    return ids, mask


def run_torch(model, encodings, batches):
    import torch

    start = time.perf_counter()
    with torch.inference_mode():
        for rows in batches:
            ids, mask = (torch.from_numpy(a) for a in padded(encodings, rows))
            states = model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
            torch.nn.functional.normalize(pooled, dim=-1)
    return time.perf_counter() - start


def run_onnxruntime(session, encodings, batches):
    start = time.perf_counter()
    for rows in batches:
        ids, mask = padded(encodings, rows)
        session.run(None, {"input_ids": ids, "attention_mask": mask})
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--argmine", default=str(ROOT / "target/release/argmine"))
    parser.add_argument("--model", default=str(ROOT / "models/argmine-minilm"))
    parser.add_argument("--backends", default="candle,onnx,onnx-int8,tch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="read the samples this many times over")
    args = parser.parse_args()
    model_dir = Path(args.model)

    import numpy as np
    import onnxruntime
    import torch
    from tokenizers import Tokenizer
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    torch.set_num_threads(args.threads)
    texts, sentences = corpus_sequences(args.argmine, model_dir, args.repeat)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    encodings = [e.ids for e in tokenizer.encode_batch(texts)]
    batches = sorted_batches(encodings, args.batch_size)
    tokens = sum(map(len, encodings))

    model = BertModel(BertConfig.from_json_file(model_dir / "config.json"), add_pooling_layer=False).eval()
    weights = load_file(model_dir / "model.safetensors")
    model.load_state_dict({k: v.float() for k, v in weights.items() if not k.startswith("pooler.")})
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        ids, mask = (torch.from_numpy(a) for a in padded(encodings, batches[0]))
        torch.onnx.export(
            model,
            (ids, mask),
            onnx_path,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "width"} for n in ["input_ids", "attention_mask", "last_hidden_state"]},
            opset_version=17,
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

        rows = []
        for backend in args.backends.split(","):
            report = argmine_bench(args.argmine, backend, args.batch_size, args.threads)
            assert report["sentences"] == sentences, (report["sentences"], sentences)
            rows.append((f"argmine, {backend} backend", "end to end", report["end_to_end"]["sentences_per_second"]))
        # One warm-up pass each, then the timed pass.
        run_torch(model, encodings, batches[:4])
        rows.append(("Python torch " + torch.__version__, "encoder", sentences / run_torch(model, encodings, batches)))
        run_onnxruntime(session, encodings, batches[:4])
        rows.append(
            (
                "Python onnxruntime " + onnxruntime.__version__,
                "encoder",
                sentences / run_onnxruntime(session, encodings, batches),
            )
        )

    print(
        f"{sentences} sentences ({len(texts)} sequences, {tokens} tokens, {tokens / len(texts):.1f} per sequence); "
        f"batch {args.batch_size}, {args.threads} threads, length-sorted batches"
    )
    print()
    print("| system | measured | sentences/s |")
    print("|---|---|---:|")
    for name, scope, rate in rows:
        print(f"| {name} | {scope} | {rate:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
