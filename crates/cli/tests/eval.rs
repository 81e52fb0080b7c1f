//! `bedside eval`, `report` and `merge` end to end on the real SmolLM2 model and the bundled samples:
//! accuracy recomputed independently from the records, resume (extending --limit, and after a record cut
//! off mid-write), configuration mismatch, slices merged equal to one full run, reports.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bedside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bedside"))
        .args(args)
        .output()
        .expect("run bedside")
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "bedside failed: {err}");
    String::from_utf8_lossy(&o.stdout).into_owned() + &err
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model() -> String {
    let dir = std::env::var_os("BEDSIDE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"));
    let p = dir.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        p.is_file(),
        "{} not found: run `bash scripts/get_models.sh`",
        p.display()
    );
    p.display().to_string()
}

fn mmlu() -> String {
    root()
        .join("data/samples/mmlu-medical")
        .display()
        .to_string()
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn eval(out: &std::path::Path, extra: &[&str]) -> Output {
    eval_bench(&mmlu(), out, extra)
}

/// `bedside eval` with the real model on benchmark `b`.
fn eval_bench(b: &str, out: &std::path::Path, extra: &[&str]) -> Output {
    let m = model();
    let o = out.display().to_string();
    let mut args = vec![
        "eval",
        "--model",
        m.as_str(),
        "--bench",
        b,
        "--out",
        o.as_str(),
    ];
    args.extend_from_slice(extra);
    bedside(&args)
}

#[test]
fn eval_report_and_independent_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.jsonl");
    ok(&eval(&out, &["--limit", "6"]));
    let rows = lines(&out);
    let header = &rows[0];
    assert_eq!(header["config"]["template"], "mmlu");
    assert_eq!(header["config"]["method"], "loglik");
    assert_eq!(header["planned_items"], 120);
    let recs = &rows[1..];
    assert_eq!(recs.len(), 6);
    // Recompute accuracy from the raw per-option scores: argmax vs gold.
    let mut correct = 0;
    for r in recs {
        let scores: Vec<f64> = r["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 4);
        let best = (0..4).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
        let probs: Vec<f64> = r["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(r["pred"].as_u64().unwrap() as usize, best);
        let right = best as u64 == r["gold"].as_u64().unwrap();
        assert_eq!(r["correct"].as_bool().unwrap(), right);
        correct += right as usize;
    }
    let rep: Value = serde_json::from_str(
        &ok(&bedside(&["report", out.to_str().unwrap(), "--json"]))
            .split("\nnote")
            .next()
            .unwrap()
            .to_string(),
    )
    .unwrap();
    assert_eq!(rep["items"], 6);
    assert_eq!(rep["correct"], correct);
    assert!((rep["accuracy"].as_f64().unwrap() - correct as f64 / 6.0).abs() < 1e-12);
    assert!(rep["chance"]["expected_accuracy"].as_f64().unwrap() == 0.25);
    assert!(rep["calibration"]["ece"].as_f64().is_some());
    let text = ok(&bedside(&["report", out.to_str().unwrap()]));
    assert!(
        text.contains("accuracy") && text.contains("incomplete: 6 of 120"),
        "{text}"
    );
    let html = dir.path().join("r.html");
    ok(&bedside(&[
        "report",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]));
    let h = std::fs::read_to_string(&html).unwrap();
    assert!(h.contains("<svg") && h.contains("Reliability diagram"));
    assert!(
        !h.contains("http://") && !h.contains("https://") && !h.contains("<script"),
        "the HTML report must be self-contained"
    );
}

#[test]
fn resume_extends_and_recovers_a_cut_off_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.jsonl");
    ok(&eval(&out, &["--limit", "3"]));
    let first = lines(&out);
    // Simulate a kill mid-write: half of a record at the end, no newline.
    let mut bytes = std::fs::read(&out).unwrap();
    let cut = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .len()
        / 2;
    let last_line = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .last()
        .unwrap()[..cut]
        .to_string();
    bytes.extend_from_slice(last_line.as_bytes());
    std::fs::write(&out, &bytes).unwrap();
    let o = ok(&eval(&out, &["--limit", "5"]));
    assert!(
        o.contains("cut-off record") && o.contains("3 already done"),
        "{o}"
    );
    let all = lines(&out);
    assert_eq!(all.len(), 6, "header + 5 records");
    assert_eq!(all[..4], first[..], "earlier records are kept as they were");
    let ids: std::collections::HashSet<&str> =
        all[1..].iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    // Same command again: nothing to do, nothing duplicated.
    ok(&eval(&out, &["--limit", "5"]));
    assert_eq!(lines(&out).len(), 6);
    // A different configuration refuses to mix into this file, naming what differs.
    let e = eval(&out, &["--limit", "5", "--method", "letter"]);
    assert_eq!(e.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        msg.contains("different configuration") && msg.contains("method"),
        "{msg}"
    );
}

#[test]
fn a_killed_run_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.jsonl");
    let (m, b) = (model(), mmlu());
    let args = [
        "eval",
        "--model",
        m.as_str(),
        "--bench",
        b.as_str(),
        "--limit",
        "8",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_bedside"))
        .args(args)
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no chance to clean up) once two records are on disk.
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 3 {
        assert!(t0.elapsed().as_secs() < 300, "no records written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = lines(&out).len() - 1;
    assert!(kept >= 2 && kept < 8, "{kept} records before the kill");
    ok(&bedside(&args));
    let all = lines(&out);
    assert_eq!(all.len(), 9, "header + 8 records after resuming");
    let ids: std::collections::HashSet<&str> =
        all[1..].iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 8, "no item twice");
}

#[test]
fn slices_merge_into_the_full_run() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    ok(&eval(&full, &["--limit", "6"]));
    // Six items split over 3 slices of the first 18 positions... use a limit per slice of 2.
    let mut parts = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("s{i}.jsonl"));
        ok(&eval(&p, &["--slice", &format!("{i}/3"), "--limit", "2"]));
        parts.push(p.display().to_string());
    }
    let merged = dir.path().join("merged.jsonl");
    let mut args = vec!["merge", "--out", merged.to_str().unwrap()];
    args.extend(parts.iter().map(String::as_str));
    ok(&bedside(&args));
    let m = lines(&merged);
    assert!(m[0]["slice"].is_null());
    assert_eq!(m[0]["merged_from"].as_array().unwrap().len(), 3);
    let idx: Vec<u64> = m[1..]
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, [0, 1, 2, 3, 4, 5]);
    let f = lines(&full);
    for (a, b) in m[1..].iter().zip(&f[1..]) {
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["pred"], b["pred"]);
        for (x, y) in a["scores"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["scores"].as_array().unwrap())
        {
            assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9);
        }
    }
    // Merging a subset names the missing slices; the merged report shows the run as incomplete.
    let part = dir.path().join("part.jsonl");
    let o = ok(&bedside(&[
        "merge",
        "--out",
        part.to_str().unwrap(),
        &parts[0],
        &parts[2],
    ]));
    assert!(
        o.contains("slices 1/3 are not among the merged files"),
        "{o}"
    );
    // A slice run with another configuration cannot be merged.
    let other = dir.path().join("other.jsonl");
    ok(&eval(
        &other,
        &["--slice", "0/3", "--limit", "1", "--method", "letter"],
    ));
    let e = bedside(&[
        "merge",
        "--out",
        dir.path().join("x.jsonl").to_str().unwrap(),
        &parts[1],
        other.to_str().unwrap(),
    ]);
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("different configuration"));
}

#[test]
fn generate_with_extraction_and_probes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen.jsonl");
    ok(&eval(
        &out,
        &[
            "--limit",
            "3",
            "--method",
            "generate",
            "--chat",
            "--max-tokens",
            "8",
        ],
    ));
    let rows = lines(&out);
    for r in &rows[1..] {
        let status = r["status"].as_str().unwrap();
        assert!(
            status == "extracted" || status == "unextractable",
            "{status}"
        );
        assert_eq!(r["outputs"].as_array().unwrap().len(), 1);
        if status == "unextractable" {
            assert!(!r["correct"].as_bool().unwrap());
            assert!(r["pred"].is_null());
        } else {
            assert!(r["rule"].is_string());
        }
    }
    // Self-consistency: three sampled answers per item, majority vote, vote shares as probabilities.
    let sc = dir.path().join("sc.jsonl");
    ok(&eval(
        &sc,
        &[
            "--limit",
            "2",
            "--method",
            "generate",
            "--samples",
            "3",
            "--temperature",
            "0.8",
            "--max-tokens",
            "6",
        ],
    ));
    for r in &lines(&sc)[1..] {
        assert_eq!(r["outputs"].as_array().unwrap().len(), 3);
        if r["status"] == "extracted" {
            let p: f64 = r["probs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .sum();
            assert!((p - 1.0).abs() < 1e-9);
        }
    }
    let e = eval(
        &dir.path().join("x.jsonl"),
        &["--method", "generate", "--samples", "3"],
    );
    assert!(String::from_utf8_lossy(&e.stderr).contains("--temperature"));
    // Probes: shuffled options keep the gold answer's text; the header records the probe.
    let p = dir.path().join("shuffle.jsonl");
    ok(&eval(&p, &["--limit", "4", "--probe", "shuffle"]));
    let rows = lines(&p);
    assert_eq!(rows[0]["config"]["probes"][0], "shuffle");
    let bad = eval(&dir.path().join("bad.jsonl"), &["--probe", "nonsense"]);
    let why = String::from_utf8_lossy(&bad.stderr);
    assert!(
        why.contains("probe `nonsense`: unknown probe") && why.contains("shuffle[:k]"),
        "{why}"
    );
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.jsonl");
    let e = bedside(&[
        "eval",
        "--model",
        "no-such.gguf",
        "--bench",
        &mmlu(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("no-such.gguf does not exist"));
    // A benchmark with an invalid shard: the problems are listed, nothing runs.
    let bench = dir.path().join("bench");
    std::fs::create_dir(&bench).unwrap();
    std::fs::write(
        bench.join("test.jsonl"),
        "{\"id\":\"1\",\"question\":\"q\",\"options\":[\"a\"],\"answer\":0}\n",
    )
    .unwrap();
    let e = eval_bench(bench.to_str().unwrap(), &out, &[]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success()
            && msg.contains("test.jsonl:1")
            && msg.contains("not a valid benchmark"),
        "{msg}"
    );
    // An empty shard: a clear error before any work.
    std::fs::write(bench.join("test.jsonl"), "").unwrap();
    let e = eval_bench(bench.to_str().unwrap(), &out, &[]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success() && msg.contains("holds no items") && msg.contains("test.jsonl"),
        "{msg}"
    );
    assert!(
        !out.exists(),
        "nothing is written when the run cannot start"
    );
    // --chat on a base model (Gemma 3 270M's GGUF has no chat template): one message, before any item.
    let gemma = PathBuf::from(model()).with_file_name("gemma-3-270m-q4_k_m.gguf");
    let e = bedside(&[
        "eval",
        "--model",
        gemma.to_str().unwrap(),
        "--bench",
        &mmlu(),
        "--out",
        out.to_str().unwrap(),
        "--chat",
        "--limit",
        "2",
    ]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success()
            && msg.contains("has no chat template (a base model); run without --chat"),
        "{msg}"
    );
    assert!(
        !out.exists(),
        "a run the model cannot do writes no run file"
    );
    // A file that is not a run file.
    std::fs::write(&out, "hello\n").unwrap();
    let e = bedside(&["report", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("not a Bedside run header"));
}

/// The same model as a Hugging Face folder (config.json + model.safetensors + tokenizer.json) and as GGUF,
/// both at f32: the same predictions, scores within 1e-3. The exact quantised GGUF run
/// (`--precision quantized`) agrees too.
/// A folder missing tokenizer.json is refused with a message naming the file.
#[test]
fn a_hugging_face_folder_evaluates_like_its_gguf() {
    let hf = PathBuf::from(model()).with_file_name("SmolLM2-135M-Instruct-hf");
    assert!(
        hf.is_dir(),
        "{} missing: run `bash scripts/get_models.sh`",
        hf.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("gguf.jsonl"),
        dir.path().join("hf.jsonl"),
        dir.path().join("gguf-q.jsonl"),
    );
    ok(&eval(&a, &["--limit", "6", "--precision", "f32", "-q"]));
    ok(&eval(
        &c,
        &["--limit", "6", "--precision", "quantized", "-q"],
    ));
    let (m, o) = (hf.display().to_string(), b.display().to_string());
    ok(&bedside(&[
        "eval",
        "--model",
        &m,
        "--bench",
        &mmlu(),
        "--out",
        &o,
        "--limit",
        "6",
        "--precision",
        "f32",
        "-q",
    ]));
    let (ra, rb, rc) = (lines(&a), lines(&b), lines(&c));
    assert_eq!(ra.len(), 7);
    assert_eq!(rb.len(), 7);
    for other in [&rb, &rc] {
        for (x, y) in ra[1..].iter().zip(&other[1..]) {
            assert_eq!(x["pred"], y["pred"]);
            for (s, t) in x["scores"]
                .as_array()
                .unwrap()
                .iter()
                .zip(y["scores"].as_array().unwrap())
            {
                assert!((s.as_f64().unwrap() - t.as_f64().unwrap()).abs() < 1e-3);
            }
        }
    }
    // A folder without its tokenizer.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::copy(hf.join("config.json"), broken.join("config.json")).unwrap();
    let e = bedside(&[
        "generate",
        "--model",
        &broken.display().to_string(),
        "--prompt",
        "x",
    ]);
    assert!(!e.status.success());
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(msg.contains("tokenizer.json"), "{msg}");
}

/// Issue 12: generating without the chat template, the instruction-tuned SmolLM2 writes nothing; the
/// run says why and what to do instead of a bare "accuracy -". With the letter method under the chat
/// template the letters are scored where the options differ (not the template's shared newline), so
/// the probabilities are not 25/25/25/25 on every item.
#[test]
fn generate_without_chat_says_why_and_letter_with_chat_is_not_uniform() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen.jsonl");
    let text = ok(&eval(
        &out,
        &["--limit", "3", "--method", "generate", "--max-tokens", "8"],
    ));
    let rows = lines(&out);
    let all_empty = rows[1..].iter().all(|r| {
        r["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.as_str().unwrap().trim().is_empty())
    });
    let report = ok(&bedside(&["report", out.to_str().unwrap()]));
    if all_empty {
        assert!(text.contains("turn on the chat template"), "{text}");
        assert!(
            report.contains("warning: the model generated no text"),
            "{report}"
        );
    } else {
        assert!(!report.contains("generated no text"), "{report}");
    }
    let letter = dir.path().join("letter.jsonl");
    ok(&eval_bench(
        &root()
            .join("data/samples/medqa-4options")
            .display()
            .to_string(),
        &letter,
        &["--limit", "4", "--method", "letter", "--chat"],
    ));
    let rows = lines(&letter);
    let probs: Vec<Vec<f64>> = rows[1..]
        .iter()
        .map(|r| {
            r["probs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let uniform = probs
        .iter()
        .all(|p| p.iter().all(|x| (x - 0.25).abs() < 1e-6));
    assert!(
        !uniform,
        "letter probabilities under chat are uniform: {probs:?}"
    );
    assert_ne!(
        probs[0], probs[1],
        "the same probabilities on two different items"
    );
    let report = ok(&bedside(&["report", letter.to_str().unwrap()]));
    assert!(
        !report.contains("every option got the same probability"),
        "{report}"
    );
    assert!(report.contains("majority"), "{report}");
}

fn medqa() -> String {
    root()
        .join("data/samples/medqa-4options")
        .display()
        .to_string()
}

#[test]
fn report_baseline_pairs_a_probed_run_with_its_plain_run() {
    use bedside_bench::metrics::mcnemar::mcnemar_exact;
    use bedside_bench::metrics::paired_bootstrap::paired_bootstrap_difference;
    let dir = tempfile::tempdir().unwrap();
    let (plain, nota, bias, other) = (
        dir.path().join("plain.jsonl"),
        dir.path().join("nota.jsonl"),
        dir.path().join("bias.jsonl"),
        dir.path().join("mmlu.jsonl"),
    );
    ok(&eval_bench(&medqa(), &plain, &["--limit", "6"]));
    ok(&eval_bench(
        &medqa(),
        &nota,
        &["--limit", "5", "--probe", "nota:gold"],
    ));
    ok(&eval_bench(
        &medqa(),
        &bias,
        &["--limit", "6", "--probe", "bias:recency"],
    ));
    let (p, n) = (lines(&plain), lines(&nota));
    // Stored as Bedside 0.1 wrote it (so its runs keep their configuration hash).
    assert_eq!(
        n[0]["config"]["probes"],
        serde_json::json!(["none_of_the_above"])
    );
    for r in &n[1..] {
        let g = r["gold"].as_u64().unwrap() as usize;
        assert_eq!(r["presented"][g], "None of the above");
    }
    let pf = plain.display().to_string();
    let nf = nota.display().to_string();
    let json: Value = serde_json::from_str(
        &ok(&bedside(&["report", "--baseline", &pf, &nf, "--json"]))
            .lines()
            .take_while(|l| !l.starts_with("wrote"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    // Recomputed from the two files: pair by id, count the flips by hand.
    let by_id: std::collections::HashMap<&str, &Value> = p[1..]
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in &n[1..] {
        a.push(
            by_id[r["id"].as_str().unwrap()]["correct"]
                .as_bool()
                .unwrap(),
        );
        b.push(r["correct"].as_bool().unwrap());
    }
    assert_eq!(json["items_paired"], 5);
    assert_eq!(
        json["only_baseline"], 1,
        "the plain run's sixth item has no probed twin"
    );
    let c = &json["comparisons"][0];
    let rtw = a.iter().zip(&b).filter(|(x, y)| **x && !**y).count();
    let wtr = a.iter().zip(&b).filter(|(x, y)| !**x && **y).count();
    assert_eq!(
        (
            c["right_to_wrong"].as_u64().unwrap() as usize,
            c["wrong_to_right"].as_u64().unwrap() as usize
        ),
        (rtw, wtr)
    );
    let m = mcnemar_exact(&a, &b).unwrap();
    assert!((c["mcnemar_p"].as_f64().unwrap() - m.p_value).abs() < 1e-12);
    let iv = paired_bootstrap_difference(
        &b,
        &a,
        0.95,
        bedside_eval::report::BOOTSTRAP_RESAMPLES,
        bedside_eval::paired::PAIRED_SEED,
    )
    .unwrap();
    assert!((c["interval"]["low"].as_f64().unwrap() - iv.low).abs() < 1e-12);
    assert!((c["interval"]["high"].as_f64().unwrap() - iv.high).abs() < 1e-12);
    let acc = |v: &[bool]| v.iter().filter(|x| **x).count() as f64 / v.len() as f64;
    assert!((c["difference"].as_f64().unwrap() - (acc(&b) - acc(&a))).abs() < 1e-12);
    let text = ok(&bedside(&["report", "--baseline", &pf, &nf]));
    assert!(
        text.contains("items paired: 5 (1 only in the plain run, left out)"),
        "{text}"
    );
    assert!(
        text.contains("McNemar p") && text.contains("reading:"),
        "{text}"
    );

    // The bias figure: how often the answer moved to the suggested option, counted by hand.
    let bf = bias.display().to_string();
    let json: Value =
        serde_json::from_str(&ok(&bedside(&["report", "--baseline", &pf, &bf, "--json"]))).unwrap();
    let q = lines(&bias);
    let (mut switched, mut eligible) = (0, 0);
    for r in &q[1..] {
        let s = r["suggested"].as_u64().unwrap() as usize;
        let text = r["presented"][s].as_str().unwrap();
        assert!(r["injected"]
            .as_str()
            .unwrap()
            .contains(text.trim_end_matches('.')));
        let base = by_id[r["id"].as_str().unwrap()];
        let base_chose = base["pred"]
            .as_u64()
            .map(|i| base["presented"][i as usize] == text)
            .unwrap_or(false);
        if !base_chose {
            eligible += 1;
            switched += (r["pred"].as_u64() == Some(s as u64)) as usize;
        }
    }
    let fig = &json["bias"][0];
    assert_eq!(
        (
            fig["switched"]["items"].as_u64().unwrap(),
            fig["switched"]["correct"].as_u64().unwrap()
        ),
        (eligible as u64, switched as u64)
    );

    // Runs of another benchmark are refused with the reason.
    ok(&eval(&other, &["--limit", "2"]));
    let o = bedside(&["report", "--baseline", &other.display().to_string(), &nf]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("different benchmarks"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Issue 16: items with several correct options (real MMLU-Redux items annotated "multiple correct
/// answers") convert from a nested JSON export, are refused under a scoring method with the reason, and run
/// by generation; every record's exact match and the report's Hamming score are recomputed here from the
/// records' sets.
#[test]
fn multi_answer_items_convert_run_by_generation_and_score_as_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let shapes = root().join("crates/bench/tests/fixtures/shapes");
    let bench = tmp.path().join("nested");
    let nested = shapes.join("nested_sections.json").display().to_string();
    let inspected = ok(&bedside(&["convert", "--inspect", &nested]));
    assert!(
        inspected.contains("sections.{section}.questions")
            && inspected.contains("--id '{section}-{n}'"),
        "{inspected}"
    );
    let b = bench.display().to_string();
    let out = ok(&bedside(&[
        "convert",
        &nested,
        "--records",
        "sections.{section}.questions",
        "--map",
        "question=text",
        "--map",
        "options=options[n].text",
        "--map",
        "answer=answers",
        "--map",
        "subject=..topic",
        "--id",
        "{section}-{n}",
        "--license",
        "CC-BY-4.0",
        "--out",
        &b,
    ]));
    assert!(
        out.contains("task mcq_multi") && out.contains("validate: 15 item(s), 0 error(s)"),
        "{out}"
    );

    let refused = eval_bench(&b, &tmp.path().join("r.jsonl"), &["--limit", "2"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("use --method generate"));

    let run = tmp.path().join("multi.jsonl");
    ok(&eval_bench(
        &b,
        &run,
        &["--method", "generate", "--limit", "6"],
    ));
    let recs = lines(&run);
    let mut hamming = 0.0;
    let mut exact = 0;
    assert_eq!(recs.len() - 1, 6);
    let answered: Vec<&Value> = recs[1..]
        .iter()
        .filter(|r| r["status"] == "extracted")
        .collect();
    for r in &answered {
        let set = |k: &str| -> Vec<u64> {
            r[k].as_array()
                .map(|a| a.iter().map(|x| x.as_u64().unwrap()).collect())
                .unwrap_or_default()
        };
        let (gold, pred) = (set("gold_set"), set("pred_set"));
        assert!(!gold.is_empty() && r["gold"].is_null(), "{r}");
        assert_eq!(r["correct"].as_bool().unwrap(), gold == pred);
        exact += (gold == pred) as usize;
        let k = r["options"].as_u64().unwrap();
        let wrong = (0..k)
            .filter(|i| gold.contains(i) != pred.contains(i))
            .count();
        hamming += 1.0 - wrong as f64 / k as f64;
    }
    let n = answered.len();
    assert!(n > 0);
    let rep: Value = serde_json::from_str(&ok(&bedside(&[
        "report",
        &run.display().to_string(),
        "--json",
    ])))
    .unwrap();
    assert_eq!(rep["correct"].as_u64().unwrap() as usize, exact);
    assert_eq!(
        rep["multi"]["items"].as_u64().unwrap() as usize,
        n,
        "unextractable items are not scored"
    );
    assert!(
        (rep["multi"]["hamming"].as_f64().unwrap() - hamming / n as f64).abs() < 1e-9,
        "{}",
        rep["multi"]
    );
    assert!(
        rep["majority"].is_null(),
        "single-answer baselines are not applied to sets"
    );
    let text = ok(&bedside(&["report", &run.display().to_string()]));
    assert!(
        text.contains("exact match") && text.contains("hamming"),
        "{text}"
    );
}

/// Exact two-sided McNemar from the binomial sum, written here (not the metrics crate's).
fn mcnemar_by_hand(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let choose = |n: u64, k: u64| (0..k).fold(1.0, |a, i| a * (n - i) as f64 / (i + 1) as f64);
    let tail: f64 = (0..=b.min(c)).map(|k| choose(n, k)).sum::<f64>() / 2f64.powi(n as i32);
    (2.0 * tail).min(1.0)
}

#[test]
fn compare_pairs_real_runs_item_by_item() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, chat, letter, slice, other) = (
        dir.path().join("plain.jsonl"),
        dir.path().join("chat.jsonl"),
        dir.path().join("letter.jsonl"),
        dir.path().join("slice.jsonl"),
        dir.path().join("medqa.jsonl"),
    );
    ok(&eval(&plain, &["--limit", "10"]));
    ok(&eval(&chat, &["--limit", "10", "--chat"]));
    ok(&eval(&letter, &["--limit", "10", "--method", "letter"]));
    let files = [&plain, &chat, &letter];
    let html = dir.path().join("c.html");
    let csv = dir.path().join("c.csv");
    let path = |p: &std::path::Path| p.display().to_string();
    let o = bedside(&[
        "compare",
        &path(&plain),
        &path(&chat),
        &path(&letter),
        "--json",
        "--html",
        &path(&html),
        "--csv",
        &path(&csv),
    ]);
    let c: Value = serde_json::from_str(&ok(&o).split("\nwrote").next().unwrap()).unwrap();
    assert_eq!(c["shared_items"], 10);
    assert_eq!(c["runs"].as_array().unwrap().len(), 3);
    // Per-item outcomes straight from the run files, by item id.
    let outcome = |f: &std::path::Path| -> std::collections::HashMap<String, bool> {
        lines(f)[1..]
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["correct"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let o3: Vec<_> = files.iter().map(|f| outcome(f)).collect();
    let pairs = c["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 3);
    let mut raw = Vec::new();
    for p in pairs {
        let (a, b) = (
            p["a"].as_u64().unwrap() as usize,
            p["b"].as_u64().unwrap() as usize,
        );
        let only_a = o3[a].iter().filter(|(id, &x)| x && !o3[b][*id]).count() as u64;
        let only_b = o3[a].iter().filter(|(id, &x)| !x && o3[b][*id]).count() as u64;
        let cmp = &p["comparison"];
        assert_eq!(cmp["right_to_wrong"].as_u64().unwrap(), only_a);
        assert_eq!(cmp["wrong_to_right"].as_u64().unwrap(), only_b);
        let pv = mcnemar_by_hand(only_a, only_b);
        assert!((cmp["mcnemar_p"].as_f64().unwrap() - pv).abs() < 1e-12);
        let acc = |m: &std::collections::HashMap<String, bool>| {
            m.values().filter(|x| **x).count() as f64 / 10.0
        };
        assert!((cmp["difference"].as_f64().unwrap() - (acc(&o3[b]) - acc(&o3[a]))).abs() < 1e-12);
        raw.push(pv);
    }
    // Holm: the smallest raw p times 3 (capped at 1) is the smallest adjusted one.
    let min = raw.iter().cloned().fold(1.0, f64::min);
    let adj: Vec<f64> = pairs
        .iter()
        .map(|p| p["p_holm"].as_f64().unwrap())
        .collect();
    assert!((adj.iter().cloned().fold(1.0, f64::min) - (3.0 * min).min(1.0)).abs() < 1e-12);
    // With 10 items the three runs may have no item one got right and another wrong: then the note says
    // why Bradley-Terry was not fitted.
    let decisive: u64 = pairs
        .iter()
        .map(|p| {
            p["comparison"]["right_to_wrong"].as_u64().unwrap()
                + p["comparison"]["wrong_to_right"].as_u64().unwrap()
        })
        .sum();
    if decisive > 0 {
        assert_eq!(c["bradley_terry"]["strengths"].as_array().unwrap().len(), 3);
        assert_eq!(
            c["bradley_terry"]["comparisons"].as_u64().unwrap(),
            decisive
        );
    } else {
        assert!(
            c["notes"]
                .to_string()
                .contains("Bradley-Terry was not fitted"),
            "{}",
            c["notes"]
        );
    }
    assert!(c["irt"]["fit"]["model"] == "rasch" || c["notes"].to_string().contains("IRT"));
    let labels: Vec<&str> = c["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert!(
        labels[1].contains("chat") && labels[2].contains("letter"),
        "{labels:?}"
    );
    // Exports: the page has no script and names every run; the CSV has a row per item.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script") && labels.iter().all(|l| page.contains(l)));
    assert!(page.contains("Holm p") && page.contains("Bradley-Terry"));
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.lines().count(), 11);
    // Text output; a run over fewer items is compared on the shared ones.
    ok(&eval(&slice, &["--limit", "4", "--chat"]));
    let text = ok(&bedside(&["compare", &path(&plain), &path(&slice)]));
    assert!(
        text.contains("4 shared items") && text.contains("6 item(s) are not in every run"),
        "{text}"
    );
    assert!(text.contains("McNemar p"), "{text}");
    // Another benchmark is refused with the reason; so is a single file.
    ok(&eval_bench(&medqa(), &other, &["--limit", "2"]));
    let o = bedside(&["compare", &path(&plain), &path(&other)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is a run of benchmark") && err.contains("medqa"),
        "{err}"
    );
    assert!(!bedside(&["compare", &path(&plain)]).status.success());
}

/// lm-eval's own samples of SmolLM2 (llama.cpp kernels, made by scripts/make_lm_eval_samples.py)
/// imported and compared item by item with Bedside's run of the same model on the same items.
#[test]
fn lm_eval_samples_import_and_compare_with_a_bedside_run() {
    let dir = tempfile::tempdir().unwrap();
    let samples =
        root().join("crates/eval/tests/fixtures/lm_eval_samples/samples_medqa_4options.jsonl");
    let n = std::fs::read_to_string(&samples).unwrap().lines().count();
    let (imported, ours) = (
        dir.path().join("lm-eval.jsonl"),
        dir.path().join("ours.jsonl"),
    );
    let path = |p: &std::path::Path| p.display().to_string();
    let text = ok(&bedside(&[
        "import-lm-eval",
        &path(&samples),
        "--bench",
        &medqa(),
        "--model",
        "SmolLM2 (lm-eval, llama.cpp)",
        "--out",
        &path(&imported),
    ]));
    assert!(
        text.contains(&format!("imported {n} lm-eval samples")),
        "{text}"
    );
    ok(&eval_bench(&medqa(), &ours, &["--limit", &n.to_string()]));
    let o = bedside(&["compare", &path(&ours), &path(&imported), "--json"]);
    let c: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(c["shared_items"].as_u64().unwrap() as usize, n);
    // The same model and prompts: llama.cpp's 8-bit activations change few answers (158/160 in the
    // reference test), so the two runs agree on nearly every item.
    let agree = c["pairs"][0]["agreement"]["observed"].as_f64().unwrap();
    assert!(agree >= 0.8, "agreement {agree}");
    // Samples of another benchmark are refused, naming the first that does not match.
    let pub_samples =
        root().join("crates/eval/tests/fixtures/lm_eval_samples/samples_pubmedqa.jsonl");
    let o = bedside(&[
        "import-lm-eval",
        &path(&pub_samples),
        "--bench",
        &medqa(),
        "--model",
        "x",
        "--out",
        &path(&dir.path().join("x.jsonl")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 1") && err.contains("no item of"),
        "{err}"
    );
}

/// The folded (`- >-`) shell command after the comment line `# <marker>` in a Kubernetes manifest:
/// its lines joined with spaces, as YAML folds them.
fn k8s_command(yaml: &str, marker: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            l.trim() == format!("# {marker}") || l.trim().starts_with(&format!("# {marker}:"))
        })
        .unwrap_or_else(|| panic!("no `# {marker}` in the manifest"));
    assert_eq!(
        lines[at + 1].trim(),
        "- >-",
        "a folded command follows `# {marker}`"
    );
    let indent = |l: &str| l.len() - l.trim_start().len();
    let first = indent(lines[at + 2]);
    lines[at + 2..]
        .iter()
        .take_while(|l| !l.trim().is_empty() && indent(l) >= first)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shipped fan-out examples run here as a cluster would run them: N processes at once (Slurm array
/// tasks, Kubernetes indexed pods), then their merge step; each merged run equals one run of all items.
#[test]
fn fan_out_examples_run_in_parallel_and_merge_into_the_full_run() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3;
    let full = dir.path().join("full.jsonl");
    ok(&eval(&full, &["--limit", "6"]));
    let bin = env!("CARGO_BIN_EXE_bedside");
    let base = |c: &mut Command, runs: &std::path::Path| {
        c.current_dir(root())
            .env("BEDSIDE", bin)
            .env("MODEL", model())
            .env("BENCH", mmlu())
            .env("RUNS", runs)
            .env("EVAL_ARGS", "--limit 2")
            .env("RAYON_NUM_THREADS", "1");
    };
    let wait_all = |children: Vec<std::process::Child>| {
        for c in children {
            let o = c.wait_with_output().unwrap();
            ok(&o);
        }
    };
    // Slurm: the array's tasks at once, then the merge job.
    let slurm = dir.path().join("slurm");
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let mut c = Command::new("bash");
            c.arg("examples/slurm/eval-array.sbatch")
                .env("SLURM_ARRAY_TASK_COUNT", n.to_string())
                .env("SLURM_ARRAY_TASK_ID", i.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            base(&mut c, &slurm);
            c.spawn().unwrap()
        })
        .collect();
    wait_all(tasks);
    let mut c = Command::new("bash");
    c.arg("examples/slurm/merge.sbatch").env("N", n.to_string());
    base(&mut c, &slurm);
    ok(&c.output().unwrap());
    assert!(slurm.join("report.html").is_file());
    // Kubernetes: the indexed pods' command at once, then the merge Job's command.
    let yaml = std::fs::read_to_string(root().join("examples/k8s/eval-indexed-job.yaml")).unwrap();
    assert!(
        yaml.contains("completions: 8")
            && yaml.contains("parallelism: 8")
            && yaml.contains(r#"{ name: N, value: "8" }"#),
        "N in the manifest is its number of completions"
    );
    let (eval_cmd, merge_cmd) = (k8s_command(&yaml, "eval"), k8s_command(&yaml, "merge"));
    assert!(
        eval_cmd.contains(r#"--slice "$JOB_COMPLETION_INDEX/$N""#),
        "{eval_cmd}"
    );
    let k8s = dir.path().join("k8s");
    let pods: Vec<_> = (0..n)
        .map(|i| {
            let mut c = Command::new("sh");
            c.args(["-c", &eval_cmd])
                .env("N", n.to_string())
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            base(&mut c, &k8s);
            c.spawn().unwrap()
        })
        .collect();
    wait_all(pods);
    let mut c = Command::new("sh");
    c.args(["-c", &merge_cmd]).env("N", n.to_string());
    base(&mut c, &k8s);
    ok(&c.output().unwrap());
    // Each merged run is the full run: same items in order, same answers and scores.
    let f = lines(&full);
    for merged in [slurm.join("run.jsonl"), k8s.join("run.jsonl")] {
        let m = lines(&merged);
        assert_eq!(
            m[0]["merged_from"].as_array().unwrap().len(),
            n,
            "{}",
            merged.display()
        );
        assert_eq!(m[0]["config_hash"], f[0]["config_hash"]);
        assert_eq!(m.len(), f.len(), "{}", merged.display());
        for (a, b) in m[1..].iter().zip(&f[1..]) {
            assert_eq!(
                (&a["index"], &a["id"], &a["pred"]),
                (&b["index"], &b["id"], &b["pred"])
            );
            for (x, y) in a["scores"]
                .as_array()
                .unwrap()
                .iter()
                .zip(b["scores"].as_array().unwrap())
            {
                assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9);
            }
        }
    }
}

/// On the GPU (natively Vulkan; on CI Mesa's llvmpipe), `auto` keeps a GGUF's quantised matrices in
/// their blocks on the device, dequantised inside the kernel: the records say so, and every item is
/// the exact quantised CPU run's (same prediction, log-likelihoods within 1e-3: only the summation
/// order differs). `q8-activations` has no GPU kernel and is refused before loading.
#[cfg(feature = "wgpu")]
#[test]
fn on_the_gpu_quantised_blocks_score_as_the_exact_cpu_path() {
    let dir = tempfile::tempdir().unwrap();
    let (gpu, cpu) = (dir.path().join("gpu.jsonl"), dir.path().join("cpu.jsonl"));
    ok(&eval(&gpu, &["--limit", "3", "--backend", "wgpu"]));
    ok(&eval(&cpu, &["--limit", "3", "--precision", "quantized"]));
    let (g, c) = (lines(&gpu), lines(&cpu));
    let backend = g[0]["backend"].as_str().unwrap();
    assert!(
        backend.contains("gpu (burn-wgpu), quantized weights in GPU blocks"),
        "{backend}"
    );
    assert_eq!(g.len(), c.len());
    for (a, b) in g[1..].iter().zip(&c[1..]) {
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["pred"], b["pred"], "item {}", a["id"]);
        for (x, y) in a["scores"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["scores"].as_array().unwrap())
        {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() < 1e-3, "item {}: {x} vs {y}", a["id"]);
        }
    }
    let refused = eval(
        &dir.path().join("q8.jsonl"),
        &[
            "--limit",
            "1",
            "--backend",
            "wgpu",
            "--precision",
            "q8-activations",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("runs on the CPU only"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
