#!/usr/bin/env python3
"""Agreement between the two annotation passes of the Webis editorials (datasets/ANNOTATION.md).

Usage: python3 scripts/webis-agreement.py [FIRST_DIR [SECOND_DIR]]
(defaults: datasets/webis-graphs and datasets/webis-graphs-second)

For the editorials annotated in both passes, prints as JSON: Cohen's kappa and accuracy on the
sentence labels, headline agreement, thesis agreement (exact, and lenient: either pass's thesis
is one the other accepts), and link F1 between the passes (source and target; and with the
relation too).
"""
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read(folder):
    out = {}
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.open():
            if line.strip():
                a = json.loads(line)
                out[a["doc_id"]] = a
    return out


def kappa(pairs):
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return (observed - expected) / (1 - expected), observed


def edges(article, with_relation):
    return {
        (i, s["target"], s["relation"] if with_relation else None)
        for i, s in enumerate(article["sentences"])
        if s.get("target") is not None
    }


def f1(a, b):
    common = len(a & b)
    return 2 * common / (len(a) + len(b)) if a or b else 1.0


def main():
    first = read(sys.argv[1] if len(sys.argv) > 1 else ROOT / "datasets/webis-graphs")
    second = read(sys.argv[2] if len(sys.argv) > 2 else ROOT / "datasets/webis-graphs-second")
    both = sorted(set(first) & set(second))
    if not both:
        sys.exit("no editorial is in both passes")
    labels = [
        (x["label"], y["label"])
        for d in both
        for x, y in zip(first[d]["sentences"], second[d]["sentences"])
    ]
    k, accuracy = kappa(labels)
    accepted = lambda a: {a["thesis"], a.get("thesis_alt")} - {None}
    links = lambda rel: [
        (edges(first[d], rel), edges(second[d], rel)) for d in both
    ]
    pooled = lambda rel: f1(
        {(d, *e) for d, (a, _) in zip(both, links(rel)) for e in a},
        {(d, *e) for d, (_, b) in zip(both, links(rel)) for e in b},
    )
    report = {
        "editorials": len(both),
        "sentences": len(labels),
        "label_kappa": round(k, 4),
        "label_accuracy": round(accuracy, 4),
        "headline_agreement": round(
            sum(first[d]["title_label"] == second[d]["title_label"] for d in both) / len(both), 4
        ),
        "thesis_exact": round(
            sum(first[d]["thesis"] == second[d]["thesis"] for d in both) / len(both), 4
        ),
        "thesis_lenient": round(
            sum(
                first[d]["thesis"] in accepted(second[d])
                or second[d]["thesis"] in accepted(first[d])
                for d in both
            )
            / len(both),
            4,
        ),
        "link_f1": round(pooled(False), 4),
        "link_f1_with_relation": round(pooled(True), 4),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
