"""Shared fixtures: the bundled model, the `argmine` binary, and the samples as articles."""

import json
import os
import pathlib
import re
import subprocess

import pytest

import argmine

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "datasets" / "samples"


@pytest.fixture(scope="session")
def model():
    return argmine.Model()


@pytest.fixture(scope="session")
def cli():
    """Runs the `argmine` binary (ARGMINE_BIN, else the release or debug build) and returns
    its stdout."""
    candidates = [os.environ.get("ARGMINE_BIN"), ROOT / "target/release/argmine", ROOT / "target/debug/argmine"]
    binary = next((str(c) for c in candidates if c and pathlib.Path(c).is_file()), None)
    assert binary, "no argmine binary: run `cargo build` or set ARGMINE_BIN"

    def run(*args):
        return subprocess.run([binary, *map(str, args)], check=False, capture_output=True, text=True).stdout

    return run


@pytest.fixture(scope="session")
def snippets():
    """The samples cut into articles of two sentences each (split naively at sentence-final
    punctuation): a couple of hundred short articles holding all of the samples' text."""
    articles = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences = [s for p in text.split("\n") for s in re.split(r"(?<=[.?!])\s+", p) if s.strip()]
        for k in range(0, len(sentences), 2):
            articles.append({"id": f"{path.stem}-{k // 2}", "text": " ".join(sentences[k : k + 2])})
    return articles


def write_jsonl(path, items):
    with open(path, "w", encoding="utf-8") as f:
        for item in items:
            f.write((item if isinstance(item, str) else json.dumps(item)) + "\n")
    return path


def canonical(record):
    """A record with null fields dropped and keys sorted, for comparison."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return json.dumps(strip(record), sort_keys=True)
