//! lm-evaluation-harness `--log_samples` files (real ones, made by lm-eval: see
//! tests/fixtures/lm_eval_samples/COMMAND.txt and scripts/make_lm_eval_samples.py) imported as Bedside
//! runs: every sample matched to the bundled sample item with its question, options in lm-eval's order,
//! and the imported accuracy equal to lm-eval's own (results.json); edited files get errors naming the line.

mod common;

use bedside_eval::lm_eval_import::{import, task_of_file, LmEvalImport};
use serde_json::Value;

const TASKS: [(&str, &str); 2] = [
    ("medqa_4options", "medqa-4options"),
    ("pubmedqa", "pubmedqa"),
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        common::root()
            .join("crates/eval/tests/fixtures/lm_eval_samples")
            .join(name),
    )
    .unwrap()
}

fn opts() -> LmEvalImport {
    LmEvalImport {
        model: "SmolLM2 via lm-eval".into(),
        split: "test".into(),
        shots: 0,
    }
}

#[test]
fn real_samples_match_the_items_and_reproduce_lm_evals_accuracy() {
    let results: Value = serde_json::from_slice(&fixture("results.json")).unwrap();
    for (task, bench) in TASKS {
        let b = common::sample(bench);
        let name = format!("samples_{task}.jsonl");
        let bytes = fixture(&name);
        let (h, recs) = import(&[(name.clone(), bytes.clone())], &b, "hash", &opts()).unwrap();
        let lines: Vec<Value> = std::str::from_utf8(&bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.len() >= 10);
        assert_eq!(recs.len(), lines.len());
        assert_eq!(h.config.model.name, "SmolLM2 via lm-eval");
        // lm-eval's own accuracy: its results file and the mean of the samples' acc.
        let acc = results["results"][task]["acc,none"].as_f64().unwrap();
        let mean: f64 = lines
            .iter()
            .map(|s| s["acc"].as_f64().unwrap())
            .sum::<f64>()
            / lines.len() as f64;
        assert!((acc - mean).abs() < 1e-9);
        let ours = recs.iter().filter(|r| r.correct).count() as f64 / recs.len() as f64;
        assert!(
            (ours - acc).abs() < 1e-12,
            "{task}: imported {ours}, lm-eval {acc}"
        );
        // Each record is the item whose question the sample carries (the bundled items are in the
        // lm-eval task's order, so doc_id k is test item k).
        let items = common::test_items(&b);
        for (s, r) in lines.iter().zip(&recs) {
            let k = s["doc_id"].as_u64().unwrap() as usize;
            assert_eq!(r.id, items[k].id);
            assert_eq!(
                r.presented[r.gold.unwrap()],
                items[k].options[items[k].answer.index().unwrap()]
            );
            assert_eq!(r.correct, s["acc"].as_f64().unwrap() == 1.0);
            assert!(
                r.prompt.contains(items[k].question.trim()),
                "the context lm-eval built is kept"
            );
        }
    }
}

#[test]
fn edited_or_foreign_samples_are_refused_naming_the_line() {
    let b = common::sample("medqa-4options");
    let name = "samples_medqa_4options_2026-12-01T10-00-00.000000.jsonl".to_string();
    assert_eq!(task_of_file(&name).as_deref(), Some("medqa_4options"));
    let text = String::from_utf8(fixture("samples_medqa_4options.jsonl")).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let join = |ls: &[Value]| {
        ls.iter()
            .map(|l| l.to_string() + "\n")
            .collect::<String>()
            .into_bytes()
    };
    // A question no item has.
    let mut edited = lines.clone();
    edited[2]["doc"]["sent1"] = Value::from("What is the capital of France?");
    let e = import(&[(name.clone(), join(&edited))], &b, "h", &opts()).unwrap_err();
    assert!(
        e.contains("line 3") && e.contains("no item of") && e.contains("capital of France"),
        "{e}"
    );
    // Another gold answer than the benchmark's.
    let mut edited = lines.clone();
    // lm-eval writes the target as text ("1"); the importer reads a number either way.
    let t: u64 = edited[0]["target"].as_str().unwrap().parse().unwrap();
    edited[0]["target"] = Value::from(((t + 1) % 4).to_string());
    let e = import(&[(name.clone(), join(&edited))], &b, "h", &opts()).unwrap_err();
    assert!(e.contains("line 1") && e.contains("gold answer"), "{e}");
    // The same sample twice.
    lines.push(lines[0].clone());
    let e = import(&[(name.clone(), join(&lines))], &b, "h", &opts()).unwrap_err();
    assert!(e.contains("already imported"), "{e}");
    // Samples of another benchmark's task.
    let pub_name = "samples_pubmedqa.jsonl".to_string();
    let e = import(
        &[(pub_name, fixture("samples_pubmedqa.jsonl"))],
        &b,
        "h",
        &opts(),
    )
    .unwrap_err();
    assert!(e.contains("no item of"), "{e}");
    // A task Bedside does not reproduce.
    let e = import(
        &[("samples_hellaswag.jsonl".into(), b"{}\n".to_vec())],
        &b,
        "h",
        &opts(),
    )
    .unwrap_err();
    assert!(
        e.contains("hellaswag") && e.contains("not one Bedside reproduces"),
        "{e}"
    );
}
