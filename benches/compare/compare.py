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

Every system runs `--runs` times (default 3), interleaved (one pass over all systems, then the
next), and the table gives the median rate and its ratio to Python onnxruntime's median; a
single run on a shared cloud machine can be off by a third. The pure-Rust backends also run
once per CPU level below the detected one that `--levels` names (`ARGMINE_CPU`), so that
users of older CPUs know what to expect.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def argmine_bench(binary, backend, batch_size, threads, level=None):
    env = dict(os.environ)
    if level:
        env["ARGMINE_CPU"] = level
    out = subprocess.run(
        [binary, "bench", "--json", "--backend", backend, "--batch-size", str(batch_size), "--threads", str(threads)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
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
    parser.add_argument("--backends", default="candle-int8,candle,onnx,onnx-int8,tch")
    parser.add_argument("--levels", default="avx2", help="CPU levels to force for the pure-Rust backends, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per system")
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

        systems = []
        for backend in args.backends.split(","):
            systems.append((f"argmine, {backend} backend", "end to end", backend, None))
            if backend.startswith("candle"):
                for level in filter(None, args.levels.split(",")):
                    if level_below_detected(level):
                        systems.append((f"argmine, {backend} backend, `ARGMINE_CPU={level}`", "end to end", backend, level))
        onnxruntime_name = "Python onnxruntime " + onnxruntime.__version__
        systems.append(("Python torch " + torch.__version__, "encoder", "torch", None))
        systems.append((onnxruntime_name, "encoder", "onnxruntime", None))

        # One warm-up pass each for the peers, then the interleaved timed runs.
        run_torch(model, encodings, batches[:4])
        run_onnxruntime(session, encodings, batches[:4])
        rates = {name: [] for name, *_ in systems}
        for _ in range(args.runs):
            for name, _, system, level in systems:
                if system == "torch":
                    rates[name].append(sentences / run_torch(model, encodings, batches))
                elif system == "onnxruntime":
                    rates[name].append(sentences / run_onnxruntime(session, encodings, batches))
                else:
                    report = argmine_bench(args.argmine, system, args.batch_size, args.threads, level)
                    assert report["sentences"] == sentences, (report["sentences"], sentences)
                    rates[name].append(report["end_to_end"]["sentences_per_second"])
        reference = statistics.median(rates[onnxruntime_name])
        rows = [(name, scope, rates[name]) for name, scope, *_ in systems]

    print(
        f"{sentences} sentences ({len(texts)} sequences, {tokens} tokens, {tokens / len(texts):.1f} per sequence); "
        f"batch {args.batch_size}, {args.threads} threads, length-sorted batches"
    )
    print()
    print(f"CPU level {detected_level()}; {args.runs} interleaved runs; median sentences/s, and its ratio to Python onnxruntime's median")
    print()
    print("| system | measured | runs | median | × onnxruntime |")
    print("|---|---|---|---:|---:|")
    for name, scope, runs in rows:
        median = statistics.median(runs)
        print(f"| {name} | {scope} | {', '.join(f'{r:.1f}' for r in runs)} | {median:.1f} | {median / reference:.2f} |")


def detected_level():
    """The CPU level argmine detects (`src/encode/gemm`), from the CPU flags Linux lists."""
    flags = set()
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    if {"avx512f", "avx512bw", "avx512_vnni"} <= flags:
        return "avx512"
    return "avx2" if {"avx2", "fma"} <= flags else "portable"


def level_below_detected(level):
    """Whether forcing `level` changes anything: the detected level is above it."""
    order = ["portable", "avx2", "avx512"]
    return order.index(level) < order.index(detected_level())


if __name__ == "__main__":
    sys.exit(main())
