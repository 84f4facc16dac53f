//! The HTML report in a real browser: mine the bundled samples, write the report, and drive
//! headless Chromium over it with `tests/browser/report.test.mjs` (playwright-core against the
//! system Chromium; it never downloads a browser). The test checks that the seed op-ed's thesis
//! node is drawn, that clicking it highlights the thesis sentence, and that the page logs no
//! errors; it leaves a screenshot in `target/report-test/`.
//!
//! Needs `chromium` (Debian package) and `npm ci --prefix tests/browser`; `scripts/test` sets
//! both up.

mod common;

use common::{argmine, repo, run_ok};
use std::process::Command;

#[test]
fn report_of_the_samples_works_in_headless_chromium() {
    let out_dir = repo("target/report-test");
    std::fs::create_dir_all(&out_dir).unwrap();
    let graphs = out_dir.join("graphs.jsonl");
    let report = out_dir.join("report.html");
    run_ok(
        argmine()
            .arg("mine")
            .arg(repo("datasets/samples"))
            .arg("-o")
            .arg(&graphs),
    );
    run_ok(argmine().arg("report").arg(&graphs).arg("-o").arg(&report));

    let script = repo("tests/browser/report.test.mjs");
    assert!(
        repo("tests/browser/node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tests/browser` (scripts/test does)"
    );
    let browser = Command::new("node")
        .arg(&script)
        .arg(&report)
        .arg(out_dir.join("report.png"))
        .env("ARGMINE_TEST_ARTICLE", "north-korea-oped.txt")
        .output()
        .expect("node runs");
    assert!(
        browser.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&browser.stdout),
        String::from_utf8_lossy(&browser.stderr)
    );
    assert!(out_dir.join("report.png").is_file());
}
