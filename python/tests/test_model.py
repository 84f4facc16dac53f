"""The Python API against the command line, and what it does with bad input."""

import json
import resource

import networkx as nx
import pytest

import argmine
from conftest import SAMPLES, canonical, write_jsonl

BAD = [{"id": "no-text"}, {"id": "blank", "text": "  "}, {"id": "num", "text": 3}, {"id": "", "text": "x"}]


def test_records_equal_the_cli_output_on_the_samples(model, cli, tmp_path):
    articles = [{"id": p.name, "text": p.read_text(encoding="utf-8"), "source": "samples"} for p in sorted(SAMPLES.glob("*.txt"))]
    articles += BAD
    cli("mine", write_jsonl(tmp_path / "in.jsonl", articles), "-o", tmp_path / "out.jsonl")
    expected = list(argmine.read_jsonl(tmp_path / "out.jsonl"))
    got = list(model.mine_many(articles, batch_size=4))
    assert len(got) == len(expected) == len(articles)
    # a record without a usable id is named by its line: `in.jsonl:N` there, `input:N` here
    assert expected[-1]["id"] == f"{tmp_path / 'in.jsonl'}:10" and got[-1]["id"] == "input:10"
    got[-1]["id"] = expected[-1]["id"]
    assert got == expected
    assert [r.get("error", {}).get("kind") for r in got[-4:]] == ["invalid_record", "empty_text", "invalid_record", "invalid_record"]
    one = model.mine(articles[0]["text"], id=articles[0]["id"])
    assert one == {k: v for k, v in expected[0].items() if k != "meta"}


def test_the_networkx_graph_has_the_thesis_edges_and_attributes(model):
    text = (SAMPLES / "north-korea-oped.txt").read_text(encoding="utf-8")
    record = model.mine(text, id="nk")
    graph = argmine.to_networkx(record)
    assert isinstance(graph, nx.DiGraph)
    thesis = record["graph"]["thesis"]
    assert graph.graph["thesis"] == thesis and thesis in graph
    assert graph.nodes[thesis]["role"] == "thesis"
    edges = {(e["source"], e["target"]): e for e in record["graph"]["edges"]}
    assert set(graph.edges) == set(edges) and edges
    for (s, t), e in edges.items():
        assert graph.edges[s, t]["relation"] == e["relation"]
        assert graph.edges[s, t]["confidence"] == pytest.approx(e["confidence"])
        sentence = record["sentences"][s]
        assert graph.nodes[s]["text"] == sentence["text"] and graph.nodes[s]["label"] == sentence["label"]
    assert nx.is_forest(graph.to_undirected())


def test_aif_has_one_information_node_per_graph_sentence(model):
    record = model.mine("Taxes should fall. Growth was 2% last year. So the budget can bear it.")
    assert record["id"] == "article"
    aif = argmine.to_aif(record)
    thesis = record["graph"]["thesis"]
    assert thesis is not None
    graph_sentences = (
        {thesis}
        | {x for e in record["graph"]["edges"] for x in (e["source"], e["target"])}
        | {s["index"] for s in record["sentences"] if s["label"] != "other" and not s["boilerplate"]}
    )
    assert sum(n["type"] == "I" for n in aif["nodes"]) == len(graph_sentences)
    assert set(argmine.export(record, "brat")) == {"txt", "ann"}


def test_bad_input_gives_error_records_and_loses_nothing(model):
    items = ["We must act now.", "", 5, {"id": "x"}, {"id": "y", "text": 3}, {"id": "z", "text": "Prices rose."}]
    records = list(model.mine_many(items, batch_size=2))
    assert [r["id"] for r in records] == ["1", "2", "input:3", "x", "y", "z"]
    kinds = [r.get("error", {}).get("kind") for r in records]
    assert kinds == [None, "empty_text", "invalid_record", "invalid_record", "invalid_record", None]
    assert records[3]["error"]["message"] == "missing field `text`"
    assert records[4]["error"]["message"] == "field `text` must be a string"


def test_bad_arguments_raise_errors_that_say_what_to_fix(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-model-here"):
        argmine.Model(tmp_path / "no-model-here")
    with pytest.raises(ValueError, match="expected one of candle"):
        argmine.Model(backend="gpu")
    with pytest.raises(TypeError, match="text must be a str"):
        model.mine(b"bytes")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        model.mine_many(["x"], batch_size=0)  # raised at the call, not at the first record
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        argmine.Model(batch_size=-1)
    with pytest.raises(ValueError, match="has no graph"):
        argmine.to_aif(model.mine(" ", id="blank"))
    with pytest.raises(ValueError, match="unknown format"):
        argmine.export(model.mine("We must act.", id="a"), "pdf")
    bad = write_jsonl(tmp_path / "bad.jsonl", ['{"id": "a"}', "oops"])
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        list(argmine.read_jsonl(bad))


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_mine_many_streams_10000_articles_in_flat_memory(model):
    pulled = 0

    def articles():
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield {"id": f"a{i}", "text": f"Claim {i}: the tax rose {i % 97} percent."}

    stream = model.mine_many(articles(), batch_size=64)
    first = next(stream)
    assert first["id"] == "a0" and pulled == 64, "articles are read a batch at a time"
    seen, after_warmup = 1, None
    for record in stream:
        assert record["id"] == f"a{seen}" and "error" not in record
        seen += 1
        if seen == 2_000:
            after_warmup = rss_mib()
    assert seen == 10_000
    growth = rss_mib() - after_warmup
    assert growth < 25, f"memory grew {growth:.1f} MiB over the last 8,000 articles"
