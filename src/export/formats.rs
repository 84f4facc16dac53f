//! The argument graph of a mined article in the formats of the field (`argmine export`).
//!
//! | format | for | nodes | edges |
//! |---|---|---|---|
//! | `aif` | OVA, AIFdb (AIF-JSON) | I-nodes for propositions, RA (support) and CA (conflict) S-nodes | premise → S-node → conclusion |
//! | `xaif` | oAMF modules | as `aif`, plus L-nodes, "Asserting" YA-nodes, one participant and the text with highlighted spans | as `aif`, plus L → YA → I |
//! | `graphml` | networkx `read_graphml`, yEd | one per proposition, with label, role, confidence, offsets, text | source → target, with relation and confidence |
//! | `nodelink` | networkx `node_link_graph(data, edges="links")` | as `graphml` | as `graphml` |
//! | `dot` | graphviz | as `graphml`, shaped and coloured by role | solid for support, dashed for attack |
//! | `brat` | brat and other standoff annotation tools | `T` text-bound annotations over the article text (`.txt` + `.ann`) | `R` relations `supports` / `attacks` |
//!
//! The propositions are the graph's sentences ([`graph_sentences`]). Node ids are
//! sentence indices (prefixed where the format needs it), so every export points back to the
//! mine record and, through the offsets, to the article.

use crate::choice::{choice_traits, Choice};
use crate::types::{round4_f64, Label, MinedArticle, Relation, Sentence};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Aif,
    Xaif,
    Graphml,
    Nodelink,
    Dot,
    Brat,
}

impl Choice for Format {
    const KIND: &'static str = "format";
    const ALL: &'static [Format] = &[
        Format::Aif,
        Format::Xaif,
        Format::Graphml,
        Format::Nodelink,
        Format::Dot,
        Format::Brat,
    ];

    fn name(self) -> &'static str {
        match self {
            Format::Aif => "aif",
            Format::Xaif => "xaif",
            Format::Graphml => "graphml",
            Format::Nodelink => "nodelink",
            Format::Dot => "dot",
            Format::Brat => "brat",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Format::Aif => "AIF-JSON for OVA and AIFdb",
            Format::Xaif => "xAIF for the oAMF modules",
            Format::Graphml => "GraphML for networkx and yEd",
            Format::Nodelink => "node-link JSON for networkx",
            Format::Dot => "DOT for graphviz",
            Format::Brat => "brat standoff (.txt + .ann)",
        }
    }
}

choice_traits!(Format);

/// One output file of an export: a file-name suffix and its contents.
pub struct ExportFile {
    pub extension: &'static str,
    pub contents: String,
}

impl Format {
    /// Renders one article; brat gives two files (`.txt` and `.ann`), the others one.
    pub fn render(self, article: &MinedArticle) -> Vec<ExportFile> {
        let one = |extension, contents| {
            vec![ExportFile {
                extension,
                contents,
            }]
        };
        match self {
            Format::Aif => one("json", pretty(&aif(article))),
            Format::Xaif => one("json", pretty(&xaif(article))),
            Format::Graphml => one("graphml", graphml(article)),
            Format::Nodelink => one("json", pretty(&nodelink(article))),
            Format::Dot => one("dot", dot(article)),
            Format::Brat => vec![
                ExportFile {
                    extension: "txt",
                    contents: article_text(article),
                },
                ExportFile {
                    extension: "ann",
                    contents: brat(article),
                },
            ],
        }
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// The sentences in the graph, in text order: the thesis and every edge's ends and, when there
/// is a thesis, every other claim, evidence and recommendation outside boilerplate, attached or
/// not. (Without a thesis no links are decoded, so there is no graph to leave a sentence out
/// of.)
pub fn graph_sentences(article: &MinedArticle) -> Vec<&Sentence> {
    let units = article
        .sentences
        .iter()
        .filter(|s| article.graph.thesis.is_some() && !s.boilerplate && s.label.is_argumentative())
        .map(|s| s.index);
    let mut indices: Vec<usize> = article
        .graph
        .edges
        .iter()
        .flat_map(|e| [e.source, e.target])
        .chain(article.graph.thesis)
        .chain(units)
        .filter(|&i| i < article.sentences.len())
        .collect();
    indices.sort_unstable();
    indices.dedup();
    indices.iter().map(|&i| &article.sentences[i]).collect()
}

/// A node's role: `thesis` or its label.
pub fn role(article: &MinedArticle, s: &Sentence) -> &'static str {
    if article.graph.thesis == Some(s.index) {
        "thesis"
    } else {
        s.label.name()
    }
}

/// The article text rebuilt from its sentences: each sentence at its offsets, a line break
/// between paragraphs and spaces in the other gaps, so the offsets index into it.
pub fn article_text(article: &MinedArticle) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut paragraph = None;
    for s in &article.sentences {
        if out.len() < s.start {
            let gap = s.start - out.len();
            let fill = if paragraph.is_some_and(|p| p != s.paragraph) {
                '\n'
            } else {
                ' '
            };
            out.extend(std::iter::repeat_n(fill, gap));
        }
        // sentences never overlap; keep the offsets even if a record says otherwise
        out.truncate(s.start);
        out.extend(s.text.chars());
        paragraph = Some(s.paragraph);
    }
    out.push('\n');
    out.into_iter().collect()
}

/// AIF scheme node of a relation: type and the conventional text.
fn scheme(relation: Relation) -> (&'static str, &'static str) {
    match relation {
        Relation::Support => ("RA", "Default Inference"),
        Relation::Attack => ("CA", "Default Conflict"),
    }
}

/// AIF nodes and edges: I-node ids are `sentence index + 1`, S-node ids follow the largest.
fn aif_parts(article: &MinedArticle, string_ids: bool) -> (Vec<Value>, Vec<Value>, u64) {
    let id = |n: u64| {
        if string_ids {
            json!(n.to_string())
        } else {
            json!(n)
        }
    };
    let mut nodes: Vec<Value> = graph_sentences(article)
        .iter()
        .map(|s| json!({"nodeID": id(s.index as u64 + 1), "text": s.text, "type": "I", "timestamp": ""}))
        .collect();
    let mut next = article.sentences.len() as u64 + 1;
    let mut edges = Vec::new();
    for e in &article.graph.edges {
        let (kind, text) = scheme(e.relation);
        let s_node = next;
        next += 1;
        nodes.push(json!({"nodeID": id(s_node), "text": text, "type": kind, "timestamp": ""}));
        for (from, to) in [(e.source as u64 + 1, s_node), (s_node, e.target as u64 + 1)] {
            edges.push(json!({"edgeID": id(edges.len() as u64 + 1), "fromID": id(from), "toID": id(to), "formEdgeID": null}));
        }
    }
    (nodes, edges, next)
}

/// AIF-JSON as AIFdb serves it and OVA loads it.
pub fn aif(article: &MinedArticle) -> Value {
    let (nodes, edges, _) = aif_parts(article, true);
    json!({"nodes": nodes, "edges": edges, "locutions": [], "participants": [], "schemefulfillments": []})
}

/// xAIF as the oAMF modules exchange it: the AIF graph anchored in locutions of one author.
pub fn xaif(article: &MinedArticle) -> Value {
    let (mut nodes, mut edges, mut next) = aif_parts(article, false);
    let mut locutions = Vec::new();
    let mut spans = std::collections::HashMap::new();
    for s in graph_sentences(article) {
        let (l_node, ya_node) = (next, next + 1);
        next += 2;
        nodes.push(json!({"nodeID": l_node, "text": s.text, "type": "L"}));
        nodes.push(json!({"nodeID": ya_node, "text": "Asserting", "type": "YA"}));
        for (from, to) in [(l_node, ya_node), (ya_node, s.index as u64 + 1)] {
            edges.push(json!({"edgeID": edges.len() as u64 + 1, "fromID": from, "toID": to}));
        }
        locutions.push(json!({"nodeID": l_node, "personID": 0}));
        spans.insert(s.index, l_node);
    }
    let mut text = String::new();
    let mut paragraph = None;
    for s in &article.sentences {
        if paragraph.is_some_and(|p| p != s.paragraph) {
            text.push_str("<br><br>");
        } else if paragraph.is_some() {
            text.push(' ');
        }
        paragraph = Some(s.paragraph);
        match spans.get(&s.index) {
            Some(l) => {
                let _ = write!(
                    text,
                    "<span class=\"highlighted\" id=\"node{l}\">{}</span>",
                    xml_escape(&s.text)
                );
            }
            None => text.push_str(&xml_escape(&s.text)),
        }
    }
    json!({
        "AIF": {
            "nodes": nodes,
            "edges": edges,
            "locutions": locutions,
            "participants": [{"participantID": 0, "firstname": "Author", "surname": ""}],
            "schemefulfillments": [],
            "descriptorfulfillments": [],
        },
        "text": text,
        "dialog": false,
        "OVA": {"firstname": "", "surname": "", "url": "", "nodes": [], "edges": []},
    })
}

/// Node attributes shared by the graph formats.
fn node_attributes(article: &MinedArticle, s: &Sentence) -> Vec<(&'static str, Value)> {
    vec![
        ("label", json!(s.label.name())),
        ("role", json!(role(article, s))),
        ("confidence", json!(round4_f64(s.confidence))),
        ("start", json!(s.start)),
        ("end", json!(s.end)),
        ("text", json!(s.text)),
    ]
}

/// node-link JSON for networkx, with `links` as the edge key.
pub fn nodelink(article: &MinedArticle) -> Value {
    let nodes: Vec<Value> = graph_sentences(article)
        .iter()
        .map(|s| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!(s.index));
            m.extend(
                node_attributes(article, s)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v)),
            );
            Value::Object(m)
        })
        .collect();
    let links: Vec<Value> = article
        .graph
        .edges
        .iter()
        .map(|e| json!({"source": e.source, "target": e.target, "relation": e.relation.to_string(), "confidence": round4_f64(e.confidence)}))
        .collect();
    json!({
        "directed": true,
        "multigraph": false,
        "graph": {"id": article.id, "thesis": article.graph.thesis},
        "nodes": nodes,
        "links": links,
    })
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // characters XML 1.0 forbids
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// GraphML with typed attribute keys.
pub fn graphml(article: &MinedArticle) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    );
    for (id, domain, name, kind) in [
        ("d0", "node", "label", "string"),
        ("d1", "node", "role", "string"),
        ("d2", "node", "confidence", "double"),
        ("d3", "node", "start", "int"),
        ("d4", "node", "end", "int"),
        ("d5", "node", "text", "string"),
        ("d6", "edge", "relation", "string"),
        ("d7", "edge", "confidence", "double"),
    ] {
        let _ = writeln!(
            out,
            "  <key id=\"{id}\" for=\"{domain}\" attr.name=\"{name}\" attr.type=\"{kind}\"/>"
        );
    }
    let _ = writeln!(
        out,
        "  <graph id=\"{}\" edgedefault=\"directed\">",
        xml_escape(&article.id)
    );
    for s in graph_sentences(article) {
        let _ = writeln!(out, "    <node id=\"s{}\">", s.index);
        for (k, (_, v)) in node_attributes(article, s).into_iter().enumerate() {
            let value = match v {
                Value::String(s) => xml_escape(&s),
                v => v.to_string(),
            };
            let _ = writeln!(out, "      <data key=\"d{k}\">{value}</data>");
        }
        out.push_str("    </node>\n");
    }
    for e in &article.graph.edges {
        let _ = writeln!(
            out,
            "    <edge source=\"s{}\" target=\"s{}\">\n      <data key=\"d6\">{}</data>\n      <data key=\"d7\">{}</data>\n    </edge>",
            e.source, e.target, e.relation, round4_f64(e.confidence)
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

/// A DOT double-quoted string.
fn dot_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Shortens text for a node label.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// DOT for graphviz: boxes coloured by label, the thesis doubled; support solid, attack dashed.
pub fn dot(article: &MinedArticle) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=BT;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n", dot_string(&article.id));
    for s in graph_sentences(article) {
        let colour = match s.label {
            Label::Claim => "#cfe2ff",
            Label::Evidence => "#d1e7dd",
            Label::Recommendation => "#fff3cd",
            Label::Other => "#e9ecef",
        };
        let r = role(article, s);
        let _ = writeln!(
            out,
            "  s{} [label={}, fillcolor=\"{colour}\", peripheries={}, role={}, confidence={}, start={}, end={}, text={}];",
            s.index,
            dot_string(&format!("[{}] {}", r, shorten(&s.text, 80))),
            if r == "thesis" { 2 } else { 1 },
            dot_string(r),
            dot_string(&format!("{}", round4_f64(s.confidence))),
            s.start,
            s.end,
            dot_string(&s.text),
        );
    }
    for e in &article.graph.edges {
        let _ = writeln!(
            out,
            "  s{} -> s{} [label={}, relation={}, confidence={}, style={}];",
            e.source,
            e.target,
            dot_string(&format!("{} {:.2}", e.relation, e.confidence)),
            dot_string(&e.relation.to_string()),
            dot_string(&format!("{}", round4_f64(e.confidence))),
            if e.relation == Relation::Attack {
                "dashed"
            } else {
                "solid"
            },
        );
    }
    out.push_str("}\n");
    out
}

/// brat standoff over [`article_text`]: `T` lines typed `MajorClaim` (the thesis), `Claim`,
/// `Evidence` or `Recommendation`; `R` lines `supports` / `attacks` from source to target; the
/// confidence of each as an `AnnotatorNotes` comment.
pub fn brat(article: &MinedArticle) -> String {
    let mut out = String::new();
    let mut notes = 0;
    for s in graph_sentences(article) {
        let kind = match (role(article, s), s.label) {
            ("thesis", _) => "MajorClaim",
            (_, Label::Claim) => "Claim",
            (_, Label::Evidence) => "Evidence",
            (_, Label::Recommendation) => "Recommendation",
            (_, Label::Other) => "Other",
        };
        let text: String = s
            .text
            .chars()
            .map(|c| if c == '\n' { ' ' } else { c })
            .collect();
        let _ = writeln!(
            out,
            "T{}\t{kind} {} {}\t{text}",
            s.index + 1,
            s.start,
            s.end
        );
        notes += 1;
        let _ = writeln!(
            out,
            "#{notes}\tAnnotatorNotes T{}\tconfidence {}",
            s.index + 1,
            round4_f64(s.confidence)
        );
    }
    for (k, e) in article.graph.edges.iter().enumerate() {
        let kind = match e.relation {
            Relation::Support => "supports",
            Relation::Attack => "attacks",
        };
        let _ = writeln!(
            out,
            "R{}\t{kind} Arg1:T{} Arg2:T{}",
            k + 1,
            e.source + 1,
            e.target + 1
        );
        notes += 1;
        let _ = writeln!(
            out,
            "#{notes}\tAnnotatorNotes R{}\tconfidence {}",
            k + 1,
            round4_f64(e.confidence)
        );
    }
    out
}
