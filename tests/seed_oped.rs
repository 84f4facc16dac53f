//! Acceptance on the seed op-ed ("Biden Must Recalibrate Policy on North Korea", held out of
//! every training set): the graph the bundled model builds for it.

mod common;

use common::{argmine, repo, run_ok};
use serde_json::Value;
use std::sync::OnceLock;

/// The mine output for the seed op-ed, computed once for all tests.
fn mined_seed() -> &'static Value {
    static SEED: OnceLock<Value> = OnceLock::new();
    SEED.get_or_init(|| {
        let seed = repo("datasets/samples/north-korea-oped.txt");
        let out = run_ok(argmine().arg("mine").arg(seed));
        serde_json::from_slice(&out.stdout).unwrap()
    })
}

/// The index of the sentence that starts with `prefix`.
fn sentence(record: &Value, prefix: &str) -> u64 {
    record["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no sentence starts with {prefix:?}"))["index"]
        .as_u64()
        .unwrap()
}

/// The path of edges from `from` towards the root, as (target, relation) steps.
fn path_to_root(graph: &Value, from: u64) -> Vec<(u64, String)> {
    let edges = graph["edges"].as_array().unwrap();
    let mut path = Vec::new();
    let mut at = from;
    while let Some(e) = edges.iter().find(|e| e["source"] == at) {
        at = e["target"].as_u64().unwrap();
        path.push((at, e["relation"].as_str().unwrap().to_string()));
        assert!(path.len() <= edges.len(), "the edges have a cycle");
    }
    path
}

#[test]
fn seed_oped_title_is_a_recommendation() {
    assert_eq!(mined_seed()["title"]["label"], "recommendation");
}

/// The plenary-session and five-year-plan sentences reach the thesis through support edges.
#[test]
fn seed_oped_plenary_and_plan_sentences_support_the_thesis() {
    let record = mined_seed();
    let graph = &record["graph"];
    let thesis = graph["thesis"].as_u64().expect("the op-ed has a thesis");
    for prefix in [
        "Based on the results of the five-day plenary session",
        "Pyongyang’s goal is building a concrete foundation",
    ] {
        let from = sentence(record, prefix);
        let path = path_to_root(graph, from);
        assert_eq!(
            path.last().map(|p| p.0),
            Some(thesis),
            "{prefix:?} (sentence {from}) does not reach the thesis: {path:?}"
        );
        assert!(
            path.iter().all(|(_, relation)| relation == "support"),
            "{prefix:?} reaches the thesis through an attack: {path:?}"
        );
    }
}

#[test]
fn seed_oped_graph_has_nothing_from_related_publications() {
    let record = mined_seed();
    let graph = &record["graph"];
    let related = sentence(record, "Related Publications");
    let nodes = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| [e["source"].as_u64(), e["target"].as_u64()])
        .flatten()
        .chain(graph["thesis"].as_u64());
    for node in nodes {
        assert!(
            node < related,
            "sentence {node} is from Related Publications"
        );
    }
}

/// The thesis is the standpoint or its restatement, not the rebuttal before them ("However,
/// this rationale leads … to misunderstand the intention of the North's missile tests"), which
/// opens with the same contrast marker as many theses.
#[test]
fn seed_oped_thesis_is_the_standpoint() {
    let record = mined_seed();
    let thesis = record["graph"]["thesis"]
        .as_u64()
        .expect("the op-ed has a thesis");
    let standpoint = sentence(
        record,
        "North Korea is not preparing for future negotiations",
    );
    let restatement = sentence(
        record,
        "More clearly, North Korea will not suddenly come back",
    );
    assert!(
        thesis == standpoint || thesis == restatement,
        "thesis is sentence {thesis}, expected {standpoint} or {restatement}"
    );
}
