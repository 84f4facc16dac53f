//! Hostile input: every bad record becomes a clear error record (id, kind, message) or a
//! documented normalisation, nothing panics, and every good record still comes out, in order.

mod common;

use common::{argmine, jsonl};
use serde_json::{json, Value};

#[test]
fn hostile_jsonl_records_are_reported_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = "The council must act. Fares rose 30% last year.";
    let long_sentence = vec!["word"; 20_000].join(" ");
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let lines = [
        json!({"id": "nul", "text": "Before\u{0}after. The council must act."}).to_string(),
        json!({"id": "long-sentence", "text": long_sentence}).to_string(),
        format!("{{\"id\": \"deep\", \"text\": \"x\", \"meta\": {deep}}}"),
        json!({"id": "dup", "text": good}).to_string(),
        json!({"id": "dup", "text": good}).to_string(),
        json!({"id": "no-text"}).to_string(),
        json!({"id": "null-text", "text": null}).to_string(),
        json!({"id": 7, "text": good}).to_string(),
        json!(["not", "an", "object"]).to_string(),
        json!({"id": "huge", "text": "a ".repeat(5 * 1024 * 1024)}).to_string(),
        json!({"id": "good", "text": good}).to_string(),
        "{\"id\": \"truncated\", \"text\": \"The last line was cut".to_string(),
    ];
    let input = dir.path().join("hostile.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = argmine()
        .arg("mine")
        .arg(&input)
        .args(["--max-article-bytes", "1000000"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = jsonl(&out.stdout);
    assert_eq!(records.len(), lines.len(), "one record per input line");
    let kind = |i: usize| {
        records[i]["error"]["kind"]
            .as_str()
            .unwrap_or("ok")
            .to_string()
    };
    let expected = [
        ("nul", "ok"),
        ("long-sentence", "ok"),
        ("hostile.jsonl:3", "invalid_record"),
        ("dup", "ok"),
        ("dup", "ok"),
        ("no-text", "invalid_record"),
        ("null-text", "invalid_record"),
        ("7", "ok"), // numeric ids are read as their decimal string
        ("hostile.jsonl:9", "invalid_record"),
        ("hostile.jsonl:10", "too_large"), // the line is over the limit before it is parsed
        ("good", "ok"),
        ("hostile.jsonl:12", "invalid_record"),
    ];
    for (i, (id, k)) in expected.iter().enumerate() {
        assert!(
            records[i]["id"].as_str().unwrap().ends_with(id),
            "record {i}: {}",
            records[i]["id"]
        );
        assert_eq!(kind(i), *k, "record {i} ({id}): {}", records[i]);
    }
    // NUL is kept in the text (offsets stay true) and the sentence around it is classified
    assert!(records[0]["sentences"][0]["text"]
        .as_str()
        .unwrap()
        .contains('\u{0}'));
    // a 20,000-word sentence is one sentence; the encoder sees its first 256 tokens
    assert_eq!(records[1]["sentences"].as_array().unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_do_not_stop_a_directory_run() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(corpus.join("a.txt"), "The council must act now.").unwrap();
    std::os::unix::fs::symlink(&corpus, corpus.join("loop")).unwrap();
    std::os::unix::fs::symlink(corpus.join("missing.txt"), corpus.join("dangling.txt")).unwrap();
    let out = argmine().arg("mine").arg(&corpus).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    assert!(records
        .iter()
        .any(|r| r["id"] == "a.txt" && r["error"].is_null()));
    let failed: Vec<&Value> = records.iter().filter(|r| !r["error"].is_null()).collect();
    assert_eq!(failed.len(), 2, "the loop and the dangling link: {stdout}");
    for r in failed {
        assert_eq!(r["error"]["kind"], "unreadable", "{r}");
    }
}

#[test]
fn a_50_mb_article_is_too_large_and_the_next_one_still_comes_out() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "All work and no play makes a long article. ".repeat(50 * 1024 * 1024 / 43);
    std::fs::write(dir.path().join("a-huge.txt"), &huge).unwrap();
    std::fs::write(dir.path().join("b-small.txt"), "The council must act now.").unwrap();
    let file = dir.path().join("c.jsonl");
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            json!({"id": "huge-line", "text": huge}),
            json!({"id": "after", "text": "Fares rose 30% last year."})
        ),
    )
    .unwrap();
    let out = argmine().arg("mine").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records = jsonl(&out.stdout);
    let summary: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["error"]["kind"].as_str().unwrap_or("ok"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a-huge.txt", "too_large"),
            ("b-small.txt", "ok"),
            ("c.jsonl:1", "too_large"),
            ("after", "ok"),
        ]
    );
    let message = records[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("--max-article-bytes"), "{message}");
}

#[test]
fn invalid_utf8_is_an_error_unless_lossy_decoding_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("latin1.jsonl");
    let mut line = br#"{"id": "latin1", "text": "Caf"#.to_vec();
    line.extend([0xE9]); // "é" in Latin-1, not UTF-8
    line.extend(br#" prices must fall."}"#);
    std::fs::write(&input, &line).unwrap();

    let strict = argmine().arg("mine").arg(&input).output().unwrap();
    let record: Value = serde_json::from_slice(&strict.stdout).unwrap();
    assert_eq!(record["error"]["kind"], "invalid_utf8", "{record}");

    let lossy = argmine()
        .args(["mine", "--lossy-utf8"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(lossy.status.success());
    let record: Value = serde_json::from_slice(&lossy.stdout).unwrap();
    assert_eq!(record["id"], "latin1");
    assert!(record["sentences"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Caf\u{FFFD} prices"));
}
