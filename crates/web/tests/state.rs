//! The app's state and its pieces, natively: jobs keep their model, benchmark and settings; messages
//! of another job never mix into a run; resume refuses another configuration; the CLI's and the
//! app's defaults give the same configuration; the runs library's keys, import and export names;
//! wrong files get one clear message; pages have addresses.

mod common;
use bedside_eval::config::{ModelRef, RunSettings};
use bedside_eval::record::RUN_FORMAT;
use bedside_eval::{ItemRecord, Method, Progress, RunHeader};
use bedside_web::jobs::{JobEvent, JobSpec, JobStatus};
use bedside_web::library::{self, ModelSource};
use bedside_web::protocol::{BackendChoice, BenchFiles, FromWorker, ModelInfo, RunSpec};
use bedside_web::runner;
use bedside_web::state::{Action, AppState, Page, View};
use common::{info, sample_files};
use std::collections::BTreeMap;
use std::rc::Rc;

fn header_for(spec: &RunSpec, model: &ModelInfo, bench: &BTreeMap<String, String>) -> RunHeader {
    let (b, h) = runner::load_bench(bench).unwrap();
    let cfg = runner::config(spec, model, &b, &h).unwrap();
    RunHeader {
        bedside_run: RUN_FORMAT,
        bedside_version: "test".into(),
        config_hash: cfg.hash(),
        config: cfg,
        slice: None,
        planned_items: 3,
        backend: "cpu".into(),
        merged_from: Vec::new(),
    }
}

fn record(id: &str, index: usize, correct: bool) -> ItemRecord {
    serde_json::from_value(serde_json::json!({
        "index": index, "id": id, "shard": "test-000.jsonl", "prompt_hash": "", "options": 4,
        "pred": if correct { 1 } else { 0 }, "gold": 1, "correct": correct, "status": "scored",
        "prompt_tokens": 1, "extra_tokens": 0, "latency_ms": 1.0,
        "presented": ["a", "b", "c", "d"], "prompt": "Question: q\nA. a\nB. b\nC. c\nD. d\nAnswer:"
    }))
    .unwrap()
}

fn job(spec: &RunSpec, bench: &BTreeMap<String, String>, model: ModelSource) -> JobSpec {
    JobSpec {
        spec: spec.clone(),
        bench: Rc::new(BenchFiles {
            name: "mmlu-medical".into(),
            files: bench.clone(),
        }),
        model,
        resume: None,
    }
}

fn progress(done: usize) -> Progress {
    Progress {
        done,
        total: 3,
        ..Default::default()
    }
}

/// The defect of issue 12: with the model and method switched while a run goes on, the run kept
/// scoring under its own configuration, but the page relabelled it and a later message of another
/// job could join it. Now a job keeps what it was queued with, and messages carry the job id.
#[test]
fn a_job_keeps_its_model_and_settings_and_never_mixes_records() {
    let bench = sample_files("mmlu-medical");
    let smol = info("SmolLM2", "aaa");
    let mut s = AppState::default();
    s.apply(Action::Worker(FromWorker::Ready, 0.0));
    s.apply(Action::Enqueue(job(
        &s.spec.clone(),
        &bench,
        ModelSource::Bundled,
    )));
    let first = s.jobs.next_queued().unwrap().id;
    s.apply(Action::Job(JobEvent::Starting(first)));
    assert!(s.busy());
    let h1 = header_for(&s.spec, &smol, &bench);
    s.apply(Action::Worker(
        FromWorker::Header {
            job: first,
            header: h1.clone(),
            total: 3,
        },
        1.0,
    ));
    s.apply(Action::Worker(
        FromWorker::Record {
            job: first,
            record: record("a", 0, true),
            progress: progress(1),
        },
        2.0,
    ));
    // Mid-run the user switches the model, the method and the backend on the Run page.
    let mut letter = s.spec.clone();
    letter.settings.method = Method::Letter;
    s.apply(Action::Spec(letter.clone()));
    s.apply(Action::ModelChosen(ModelSource::Stored(
        "gemma.gguf".into(),
    )));
    s.apply(Action::Backend(BackendChoice::Gpu));
    assert_eq!(
        s.backend,
        BackendChoice::Auto,
        "the backend is fixed while a run is in progress"
    );
    let j = s.jobs.get(first).unwrap();
    assert_eq!(j.what.model, ModelSource::Bundled);
    assert_eq!(j.what.spec.settings.method, Method::Loglik);
    // A second run is queued with the new choices; it waits.
    s.apply(Action::Enqueue(job(
        &letter,
        &bench,
        ModelSource::Stored("gemma.gguf".into()),
    )));
    let second = s.jobs.list[1].id;
    assert!(s.jobs.next_queued().is_none(), "one job at a time");
    // A message for a job that is not running is ignored.
    s.apply(Action::Worker(
        FromWorker::Record {
            job: second,
            record: record("x", 9, false),
            progress: progress(1),
        },
        3.0,
    ));
    s.apply(Action::Worker(
        FromWorker::Record {
            job: first,
            record: record("b", 1, false),
            progress: progress(2),
        },
        3.0,
    ));
    s.apply(Action::Worker(
        FromWorker::Done {
            job: first,
            cancelled: false,
        },
        4.0,
    ));
    assert_eq!(s.jobs.get(first).unwrap().status, JobStatus::Finished);
    let ids: Vec<_> = s
        .jobs
        .get(first)
        .unwrap()
        .records
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(s.jobs.get(second).unwrap().records.is_empty());
    // The results shown are the first job's, labelled with its own header.
    let (h, recs, _) = s.shown().unwrap();
    assert_eq!(h.config.method, Method::Loglik);
    assert_eq!(recs.len(), 2);
    // The second job starts next; a late message of the first changes nothing.
    assert_eq!(s.jobs.next_queued().unwrap().id, second);
    s.apply(Action::Job(JobEvent::Starting(second)));
    s.apply(Action::Worker(
        FromWorker::Record {
            job: first,
            record: record("c", 2, true),
            progress: progress(3),
        },
        5.0,
    ));
    assert_eq!(s.jobs.get(first).unwrap().records.len(), 2);
}

#[test]
fn refusals_and_load_failures_are_reported_not_swallowed() {
    let bench = sample_files("mmlu-medical");
    let mut s = AppState::default();
    s.apply(Action::Enqueue(job(
        &RunSpec::default(),
        &bench,
        ModelSource::Stored("gone.gguf".into()),
    )));
    let id = s.jobs.list[0].id;
    s.apply(Action::Job(JobEvent::Starting(id)));
    s.apply(Action::ModelLoading(ModelSource::Stored(
        "gone.gguf".into(),
    )));
    s.apply(Action::Worker(
        FromWorker::Error {
            message: "gone.gguf: not found".into(),
        },
        0.0,
    ));
    assert!(
        matches!(&s.jobs.get(id).unwrap().status, JobStatus::Failed(m) if m.contains("not found"))
    );
    assert!(!s.busy());
    s.apply(Action::Worker(
        FromWorker::Busy {
            message: "a run is in progress".into(),
        },
        0.0,
    ));
    assert_eq!(s.notice.as_deref(), Some("a run is in progress"));
    assert!(s.model.loading.is_none());
    // Queued jobs can be removed; a running one cannot be removed (it is cancelled instead).
    s.apply(Action::Enqueue(job(
        &RunSpec::default(),
        &bench,
        ModelSource::Bundled,
    )));
    let q = s.jobs.list.last().unwrap().id;
    assert!(s.jobs.clone().apply(JobEvent::Remove(q)));
    s.apply(Action::Job(JobEvent::Starting(q)));
    assert!(!s.jobs.clone().apply(JobEvent::Remove(q)));
}

/// A resumed run is checked against the configuration it was made with: the worker refuses another
/// (the app used to append Gemma/letter records to a SmolLM2/loglik run).
#[test]
fn resume_refuses_another_configuration() {
    let bench = sample_files("mmlu-medical");
    let (b, h) = runner::load_bench(&bench).unwrap();
    let smol = info("SmolLM2", "aaa");
    let gemma = info("Gemma", "bbb");
    let spec = RunSpec::default();
    let old = runner::config(&spec, &smol, &b, &h).unwrap();
    let prev = vec![record("x", 0, true)];
    let ok = runner::ActiveRun::start(&spec, &smol, &b, &h, &prev, "cpu", Some(&old));
    assert!(ok.is_ok());
    let mut letter = spec.clone();
    letter.settings.method = Method::Letter;
    for (s, m) in [(&spec, &gemma), (&letter, &smol)] {
        let e = runner::ActiveRun::start(s, m, &b, &h, &prev, "cpu", Some(&old))
            .err()
            .unwrap();
        assert!(e.starts_with("not resumed"), "{e}");
        assert!(e.contains("model") || e.contains("method"), "{e}");
    }
}

/// One builder: the app's default spec and the engine's default settings (which the CLI's defaults
/// equal, tested in the CLI) give the same configuration and hash.
#[test]
fn the_app_and_the_engine_build_the_same_configuration() {
    let bench = sample_files("pubmedqa");
    let (b, h) = runner::load_bench(&bench).unwrap();
    let m = info("SmolLM2", "aaa");
    let spec = RunSpec::default();
    assert_eq!(spec.settings, RunSettings::default());
    let app = runner::config(&spec, &m, &b, &h).unwrap();
    let engine = RunSettings::default()
        .build(
            ModelRef {
                name: m.name.clone(),
                file: m.file.clone(),
                sha256: m.sha256.clone(),
            },
            &b,
            &h,
        )
        .unwrap();
    assert_eq!(app.hash(), engine.hash());
    // Settings saved by an older app (flat fields) still read.
    let old: RunSpec = serde_json::from_str(r#"{"method":"letter","format":"auto","shots":2,"chat":true,"limit":5,"split":"test","probes":[]}"#).unwrap();
    assert_eq!(
        (
            old.settings.method,
            old.settings.shots,
            old.settings.chat,
            old.limit
        ),
        (Method::Letter, 2, true, Some(5))
    );
}

#[test]
fn library_keys_import_and_export_names() {
    let bench = sample_files("mmlu-medical");
    let h = header_for(&RunSpec::default(), &info("SmolLM2", "aaa"), &bench);
    // Records sort by their position in the evaluation order.
    assert!(library::record_key("h", 9) < library::record_key("h", 10));
    assert!(library::record_key("h", 10).starts_with(&library::records_prefix("h")));
    let text = library::run_file(&h, &[record("a", 0, true), record("b", 1, false)]);
    let (meta, recs) = library::import("run.jsonl", text.as_bytes(), 5.0).unwrap();
    assert_eq!(meta.header, h);
    assert_eq!(recs.len(), 2);
    assert_eq!(meta.imported.as_deref(), Some("run.jsonl"));
    assert!(!meta.finished, "2 of 3 planned items");
    let summary = library::RunSummary::new(meta, &recs);
    assert_eq!((summary.done, summary.correct, summary.answered), (2, 1, 2));
    assert!(
        !summary.resumable(),
        "an imported run has no model or benchmark here"
    );
    let e =
        library::import("items.jsonl", b"{\"id\":\"1\",\"question\":\"q\"}\n", 0.0).unwrap_err();
    assert!(e.contains("not a Bedside run file"), "{e}");
    let mut h2 = h.clone();
    h2.config.method = Method::Letter;
    h2.config.chat = true;
    h2.config.probes = vec![bedside_eval::config::Probe::Shuffle { k: 1 }];
    assert_eq!(
        library::export_stem(&h2),
        "bedside-SmolLM2-mmlu-medical-sample-letter-chat-shuffle"
    );
}

#[test]
fn wrong_files_get_one_clear_message() {
    let mut files = BTreeMap::new();
    files.insert(
        "questions.csv".to_string(),
        "id,question,a,b\n1,q,x,y\n2,q,x,y\n".to_string(),
    );
    let e = runner::load_bench(&files).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("CSV") && e[0].contains("bedside convert"),
        "{}",
        e[0]
    );
    let mut files = BTreeMap::new();
    files.insert(
        "items.jsonl".to_string(),
        "id,question,a\n1,q,x\n".to_string(),
    );
    let e = runner::load_bench(&files).unwrap_err();
    assert!(e[0].contains("looks like CSV"), "{e:?}");
    let mut files = BTreeMap::new();
    files.insert("run.jsonl".to_string(), "{\"bedside_run\":1}\n".to_string());
    assert!(runner::load_bench(&files).unwrap_err()[0].contains("Runs page"));
    assert!(runner::is_software_adapter(
        "google swiftshader SwiftShader Device (Subzero)"
    ));
    assert!(!runner::is_software_adapter(
        "nvidia ampere NVIDIA GeForce RTX 3060"
    ));
}

#[test]
fn pages_have_addresses_and_stored_runs_show() {
    for p in Page::ALL {
        assert_eq!(Page::from_hash(&p.hash()), p);
    }
    assert_eq!(Page::from_hash(""), Page::Run);
    assert_eq!(Page::from_hash("#/nonsense"), Page::Run);
    let bench = sample_files("mmlu-medical");
    let h = header_for(&RunSpec::default(), &info("SmolLM2", "aaa"), &bench);
    let text = library::run_file(&h, &[record("a", 0, true)]);
    let (meta, recs) = library::import("run.jsonl", text.as_bytes(), 5.0).unwrap();
    let mut s = AppState::default();
    s.apply(Action::View(Some(View::Stored {
        meta,
        records: Rc::new(recs),
    })));
    let (shown, records, total) = s.shown().unwrap();
    assert_eq!(
        (shown.config_hash, records.len(), total),
        (h.config_hash, 1, 3)
    );
}

/// A lesson's two runs differ in the probe alone, are found among jobs (then in the library), and a
/// finished lesson run keeps the Lab page (the Run page's runs open in Results).
#[test]
fn lesson_runs_are_twins_found_again_and_stay_on_the_lab_page() {
    use bedside_eval::lessons::LESSONS;
    use bedside_web::lab::{self, Found};
    let bench = sample_files("mmlu-medical");
    let l = &LESSONS[0];
    let (plain, probed) = (lab::spec(l, false, 3), lab::spec(l, true, 3));
    assert_eq!(probed.settings.probes, vec![l.probe().unwrap()]);
    let mut again = probed.settings.clone();
    again.probes.clear();
    assert_eq!(again, plain.settings, "the twins differ in the probe alone");
    let smol = info("SmolLM2", "aaa");
    let (hp, hq) = (
        header_for(&plain, &smol, &bench),
        header_for(&probed, &smol, &bench),
    );
    assert_ne!(hp.config_hash, hq.config_hash);

    let mut s = AppState::default();
    s.apply(Action::Worker(FromWorker::Ready, 0.0));
    s.apply(Action::Go(Page::Lab));
    for spec in [&plain, &probed] {
        s.apply(Action::Enqueue(job(spec, &bench, ModelSource::Bundled)));
    }
    let find = |s: &AppState, spec: &RunSpec, model: &ModelSource| {
        lab::find(&s.jobs, &s.library, "mmlu-medical", model, &spec.settings)
    };
    let (jp, jq) = (s.jobs.list[0].id, s.jobs.list[1].id);
    assert_eq!(
        find(&s, &plain, &ModelSource::Bundled),
        Some(Found::Job(jp))
    );
    assert_eq!(
        find(&s, &probed, &ModelSource::Bundled),
        Some(Found::Job(jq))
    );
    assert_eq!(
        find(&s, &plain, &ModelSource::Stored("other.gguf".into())),
        None,
        "another model's runs are not this lesson's"
    );
    for (id, h) in [(jp, &hp), (jq, &hq)] {
        s.apply(Action::Job(JobEvent::Starting(id)));
        s.apply(Action::Worker(
            FromWorker::Header {
                job: id,
                header: h.clone(),
                total: 1,
            },
            1.0,
        ));
        s.apply(Action::Worker(
            FromWorker::Record {
                job: id,
                record: record("a", 0, true),
                progress: progress(1),
            },
            2.0,
        ));
        s.apply(Action::Worker(
            FromWorker::Done {
                job: id,
                cancelled: false,
            },
            3.0,
        ));
    }
    assert_eq!(s.page, Page::Lab, "a lesson's result shows on the Lab page");

    // After a reload the library has them.
    let meta = |h: &RunHeader, spec: &RunSpec, created: f64| library::RunMeta {
        header: h.clone(),
        bench_name: "mmlu-medical".into(),
        bench_files: None,
        model: Some(ModelSource::Bundled),
        spec: Some(spec.clone()),
        total: 1,
        finished: true,
        created_ms: created,
        imported: None,
    };
    let mut fresh = AppState::default();
    fresh.apply(Action::Library(vec![
        library::RunSummary::new(meta(&hp, &plain, 1.0), &[record("a", 0, true)]),
        library::RunSummary::new(meta(&hq, &probed, 2.0), &[record("a", 0, true)]),
    ]));
    assert_eq!(
        find(&fresh, &probed, &ModelSource::Bundled),
        Some(Found::Stored(hq.config_hash.clone()))
    );
    assert_eq!(
        find(&fresh, &plain, &ModelSource::Bundled),
        Some(Found::Stored(hp.config_hash.clone()))
    );
}

/// A model loaded with Auto counts as loaded for the device Auto took (choosing CPU after Auto took the
/// CPU reloads nothing, and keeps the CPU workers already loaded); not for the other device, nor for
/// another model.
#[test]
fn auto_satisfies_the_device_it_took() {
    use bedside_web::state::ModelState;
    let mut m = ModelState::default();
    let mut on_cpu = info("SmolLM2", "aaa");
    m.loaded = Some((ModelSource::Bundled, BackendChoice::Auto, on_cpu.clone()));
    assert!(m.is_loaded(&ModelSource::Bundled, BackendChoice::Auto));
    assert!(m.is_loaded(&ModelSource::Bundled, BackendChoice::Cpu));
    assert!(!m.is_loaded(&ModelSource::Bundled, BackendChoice::Gpu));
    on_cpu.on_gpu = true;
    m.loaded = Some((ModelSource::Bundled, BackendChoice::Auto, on_cpu.clone()));
    assert!(m.is_loaded(&ModelSource::Bundled, BackendChoice::Gpu));
    assert!(!m.is_loaded(&ModelSource::Bundled, BackendChoice::Cpu));
    // Chosen explicitly, a choice holds only for itself.
    m.loaded = Some((
        ModelSource::Bundled,
        BackendChoice::Cpu,
        info("SmolLM2", "aaa"),
    ));
    assert!(!m.is_loaded(&ModelSource::Bundled, BackendChoice::Auto));
    assert!(!m.is_loaded(&ModelSource::Bundled, BackendChoice::Gpu));
    let other = ModelSource::Stored("other.gguf".into());
    assert!(!m.is_loaded(&other, BackendChoice::Cpu));
}
