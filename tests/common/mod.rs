//! Helpers shared by the integration tests: run the `argmine` binary built for the tests, find
//! files in the repository, read JSONL output.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A command that runs the `argmine` binary under test.
pub fn argmine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_argmine"))
}

/// A path inside the repository, e.g. `repo("datasets/samples")`.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `command` and fails the test, showing its stderr, unless it exits successfully.
pub fn run_ok(command: &mut Command) -> Output {
    let out = command.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `command`, fails the test unless it exits with status 2 (the exit status of an error),
/// and returns its stderr.
pub fn run_error(command: &mut Command) -> String {
    let out = command.output().expect("the command starts");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
    stderr
}

/// The records of JSONL output, one per line.
pub fn jsonl(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .expect("output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}
