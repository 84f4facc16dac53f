//! Runs that are sharded, killed, interrupted or resumed lose nothing and duplicate nothing,
//! and output does not depend on the thread count or the batch size.

mod common;

use common::{argmine, repo, run_error, run_ok};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A corpus of `n` short articles built from the written news sentences, one JSONL record each.
fn corpus(dir: &Path, n: usize) -> PathBuf {
    let source = std::fs::read_to_string(repo("datasets/news-written/part-a.jsonl")).unwrap();
    let sentences: Vec<String> = source
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["sentences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["text"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = String::new();
    for i in 0..n {
        let text = format!(
            "{} {}",
            sentences[(2 * i) % sentences.len()],
            sentences[(2 * i + 1) % sentences.len()]
        );
        out.push_str(&serde_json::json!({"id": format!("a{i}"), "text": text}).to_string());
        out.push('\n');
    }
    let path = dir.join("corpus.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

fn mine(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    run_ok(
        argmine()
            .arg("mine")
            .arg(input)
            .arg("-o")
            .arg(output)
            .args(extra),
    )
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

/// Starts a run and waits until `at_least` records are on disk.
fn start_and_wait(input: &Path, output: &Path, at_least: usize) -> std::process::Child {
    let child = argmine()
        .arg("mine")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["--threads", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while lines(output) < at_least {
        assert!(started.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn output_is_identical_whatever_the_threads_and_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 40);
    for backend in ["candle-int8", "candle"] {
        let runs = [
            ["--threads", "1", "--batch-size", "8", "--backend", backend],
            ["--threads", "2", "--batch-size", "32", "--backend", backend],
            ["--threads", "2", "--batch-size", "5", "--backend", backend],
        ];
        let outputs: Vec<Vec<u8>> = runs
            .iter()
            .enumerate()
            .map(|(k, args)| {
                let out = dir.path().join(format!("{backend}-{k}.jsonl"));
                mine(&input, &out, args);
                std::fs::read(out).unwrap()
            })
            .collect();
        assert!(
            outputs[0] == outputs[1],
            "{backend}: threads 1 / batch 8 vs threads 2 / batch 32"
        );
        assert!(
            outputs[0] == outputs[2],
            "{backend}: threads 1 / batch 8 vs threads 2 / batch 5"
        );
    }
}

/// Every CPU level `ARGMINE_CPU` can force mines the corpus with the same labels (the int8
/// products are the same bits at every level; the f32 ones round differently with FMA).
#[test]
fn every_cpu_level_gives_the_same_labels() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 6);
    let labels = |level: &str| -> Vec<String> {
        let out = run_ok(argmine().env("ARGMINE_CPU", level).arg("mine").arg(&input));
        common::jsonl(&out.stdout)
            .iter()
            .flat_map(|r| r["sentences"].as_array().unwrap().clone())
            .map(|s| s["label"].as_str().unwrap().to_string())
            .collect()
    };
    let best = labels("avx512");
    assert!(best.len() >= 6, "{best:?}");
    for level in ["portable", "avx2"] {
        assert_eq!(labels(level), best, "{level}");
    }
}

#[test]
fn an_unknown_cpu_level_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 1);
    let err = run_error(argmine().env("ARGMINE_CPU", "sse9").arg("mine").arg(&input));
    assert!(
        err.contains("ARGMINE_CPU=sse9 is not a CPU level; expected one of portable, avx2, avx512"),
        "{err}"
    );
}

#[test]
fn shards_partition_the_corpus_and_their_union_is_a_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 30);
    let whole = dir.path().join("whole.jsonl");
    mine(&input, &whole, &[]);
    let mut union: Vec<String> = Vec::new();
    for i in 0..3 {
        let part = dir.path().join(format!("part{i}.jsonl"));
        mine(&input, &part, &["--shard", &format!("{i}/3")]);
        let text = std::fs::read_to_string(&part).unwrap();
        assert!(text.lines().count() > 0, "shard {i} is not empty");
        union.extend(text.lines().map(str::to_string));
    }
    let mut expected: Vec<String> = std::fs::read_to_string(&whole)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    union.sort();
    expected.sort();
    assert_eq!(union, expected);
    run_error(argmine().args(["mine", "-", "--shard", "3/3"]));
}

#[test]
fn a_killed_run_resumes_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 300);
    let whole = dir.path().join("whole.jsonl");
    mine(&input, &whole, &["--threads", "1"]);

    let out = dir.path().join("out.jsonl");
    let mut child = start_and_wait(&input, &out, 64);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = lines(&out);
    assert!(before < 300, "killed part-way ({before} records)");
    // a torn record, as a crash in the middle of a write leaves
    let mut bytes = std::fs::read(&out).unwrap();
    bytes.extend_from_slice(b"{\"id\":\"a999\",\"sentences\":[{\"ind");
    std::fs::write(&out, bytes).unwrap();

    let resumed = mine(&input, &out, &["--threads", "1", "--resume"]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!("resuming: {before} records")),
        "{stderr}"
    );
    assert!(stderr.contains("torn last line"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
}

#[test]
fn sigint_stops_cleanly_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 300);
    let whole = dir.path().join("whole.jsonl");
    mine(&input, &whole, &["--threads", "1"]);

    let out = dir.path().join("out.jsonl");
    let child = start_and_wait(&input, &out, 64);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "only complete records");
    assert!(text.lines().count() < 300, "stopped early");

    mine(&input, &out, &["--threads", "1", "--resume"]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
}
