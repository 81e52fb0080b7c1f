//! End-to-end tests of the `bedside` binary on the bundled samples and the real datasets in ../shared.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bedside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bedside"))
        .args(args)
        .output()
        .expect("run bedside")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample(name: &str) -> String {
    root().join("data/samples").join(name).display().to_string()
}

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("data/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn shared() -> PathBuf {
    let p = std::env::var_os("BEDSIDE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    assert!(
        p.join("datasets").is_dir(),
        "real datasets not found at {}; set BEDSIDE_SHARED",
        p.display()
    );
    p.join("datasets")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn every_bundled_sample_validates_and_has_a_license() {
    let s = samples();
    assert!(
        s.len() >= 6,
        "expected the six bundled samples, found {s:?}"
    );
    for dir in s {
        let o = bedside(&["validate", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", dir.display(), stdout(&o));
        assert!(
            stdout(&o).contains("0 error(s), 0 warning(s)"),
            "{}",
            stdout(&o)
        );
        assert!(
            dir.join("LICENSE").is_file(),
            "{} has no LICENSE",
            dir.display()
        );
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        for f in ["license", "citation", "source"] {
            assert!(
                m[f].as_str().is_some_and(|s| s.len() > 2 && s != "unknown"),
                "{}: {f}",
                dir.display()
            );
        }
    }
}

#[test]
fn samples_are_reproducible_from_the_real_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mmlu");
    let d = shared();
    #[rustfmt::skip]
    let o = bedside(&[
        "convert", "--from", "mmlu-csv",
        d.join("mmlu_medical/test").to_str().unwrap(), d.join("mmlu_medical/dev").to_str().unwrap(),
        "--sample", "120", "--seed", "1", "--name", "mmlu-medical-sample",
        "--description", "120 test items sampled (seed 1) across MMLU's six medical subjects, with all 30 dev items for 5-shot prompts",
        "--license-file", d.join("mmlu_medical/LICENSE").to_str().unwrap(), "--out", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("converted 1119, skipped 0"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("kept 150 (--sample)"), "{}", stdout(&o));
    for f in ["manifest.json", "test-000.jsonl", "dev-000.jsonl"] {
        let want = std::fs::read(root().join("data/samples/mmlu-medical").join(f)).unwrap();
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            want,
            "{f} differs from the bundled sample"
        );
    }
}

#[test]
fn malformed_shard_gets_line_numbered_errors_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    copy_dir(Path::new(&sample("medmcqa")), &dir);
    let shard = dir.join("test-000.jsonl");
    let text = std::fs::read_to_string(&shard).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2][..lines[2].len() / 2].to_string(); // line 3: truncated JSON
    let mut v: serde_json::Value = serde_json::from_str(&lines[4]).unwrap();
    v["answer"] = 9.into(); // line 5: answer out of range
    lines[4] = v.to_string();
    lines[6] = lines[0].clone(); // line 7: duplicate id of line 1
    std::fs::write(&shard, lines.join("\n") + "\n").unwrap();

    let o = bedside(&["validate", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: test-000.jsonl:3: invalid JSON"),
        "{out}"
    );
    assert!(
        out.contains(
            "error: test-000.jsonl:5: field `answer`: answer 9 is out of range for 4 options"
        ),
        "{out}"
    );
    assert!(
        out.contains("fix: use a 0-based option index between 0 and 3"),
        "{out}"
    );
    assert!(
        out.contains("error: test-000.jsonl:7: field `id`: duplicate id"),
        "{out}"
    );
    assert!(out.contains("(first used at test-000.jsonl:1)"), "{out}");
    assert!(out.contains("field `shards[0].sha256`"), "{out}");
    assert!(out.starts_with("error") && out.contains("INVALID"), "{out}");

    let o = bedside(&["validate", "--json", dir.to_str().unwrap()]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["valid"], false);
    assert_eq!(j["errors"], 4);
    assert!(j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["line"] == 5 && p["field"] == "answer"));

    // stats refuses an invalid benchmark and points to validate.
    let o = bedside(&["stats", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bedside validate"), "{}", stderr(&o));
}

#[test]
fn bad_manifest_and_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    copy_dir(Path::new(&sample("pubmedqa")), &dir);
    let m = std::fs::read_to_string(dir.join("manifest.json"))
        .unwrap()
        .replace("\"yes_no_maybe\"", "\"essay\"");
    std::fs::write(dir.join("manifest.json"), m).unwrap();
    let o = bedside(&["validate", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("field `task`: unknown task kind `essay`"),
        "{}",
        stdout(&o)
    );

    let o = bedside(&["convert", "--from", "medxa", "x.jsonl", "--out", "y"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown format `medxa`"),
        "{}",
        stderr(&o)
    );

    let o = bedside(&[
        "convert",
        "--from",
        "medqa",
        "x.jsonl",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));

    let o = bedside(&["validate", "/nonexistent/bench"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"));
}

#[test]
fn single_shard_without_manifest() {
    let shard = format!("{}/test-000.jsonl", sample("pubmedqa"));
    let o = bedside(&["validate", "--task", "yes_no_maybe", &shard]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("no manifest"), "{}", stdout(&o));
    // Options are not allowed on numeric items: the same shard is invalid as `numeric`.
    let o = bedside(&["validate", "--task", "numeric", &shard]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn stats_json_describes_the_benchmark() {
    let o = bedside(&["stats", "--json", &sample("mmlu-pro-health")]);
    assert!(o.status.success());
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["items"], 100);
    assert!(
        s["option_counts"].as_object().unwrap().len() > 2,
        "MMLU-Pro has mixed option counts"
    );
    let pos = &s["answer_positions"];
    assert_eq!(
        pos["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>(),
        100
    );
    let expected: f64 = pos["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_f64().unwrap())
        .sum();
    assert!((expected - 100.0).abs() < 1e-9);
    let chance = s["chance_accuracy"].as_f64().unwrap();
    assert!(chance > 0.1 && chance < 0.34, "{chance}");

    let o = bedside(&["stats", &sample("medqa-4options")]);
    let t = stdout(&o);
    for want in [
        "Answer positions",
        "chi-square",
        "Subjects",
        "Duplicates",
        "longest option",
    ] {
        assert!(t.contains(want), "missing {want}:\n{t}");
    }
}

#[test]
fn generic_csv_convert_reports_skips_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let src = shared().join("mmlu_medical/test/medical_genetics_test.csv");
    let out = tmp.path().join("g");
    // This copy's answers are 0-based numbers: reading them as letters must skip every row, with the reason.
    #[rustfmt::skip]
    let o = bedside(&[
        "convert", "--from", "csv", src.to_str().unwrap(), "--out", out.to_str().unwrap(),
        "--map", "options=choice0,choice1,choice2,choice3", "--answer-format", "letter", "--license", "MIT",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "nothing converted must fail: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("no item converted from 100 record(s); nothing was written")
            && stderr(&o).contains("100 × answer \"…\" is not a letter"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "a refused conversion writes no folder");

    #[rustfmt::skip]
    let o = bedside(&[
        "convert", "--from", "csv", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "--force",
        "--map", "options=choice0,choice1,choice2,choice3", "--answer-format", "index0", "--license", "MIT", "--shard-size", "40",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("converted 100, skipped 0"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("3 shard(s) of up to 40 items"),
        "{}",
        stdout(&o)
    );
    assert!(bedside(&["validate", out.to_str().unwrap()])
        .status
        .success());
}

/// Issue 16: a file where nothing converts is refused (exit 1) with the reasons and the --inspect hint,
/// and no folder is written.
#[test]
fn convert_refuses_when_nothing_converts_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let f = root().join("crates/bench/tests/fixtures/shapes/empty_match.jsonl");
    let o = bedside(&[
        "convert",
        &f.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("no item converted") && e.contains("3 × no question") && e.contains("--inspect"),
        "{e}"
    );
    assert!(!out.exists());
    // The inspection names the fields there are, so the user can map them.
    let i = stdout(&bedside(&[
        "convert",
        "--inspect",
        &f.display().to_string(),
    ]));
    assert!(
        i.contains("prompt_text") && i.contains("alternatives") && i.contains("0 item(s) convert"),
        "{i}"
    );
}
