//! `argmine bench`: the report covers every stage and counts the work it timed.

mod common;

use common::{argmine, repo, run_ok};
use serde_json::Value;

#[test]
fn bench_json_reports_every_stage_over_the_mined_sentences() {
    let seed = repo("datasets/samples/north-korea-oped.txt");
    let out = run_ok(
        argmine()
            .args(["bench", "--repeat", "2", "--batch-size", "8", "--json"])
            .arg(&seed),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    let mined = run_ok(argmine().arg("mine").arg(&seed));
    let record: Value = serde_json::from_slice(&mined.stdout).unwrap();
    let sentences = record["sentences"].as_array().unwrap().len() as u64;

    // Two repeats of one article.
    assert_eq!(report["articles"], 2);
    assert_eq!(report["sentences"].as_u64(), Some(2 * sentences));
    assert_eq!(report["batch_size"], 8);
    assert!(report["padding_ratio"].as_f64().unwrap() >= 1.0);
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["ingest", "segment", "tokenize", "encode", "classify", "graph", "write"]
    );
    for stage in report["stages"].as_array().unwrap() {
        // each rate is the corpus's sentence count over the stage's time
        let (seconds, rate) = (
            stage["seconds"].as_f64().unwrap(),
            stage["sentences_per_second"].as_f64().unwrap(),
        );
        assert!(
            (rate * seconds / (2 * sentences) as f64 - 1.0).abs() < 1e-6,
            "{stage}"
        );
    }
    assert!(
        report["end_to_end"]["sentences_per_second"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
