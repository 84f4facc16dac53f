#!/usr/bin/env python3
"""Checks annotated Webis editorials (datasets/ANNOTATION.md) against the segmented editorials.

Usage: python3 scripts/check-webis-gold.py FILE.jsonl [FILE.jsonl ...]

Every line must be one editorial of datasets/webis-editorials.jsonl with the same doc_id, title
and sentences (text and paragraph, in order), every sentence labelled, the headline labelled,
a thesis that is a claim or recommendation, and links only between argumentative sentences.
Prints one line per problem and exits 1 if there is any.
"""
import json
import sys
from pathlib import Path

LABELS = {"claim", "evidence", "recommendation", "other"}
ROOT = Path(__file__).resolve().parent.parent
SHEETS = {
    a["doc_id"]: a
    for a in map(json.loads, (ROOT / "datasets/webis-editorials.jsonl").open())
}


def problems(a):
    sheet = SHEETS.get(a.get("doc_id"))
    if sheet is None:
        yield "unknown doc_id"
        return
    if a.get("title") != sheet["title"]:
        yield "title differs from the sheet"
    if a.get("title_label") not in LABELS:
        yield "title_label missing or not one of " + ", ".join(sorted(LABELS))
    sents = a.get("sentences", [])
    if [(s.get("text"), s.get("paragraph")) for s in sents] != [
        (s["text"], s["paragraph"]) for s in sheet["sentences"]
    ]:
        yield "sentences differ from the sheet (text, paragraph or order)"
        return
    n = len(sents)
    argumentative = {i for i, s in enumerate(sents) if s.get("label") in LABELS - {"other"}}
    for i, s in enumerate(sents):
        if s.get("label") not in LABELS:
            yield f"sentence {i}: label {s.get('label')!r}"
        t = s.get("target")
        if t is None:
            if s.get("relation") is not None:
                yield f"sentence {i}: relation without a target"
            continue
        if not isinstance(t, int) or not 0 <= t < n or t == i:
            yield f"sentence {i}: target {t!r} out of range or itself"
            continue
        if i not in argumentative:
            yield f"sentence {i}: labelled other but links to {t}"
        if t not in argumentative:
            yield f"sentence {i}: target {t} is labelled other"
        if s.get("relation") not in ("support", "attack"):
            yield f"sentence {i}: relation {s.get('relation')!r}"
    for key in ("thesis", "thesis_alt"):
        t = a.get(key)
        if t is None:
            if key == "thesis" and argumentative:
                yield "no thesis"
            continue
        if not isinstance(t, int) or not 0 <= t < n:
            yield f"{key} {t!r} out of range"
        elif sents[t].get("label") not in ("claim", "recommendation"):
            yield f"{key} {t} is not a claim or recommendation"
        elif key == "thesis" and sents[t].get("target") is not None:
            yield f"thesis {t} has a target"
    if a.get("thesis_alt") is not None and a.get("thesis_alt") == a.get("thesis"):
        yield "thesis_alt equals thesis"
    # links must not form a cycle
    for start in range(n):
        seen, v = set(), start
        while v is not None and v not in seen:
            seen.add(v)
            v = sents[v].get("target")
        if v is not None:
            yield f"sentence {start}: its links run in a cycle"
            break


def main():
    bad = 0
    for name in sys.argv[1:]:
        for k, line in enumerate(Path(name).open(), 1):
            if not line.strip():
                continue
            a = json.loads(line)
            for p in problems(a):
                print(f"{name}:{k} {a.get('doc_id')}: {p}")
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
