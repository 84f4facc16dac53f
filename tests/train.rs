//! `argmine train` and `argmine eval` end to end, on a small slice of the committed datasets.
//! The shipped model serves as the base encoder, so the test needs nothing outside the repo.

mod common;

use argmine::graph::features::THESIS_FEATURES;
use common::{argmine, repo, run_ok};
use serde_json::Value;

#[test]
fn train_writes_a_loadable_f16_model_and_eval_scores_it() {
    let dir = tempfile::tempdir().unwrap();
    let rows = std::fs::read_to_string(repo("datasets/news-written.jsonl")).unwrap();
    let pick = |split: &str, n: usize| -> Vec<&str> {
        rows.lines()
            .filter(|l| l.contains(&format!("\"split\":\"{split}\"")))
            .take(n)
            .collect()
    };
    let mut tiny = pick("train", 48);
    tiny.extend(pick("dev", 24));
    let data = dir.path().join("tiny.jsonl");
    std::fs::write(&data, tiny.join("\n")).unwrap();
    let out = dir.path().join("model");
    run_ok(
        argmine()
            .args(["train", "--epochs", "1", "--data"])
            .arg(&data)
            .arg("--base")
            .arg(repo("models/argmine-minilm"))
            .arg("--out")
            .arg(&out),
    );
    for file in [
        "argmine.json",
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "head.safetensors",
        "graph.safetensors",
        "semantic.safetensors",
        "training.json",
        "graph-training.json",
    ] {
        assert!(out.join(file).is_file(), "{file} written");
    }
    let weights = std::fs::read(out.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&weights[8..8 + header_len]).unwrap();
    for (name, info) in header.as_object().unwrap() {
        if name != "__metadata__" {
            assert_eq!(info["dtype"], "F16", "{name} is stored in f16");
        }
    }
    let read_json = |file: &str| -> Value {
        serde_json::from_slice(&std::fs::read(out.join(file)).unwrap()).unwrap()
    };
    let report = read_json("training.json");
    assert!(["frozen", "fine-tuned"].contains(&report["kept"].as_str().unwrap()));

    let eval = run_ok(
        argmine()
            .args(["eval", "--split", "dev", "--json", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(&out),
    );
    let metrics: Value = serde_json::from_slice(&eval.stdout).unwrap();
    let all = &metrics["all"];
    assert_eq!(all["examples"], 24);
    let f1 = all["macro_f1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&f1));
    let confusion: u64 = all["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|c| c.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, 24);

    // the graph tasks score the same slice
    let graph_eval = |task: &str| -> Value {
        let out = run_ok(
            argmine()
                .args(["eval", "--task", task, "--split", "dev", "--json", "--data"])
                .arg(&data)
                .arg("--model")
                .arg(&out),
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["argmine-news-written"].clone()
    };
    let links = graph_eval("links");
    let gold = links["gold"].as_u64().unwrap();
    assert!(gold > 0);
    assert!(links["correct"].as_u64().unwrap() <= gold);
    assert_eq!(links["end_to_end"]["gold"], gold, "the same gold links");
    for baseline in ["nearest_claim_model_labels", "nearest_claim_gold_labels"] {
        let b = &links[baseline];
        assert_eq!(b["gold"], gold, "{baseline}");
        assert!(b["predicted"].as_u64().unwrap() > 0, "{baseline}");
        assert!(
            b["correct"].as_u64().unwrap() <= b["predicted"].as_u64().unwrap(),
            "{baseline}"
        );
    }
    let thesis = graph_eval("thesis");
    assert_eq!(thesis["documents"], 2);
    assert!((0.0..=1.0).contains(&thesis["accuracy"].as_f64().unwrap()));

    // refitting the thesis scorer alone leaves the link scorer as it was, and choosing the
    // thresholds alone leaves the thesis scorer and the training report as they were
    let links_before = std::fs::read(out.join("graph.safetensors")).unwrap();
    let refit = |flags: &[&str]| {
        run_ok(
            argmine()
                .args(["train"])
                .args(flags)
                .arg("--data")
                .arg(&data)
                .arg("--out")
                .arg(&out),
        );
    };
    let base = repo("models/argmine-minilm");
    refit(&["--thesis-only", "--base", base.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(out.join("graph.safetensors")).unwrap(),
        links_before
    );
    let (meta, report) = (read_json("argmine.json"), read_json("graph-training.json"));
    refit(&["--thresholds-only"]);
    let (meta_after, report_after) = (read_json("argmine.json"), read_json("graph-training.json"));
    assert_eq!(meta_after["graph"]["thesis"], meta["graph"]["thesis"]);
    assert_eq!(report_after["links"], report["links"]);
    assert_eq!(report_after["thesis"], report["thesis"]);
    assert_eq!(
        report_after["thresholds"]["thresholds"], meta_after["graph"]["link"]["thresholds"],
        "the report names the thresholds chosen"
    );
    let tried = &report_after["thesis"]["dev_accuracy"];
    assert_eq!(
        tried.as_array().unwrap().len(),
        3 * 3 * 4,
        "one fit per written-news weight, embedding penalty and L2 penalty"
    );
    let kept = &report_after["thesis"]["kept"];
    let weights = read_json("argmine.json")["graph"]["thesis"]["weights"]
        .as_array()
        .unwrap()
        .len();
    let expected = if kept["embedding_l2_scale"].is_null() {
        THESIS_FEATURES
    } else {
        THESIS_FEATURES + 384
    };
    assert_eq!(weights, expected, "scalars, and the embedding if kept");
    assert_eq!(graph_eval("thesis")["documents"], 2);

    // the head is trained once per weight of the written articles, in training and in a head
    // refit, which records what it chose where the model's settings and report can be read
    let written = [1.0, 0.5, 0.25];
    assert!(written.contains(
        &read_json("training.json")["written_weight"]
            .as_f64()
            .unwrap()
    ));
    // with a teacher (here the shipped model), which the refit records
    let teacher = base.to_str().unwrap();
    refit(&["--head-only", "--base", teacher, "--teacher", teacher]);
    let head_refit = read_json("training.json")["head_refit"].clone();
    assert_eq!(head_refit["teachers"], serde_json::json!([teacher]));
    let tried: Vec<f64> = head_refit["tried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[0].as_f64().unwrap())
        .collect();
    assert_eq!(tried, written);
    assert_eq!(
        head_refit["temperature"],
        read_json("argmine.json")["head"]["temperature"]
    );
    assert_eq!(
        graph_eval("links")["gold"],
        gold,
        "the refitted model scores links"
    );

    // the probe of the corpus's own types is fitted on train, stopped on dev, and seeded
    let probe = || -> Value {
        let out = run_ok(
            argmine()
                .args([
                    "eval", "--task", "probe", "--split", "dev", "--json", "--data",
                ])
                .arg(&data)
                .arg("--model")
                .arg(&out),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = probe();
    assert_eq!(first["examples"], 24);
    let supports: u64 = first["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["support"].as_u64().unwrap())
        .sum();
    assert!(supports > 0 && supports <= 24);
    assert_eq!(first, probe(), "the same figures on every run");
}

#[test]
fn segmenter_reproduces_the_gold_sentences_of_the_written_articles() {
    let out = run_ok(
        argmine()
            .args(["eval", "--task", "segment", "--json", "--data"])
            .arg(repo("datasets/news-written")),
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(m["gold_sentences"].as_u64().unwrap() > 2500);
    assert!(m["f1"].as_f64().unwrap() > 0.97, "boundary F1 {}", m["f1"]);
}
