//! `argmine export`, `show` and `report` on a fixture of mine output. Every export format is
//! read back with the field's own parser (`tests/tools/read_graph.py`: networkx, pydot, JSON,
//! a brat standoff reader that checks every span against the text) and must give the
//! fixture's nodes, edges and texts.

mod common;

use common::{argmine, repo, run_error, run_ok};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn data(name: &str) -> PathBuf {
    repo("tests/data").join(name)
}

fn fixture() -> Value {
    let text = std::fs::read_to_string(data("graphs.jsonl")).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// Exports the fixture and reads it back: (nodes by index, sorted edges, texts by index).
fn round_trip(format: &str, file: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        argmine()
            .args(["export", "--format", format, "-o"])
            .arg(dir.path())
            .arg(data("graphs.jsonl")),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 failed records skipped"));
    let read = Command::new("python3")
        .arg(repo("tests/tools/read_graph.py"))
        .arg(format)
        .arg(dir.path().join(file))
        .output()
        .expect("python3 runs (see tests/tools/requirements.txt)");
    assert!(
        read.status.success(),
        "{format}: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    serde_json::from_slice(&read.stdout).unwrap()
}

fn check(format: &str, file: &str, thesis_role: &str) {
    let f = fixture();
    let g = round_trip(format, file);
    let expected_edges: Vec<Value> = f["graph"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::json!([e["source"], e["target"], e["relation"]]))
        .collect();
    let mut expected_edges = expected_edges;
    expected_edges.sort_by_key(|e| e.to_string());
    let mut edges = g["edges"].as_array().unwrap().clone();
    edges.sort_by_key(|e| e.to_string());
    assert_eq!(edges, expected_edges, "{format} edges");
    let nodes = g["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 5, "{format}: every argumentative sentence");
    if !thesis_role.is_empty() {
        assert_eq!(nodes["0"], thesis_role, "{format} thesis");
        assert_ne!(nodes["1"], thesis_role);
    }
    for (index, text) in g["texts"].as_object().unwrap() {
        let i: usize = index.parse().unwrap();
        assert_eq!(
            text, &f["sentences"][i]["text"],
            "{format} text of node {i}"
        );
    }
}

#[test]
fn aif_round_trips() {
    check("aif", "night_buses__.json", "");
}

#[test]
fn xaif_round_trips() {
    check("xaif", "night_buses__.json", "");
}

#[test]
fn graphml_round_trips_through_networkx() {
    check("graphml", "night_buses__.graphml", "thesis");
}

#[test]
fn nodelink_round_trips_through_networkx() {
    check("nodelink", "night_buses__.json", "thesis");
}

#[test]
fn dot_round_trips_through_pydot() {
    check("dot", "night_buses__.dot", "thesis");
}

#[test]
fn brat_spans_match_the_text_and_round_trip() {
    check("brat", "night_buses__.ann", "MajorClaim");
}

#[test]
fn export_of_an_unknown_id_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = run_error(
        argmine()
            .args(["export", "--format", "dot", "--id", "nope", "-o"])
            .arg(dir.path())
            .arg(data("graphs.jsonl")),
    );
    assert!(stderr.contains("no article with id \"nope\""));
}

#[test]
fn show_prints_the_tree_under_the_thesis() {
    let out = run_ok(
        argmine()
            .args(["show", "night buses/α", "--width", "70", "--input"])
            .arg(data("graphs.jsonl")),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "no colour into a pipe");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[2].starts_with("THESIS 0.70 [recommendation 0.85] Cities must fund"));
    assert!(text.contains("├─ +support 0.81 [evidence 0.85] Shift workers"));
    assert!(text.contains("│  └─ +support 0.66 [evidence 0.85] A 2023 survey"));
    assert!(text.contains("└─ −attack 0.58 [claim 0.85] Critics say"));
    assert!(text.contains("   └─ −attack 0.61 [claim 0.85] But the deficit"));
    assert!(lines.iter().all(|l| l.chars().count() <= 70), "{text}");
    let coloured = argmine()
        .args(["show", "night buses/α", "--color", "always", "--input"])
        .arg(data("graphs.jsonl"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\x1b[1;33m"));
}

#[test]
fn report_embeds_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    run_ok(
        argmine()
            .arg("report")
            .arg(data("graphs.jsonl"))
            .arg("-o")
            .arg(&html),
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let start = page.find("type=\"application/json\">").unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&page[start..end]).unwrap();
    assert_eq!(data["articles"][0]["id"], "night buses/α");
    assert_eq!(data["articles"][0]["s"].as_array().unwrap().len(), 6);
    assert_eq!(
        data["articles"][0]["edges"][2],
        serde_json::json!([3, 0, 1, 0.58])
    );
    assert_eq!(data["failed"][0]["kind"], "invalid_record");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no external resources"
    );
}
