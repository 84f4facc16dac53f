"""Reads an argmine export back with the field's own parsers and prints its graph as JSON:
{"nodes": {index: role-or-label}, "edges": [[source, target, relation], ...], "texts": {index: text}}.

Usage: read_graph.py FORMAT FILE   (brat: FILE is the .ann; the .txt sits beside it)
Used by tests/export.rs; needs networkx and pydot (tests/tools/requirements.txt).
"""
import json
import sys


def aif_graph(nodes, edges):
    kinds = {str(n["nodeID"]): n for n in nodes}
    out_of, into = {}, {}
    for e in edges:
        out_of.setdefault(str(e["fromID"]), []).append(str(e["toID"]))
        into.setdefault(str(e["toID"]), []).append(str(e["fromID"]))
    graph = {"nodes": {}, "edges": [], "texts": {}}
    for nid, n in kinds.items():
        if n["type"] == "I":
            graph["nodes"][int(nid) - 1] = "I"
            graph["texts"][int(nid) - 1] = n["text"]
        elif n["type"] in ("RA", "CA"):
            relation = "support" if n["type"] == "RA" else "attack"
            for premise in into.get(nid, []):
                for conclusion in out_of.get(nid, []):
                    graph["edges"].append([int(premise) - 1, int(conclusion) - 1, relation])
    return graph


def networkx_graph(g):
    index = lambda n: int(str(n).lstrip("s"))
    return {
        "nodes": {index(n): d["role"] for n, d in g.nodes(data=True)},
        "edges": [[index(a), index(b), d["relation"]] for a, b, d in g.edges(data=True)],
        "texts": {index(n): d["text"] for n, d in g.nodes(data=True)},
    }


def main(fmt, path):
    if fmt == "aif":
        data = json.load(open(path, encoding="utf-8"))
        return aif_graph(data["nodes"], data["edges"])
    if fmt == "xaif":
        data = json.load(open(path, encoding="utf-8"))
        assert data["dialog"] is False and "text" in data
        return aif_graph(data["AIF"]["nodes"], data["AIF"]["edges"])
    if fmt == "graphml":
        import networkx as nx
        return networkx_graph(nx.read_graphml(path))
    if fmt == "nodelink":
        import networkx as nx
        return networkx_graph(nx.node_link_graph(json.load(open(path, encoding="utf-8")), edges="links"))
    if fmt == "dot":
        import pydot
        (g,) = pydot.graph_from_dot_file(path, encoding="utf-8")
        unq = lambda v: json.loads(v) if v.startswith('"') else v
        nodes = [n for n in g.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
        return {
            "nodes": {int(n.get_name()[1:]): unq(n.get("role")) for n in nodes},
            "edges": [[int(e.get_source()[1:]), int(e.get_destination()[1:]), unq(e.get("relation"))] for e in g.get_edges()],
            "texts": {int(n.get_name()[1:]): unq(n.get("text")) for n in nodes},
        }
    if fmt == "brat":
        text = open(path[: -len(".ann")] + ".txt", encoding="utf-8", newline="").read()
        graph = {"nodes": {}, "edges": [], "texts": {}}
        ids = {}
        for line in open(path, encoding="utf-8"):
            fields = line.rstrip("\n").split("\t")
            if fields[0].startswith("T"):
                kind, start, end = fields[1].split(" ")
                start, end = int(start), int(end)
                span = text[start:end].replace("\n", " ")
                assert span == fields[2], f"span {start}-{end} is {span!r}, not {fields[2]!r}"
                index = int(fields[0][1:]) - 1
                ids[fields[0]] = index
                graph["nodes"][index] = kind
                graph["texts"][index] = text[start:end]
            elif fields[0].startswith("R"):
                kind, arg1, arg2 = fields[1].split(" ")
                relation = {"supports": "support", "attacks": "attack"}[kind]
                graph["edges"].append([ids[arg1.split(":")[1]], ids[arg2.split(":")[1]], relation])
            else:
                assert fields[0].startswith("#") and fields[1].startswith("AnnotatorNotes "), line
        return graph
    raise SystemExit(f"unknown format {fmt}")


if __name__ == "__main__":
    g = main(sys.argv[1], sys.argv[2])
    g["edges"].sort()
    print(json.dumps(g, sort_keys=True, ensure_ascii=False))
