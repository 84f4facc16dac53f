//! End-to-end tests of `argmine mine` with the bundled model.

mod common;

use common::{argmine, jsonl, repo, run_error, run_ok};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

fn mine(inputs: &[&Path]) -> (i32, Vec<Value>, String) {
    let out = argmine()
        .arg("mine")
        .args(inputs)
        .output()
        .expect("argmine runs");
    (
        out.status.code().unwrap_or(-1),
        jsonl(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo("docs/output.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// `text[start..end]` in code points.
fn slice(text: &str, start: u64, end: u64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

#[test]
fn samples_validate_against_the_schema_and_offsets_slice_back() {
    let samples = repo("datasets/samples");
    let (code, recs, stderr) = mine(&[&samples]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(recs.len(), 6);
    let validator = schema();
    for rec in &recs {
        let errors: Vec<String> = validator.iter_errors(rec).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", rec["id"]);
        let path = samples.join(rec["id"].as_str().unwrap());
        let (_, body) = argmine::ingest::title_and_body(&std::fs::read_to_string(path).unwrap());
        for s in rec["sentences"].as_array().unwrap() {
            let got = slice(
                &body,
                s["start"].as_u64().unwrap(),
                s["end"].as_u64().unwrap(),
            );
            assert_eq!(got, s["text"].as_str().unwrap());
        }
    }
}

#[test]
fn seed_oped_keeps_every_sentence_and_flags_related_publications() {
    let seed = repo("datasets/samples/north-korea-oped.txt");
    let (code, recs, stderr) = mine(&[&seed]);
    assert_eq!(code, 0, "{stderr}");
    let rec = &recs[0];
    assert_eq!(
        rec["title"]["text"],
        "Biden Must Recalibrate Policy on North Korea"
    );
    let sentences = rec["sentences"].as_array().unwrap();
    let text = |s: &Value| s["text"].as_str().unwrap().to_string();
    let related = sentences
        .iter()
        .position(|s| text(s) == "Related Publications")
        .expect("the heading is a sentence");
    for s in &sentences[related..] {
        assert_eq!(s["boilerplate"], true, "{}", text(s));
        assert_eq!(s["label"], "other");
    }
    for s in &sentences[..related] {
        if text(s).starts_with("North Korea is not preparing") {
            assert_eq!(s["boilerplate"], false);
        }
    }
    assert!(sentences[..related]
        .iter()
        .any(|s| text(s).starts_with("Pyongyang’s goal is building a concrete foundation")));
    // The graph never contains boilerplate.
    let graph = &rec["graph"];
    let in_graph = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| [e["source"].as_u64().unwrap(), e["target"].as_u64().unwrap()])
        .chain(graph["thesis"].as_u64());
    for i in in_graph {
        assert!(
            (i as usize) < related,
            "sentence {i} is boilerplate but in the graph"
        );
    }
}

/// The head gives an article's body the same scores whatever page furniture surrounds it: a
/// byline above the body is not the title's next neighbour, and a "Related Publications" list
/// below it is neither the last sentence's neighbour nor counted in the positions.
#[test]
fn page_furniture_does_not_change_how_the_head_reads_the_body() {
    let seed = repo("datasets/samples/north-korea-oped.txt");
    let full = std::fs::read_to_string(&seed).unwrap();
    let cut = full
        .find("Related Publications")
        .expect("the seed has the heading");
    let bare = full[..cut].replacen("Mitch Shin\n", "", 1);
    assert!(bare.len() < cut, "the seed has the byline");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let pages = [
        seed.clone(),
        write("without-list.txt", &full[..cut]),
        write("bare.txt", &bare),
    ];
    let (code, mined, stderr) = mine(&pages.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    let scores = |s: &Value| -> Vec<f64> {
        s["scores"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    // the body sentences of a page, in order, with their scores
    let body = |r: &Value| -> Vec<(String, Vec<f64>)> {
        r["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["boilerplate"] == false)
            .map(|s| (s["text"].as_str().unwrap().to_string(), scores(s)))
            .collect()
    };
    let bare_body = body(&mined[2]);
    assert!(bare_body.len() > 5);
    for page in &mined[..2] {
        assert_eq!(
            scores(&page["title"]),
            scores(&mined[2]["title"]),
            "{}",
            page["id"]
        );
        assert_eq!(body(page), bare_body, "{}", page["id"]);
    }
}

#[test]
fn bad_records_are_reported_and_good_ones_still_come_out() {
    let data = repo("tests/data");
    let (code, recs, stderr) = mine(&[&data.join("mixed.jsonl"), &data.join("bad-utf8.jsonl")]);
    assert_eq!(code, 1, "some records failed: exit 1");
    let summary: Vec<(String, Option<String>)> = recs
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r.get("error")
                    .map(|e| e["kind"].as_str().unwrap().to_string()),
            )
        })
        .collect();
    let mixed = data.join("mixed.jsonl").display().to_string();
    let utf8 = data.join("bad-utf8.jsonl").display().to_string();
    assert_eq!(
        summary,
        [
            ("good-1".to_string(), None),
            (format!("{mixed}:2"), Some("invalid_record".into())),
            ("empty-text".into(), Some("empty_text".into())),
            ("wrong-type".into(), Some("invalid_record".into())),
            (format!("{mixed}:5"), Some("invalid_record".into())),
            ("good-2".into(), None),
            (format!("{utf8}:1"), Some("invalid_utf8".into())),
        ]
    );
    assert!(stderr.contains("5 failed"), "{stderr}");
    assert_eq!(recs[0]["meta"]["source"], "fixture");
}

#[test]
fn works_in_a_pipe_from_standard_input() {
    let mut child = argmine()
        .args(["mine", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"id\":\"p\",\"text\":\"Taxes rose 4 percent last year. Congress should cut them.\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["sentences"].as_array().unwrap().len(), 2);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let samples = repo("datasets/samples");
    let mut child = argmine()
        .arg("mine")
        .arg(&samples)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    run_error(argmine().args(["mine"]));
    let stderr = run_error(argmine().args(["mine", "--model", "/nonexistent", "x.jsonl"]));
    assert!(stderr.contains("cannot load the model"));
}

#[test]
fn a_model_without_graph_scorers_names_the_command_that_trains_them() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("models/argmine-minilm");
    for entry in std::fs::read_dir(&model).unwrap() {
        let path = entry.unwrap().path();
        std::os::unix::fs::symlink(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let meta = dir.path().join("argmine.json");
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("graph");
    std::fs::remove_file(&meta).unwrap();
    std::fs::write(&meta, value.to_string()).unwrap();
    let stderr = run_error(
        argmine()
            .args(["mine", "--model"])
            .arg(dir.path())
            .arg(repo("datasets/samples")),
    );
    assert!(
        stderr.contains("has no graph scorers; train them with `argmine train --graph-only"),
        "{stderr}"
    );
}

#[test]
fn model_directory_comes_from_argmine_model_when_not_given() {
    let stderr = run_error(
        argmine()
            .args(["mine", "x.jsonl"])
            .env("ARGMINE_MODEL", "/nonexistent-model-dir"),
    );
    assert!(
        stderr.contains("cannot load the model") && stderr.contains("/nonexistent-model-dir"),
        "{stderr}"
    );
}

#[test]
fn output_file_and_input_order_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = (0..40)
        .map(|i| {
            format!("{{\"id\":\"a{i}\",\"text\":\"Sentence {i} is here. Another one follows.\"}}")
        })
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = dir.path().join("out.jsonl");
    run_ok(
        argmine()
            .args(["mine", "--batch-size", "7"])
            .arg(&input)
            .arg("-o")
            .arg(&output),
    );
    let recs = jsonl(&std::fs::read(&output).unwrap());
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn html_pages_give_title_and_body_without_scripts_or_navigation() {
    let page = repo("tests/data/page.html");
    let (code, recs, stderr) = mine(&[&page]);
    assert_eq!(code, 0, "{stderr}");
    let rec = &recs[0];
    assert_eq!(
        rec["title"]["text"],
        "The Library Must Stay Open on Sundays"
    );
    let texts: Vec<&str> = rec["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"The council should reverse the cut."));
    assert!(texts
        .iter()
        .all(|t| !t.contains("analytics") && !t.contains("Home") && !t.contains("Copyright")));
}
