//! Every importer on the real files under ../shared/datasets (set BEDSIDE_SHARED to point elsewhere):
//! the converted benchmark must pass `validate`, and counts/answers must match the source.

use bedside_bench::importers::{
    import, AnswerFormat, FieldMap, Format, ImportOptions, Imported, InputFile,
};
use bedside_bench::writer::build_benchmark;
use bedside_bench::{validate, Answer, Benchmark, ValidateOptions};
use std::path::PathBuf;

fn shared() -> PathBuf {
    let p = std::env::var_os("BEDSIDE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("datasets").is_dir(),
        "real datasets not found at {}; set BEDSIDE_SHARED to the shared/ folder",
        p.display()
    );
    p.join("datasets")
}

fn input(rel: &str) -> InputFile {
    let path = shared().join(rel);
    InputFile::new(
        path.file_name().unwrap().to_string_lossy(),
        std::fs::read(&path).unwrap(),
    )
}

fn fixture(name: &str) -> InputFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    InputFile::new(name, std::fs::read(path).unwrap())
}

/// Import, shard, write and validate; return both halves.
fn convert(format: Format, inputs: &[InputFile], opts: &ImportOptions) -> (Imported, Benchmark) {
    let imported = import(format, inputs, opts).unwrap();
    let splits: Vec<(&str, Vec<_>)> = imported
        .splits
        .iter()
        .map(|(s, v)| (s.as_str(), v.clone()))
        .collect();
    let built = build_benchmark(&imported.info, &splits, 250).unwrap();
    let (bench, problems, _) = validate(&built.to_files(), &ValidateOptions::default());
    assert!(
        !problems.has_errors(),
        "{format}: converted benchmark does not validate:\n{problems}"
    );
    (imported, bench.unwrap())
}

fn split_len(b: &Benchmark, split: &str) -> usize {
    b.items_in_split(split).count()
}

#[test]
fn medqa_five_and_four_options() {
    let (imp, b) = convert(
        Format::Medqa,
        &[
            input("medqa_usmle/test.jsonl"),
            input("medqa_usmle/dev.jsonl"),
        ],
        &ImportOptions::default(),
    );
    assert_eq!((split_len(&b, "test"), split_len(&b, "dev")), (1273, 1272));
    assert_eq!(imp.skipped.total(), 0, "{:?}", imp.skipped);
    let first = &b.shards[0].items[0].item;
    assert_eq!(first.options.len(), 5);
    assert_eq!(first.answer, Answer::Index(2)); // answer_idx "C"
    assert_eq!(
        first.options[2],
        "Tell the attending that he cannot fail to disclose this mistake"
    );
    assert_eq!(first.meta["meta_info"], "step1");
    assert_eq!(b.manifest.license, "MIT");

    let (_, b4) = convert(
        Format::Medqa,
        &[input("medqa_usmle/4_options/phrases_no_exclude_test.jsonl")],
        &ImportOptions::default(),
    );
    assert_eq!(b4.len(), 1273);
    assert!(b4.all_items().all(|(_, li)| li.item.options.len() == 4));
    assert!(b4
        .all_items()
        .all(|(_, li)| li.item.meta.contains_key("metamap_phrases")));
    assert_eq!(b4.shards.len(), 6); // 250 per shard
}

#[test]
fn medmcqa_stripped_form() {
    let (imp, b) = convert(
        Format::Medmcqa,
        &[input("medmcqa/validation.jsonl")],
        &ImportOptions::default(),
    );
    assert_eq!(imp.converted() + imp.skipped.total(), 4183);
    assert_eq!(split_len(&b, "validation"), imp.converted());
    // Rows are only skipped for real defects (e.g. two identical options), never silently.
    for reason in imp.skipped.by_reason.keys() {
        assert!(
            reason.contains("duplicate") || reason.contains("empty"),
            "unexpected skip reason: {reason}"
        );
    }
    let first = &b.shards[0].items[0].item;
    assert_eq!(
        first.options[0],
        "Impulse through myelinated fibers is slower than non-myelinated fibers"
    ); // "A. " removed
    assert_eq!(first.answer, Answer::Index(0));
}

#[test]
fn medmcqa_original_layout_and_cop_numbering() {
    let fx = fixture("medmcqa_original_format.jsonl");
    let (imp, b) = convert(
        Format::Medmcqa,
        std::slice::from_ref(&fx),
        &ImportOptions {
            split: Some("test".into()),
            ..Default::default()
        },
    );
    assert!(
        imp.notes.iter().any(|n| n.contains("0-based (detected)")),
        "{:?}",
        imp.notes
    );
    let stripped = import(
        Format::Medmcqa,
        &[input("medmcqa/validation.jsonl")],
        &ImportOptions::default(),
    )
    .unwrap();
    let reference = &stripped.splits[0].1;
    for (_, li) in b.all_items() {
        let row: usize = li
            .item
            .id
            .trim_start_matches("medmcqa-val-")
            .parse()
            .unwrap();
        assert_eq!(li.item.options, reference[row].options);
        assert_eq!(li.item.answer, reference[row].answer, "item {}", li.item.id);
    }
    // The same rows with a 1-based `cop` (the original release) give the same answers.
    let shifted: String = String::from_utf8(fx.bytes.clone())
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["cop"] = (v["cop"].as_u64().unwrap() + 1).into();
            v.to_string() + "\n"
        })
        .collect();
    let one = import(
        Format::Medmcqa,
        &[InputFile::new("x.jsonl", shifted.into_bytes())],
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(
        one.notes.iter().any(|n| n.contains("1-based (detected)")),
        "{:?}",
        one.notes
    );
    let answers = |i: &Imported| {
        i.splits[0]
            .1
            .iter()
            .map(|x| x.answer.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        answers(&one),
        b.all_items()
            .map(|(_, li)| li.item.answer.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn pubmedqa_with_test_split() {
    let (imp, b) = convert(
        Format::Pubmedqa,
        &[
            input("pubmedqa/ori_pqal.json"),
            input("pubmedqa/test_ground_truth.json"),
        ],
        &ImportOptions::default(),
    );
    assert_eq!(imp.skipped.total(), 0);
    assert_eq!((split_len(&b, "test"), split_len(&b, "train")), (500, 500));
    let mut by_answer = [0usize; 3];
    for (_, li) in b.all_items() {
        by_answer[li.item.answer.index().unwrap()] += 1;
        assert!(li.item.context.as_ref().is_some_and(|c| c.len() > 100));
    }
    assert_eq!(by_answer, [552, 338, 110]);
    assert_eq!(b.manifest.task.as_str(), "yes_no_maybe");
    // The ground truth file agrees with final_decision on every test item.
    let gt: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&input("pubmedqa/test_ground_truth.json").bytes).unwrap();
    for (_, li) in b.items_in_split("test") {
        assert_eq!(
            gt[&li.item.id].as_str().unwrap(),
            li.item.options[li.item.answer.index().unwrap()]
        );
    }
}

#[test]
fn mmlu_csv_with_header_and_headerless() {
    let subjects = [
        "anatomy",
        "clinical_knowledge",
        "college_biology",
        "college_medicine",
        "medical_genetics",
        "professional_medicine",
    ];
    let mut inputs: Vec<InputFile> = subjects
        .iter()
        .map(|s| input(&format!("mmlu_medical/test/{s}_test.csv")))
        .collect();
    inputs.extend(
        subjects
            .iter()
            .map(|s| input(&format!("mmlu_medical/dev/{s}_dev.csv"))),
    );
    let (imp, b) = convert(Format::MmluCsv, &inputs, &ImportOptions::default());
    assert_eq!(imp.skipped.total(), 0, "{:?}", imp.skipped);
    assert_eq!(split_len(&b, "test"), 135 + 265 + 144 + 173 + 100 + 272);
    assert_eq!(split_len(&b, "dev"), 30);
    let anatomy: Vec<_> = b
        .items_in_split("test")
        .filter(|(_, li)| li.item.subject.as_deref() == Some("anatomy"))
        .map(|(_, li)| li.item.clone())
        .collect();
    assert_eq!(anatomy.len(), 135);
    assert_eq!(anatomy[1].answer, Answer::Index(1));

    // Original headerless layout with letter answers: same items.
    let (_, hb) = convert(
        Format::MmluCsv,
        &[fixture("anatomy_test.csv")],
        &ImportOptions::default(),
    );
    let h: Vec<_> = hb
        .all_items()
        .map(|(_, li)| (&li.item.question, &li.item.options, &li.item.answer))
        .collect();
    assert_eq!(h.len(), 8);
    for (x, y) in h.iter().zip(&anatomy) {
        assert_eq!((x.0, x.1, x.2), (&y.question, &y.options, &y.answer));
    }
}

#[test]
fn mmlu_pro_health_mixed_option_counts() {
    let (imp, b) = convert(
        Format::MmluPro,
        &[input("mmlu_pro_health/health.jsonl")],
        &ImportOptions::default(),
    );
    assert_eq!(imp.converted() + imp.skipped.total(), 818);
    assert!(imp.skipped.total() < 10, "{:?}", imp.skipped);
    let counts: std::collections::BTreeSet<usize> =
        b.all_items().map(|(_, li)| li.item.options.len()).collect();
    assert!(
        counts.len() > 3 && *counts.iter().max().unwrap() == 10,
        "{counts:?}"
    );
}

#[test]
fn mmlu_redux_keeps_error_labels() {
    let files = std::fs::read_dir(shared().join("mmlu_redux")).unwrap();
    let mut inputs: Vec<InputFile> = files
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            InputFile::new(
                p.file_name().unwrap().to_string_lossy(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let (imp, b) = convert(Format::MmluRedux, &inputs, &ImportOptions::default());
    assert_eq!(
        imp.converted() + imp.skipped.total(),
        900,
        "{:?}",
        imp.skipped
    );
    let flagged = b
        .all_items()
        .filter(|(_, li)| li.item.meta.get("error_type").and_then(|v| v.as_str()) != Some("OK"))
        .count();
    assert!(
        flagged > 50,
        "MMLU-Redux should carry flawed-item labels, found {flagged}"
    );
}

#[test]
fn generic_csv_and_jsonl_with_field_maps() {
    // Generic CSV on the MMLU copy reproduces the dedicated importer.
    let map = FieldMap::parse(
        &["options=choice0,choice1,choice2,choice3".into()],
        AnswerFormat::Index0,
    )
    .unwrap();
    let (imp, b) = convert(
        Format::Csv,
        &[input("mmlu_medical/test/anatomy_test.csv")],
        &ImportOptions {
            map,
            ..Default::default()
        },
    );
    assert_eq!(imp.converted(), 135);
    let (_, m) = convert(
        Format::MmluCsv,
        &[input("mmlu_medical/test/anatomy_test.csv")],
        &ImportOptions::default(),
    );
    for ((_, x), (_, y)) in b.all_items().zip(m.all_items()) {
        assert_eq!(
            (&x.item.question, &x.item.options, &x.item.answer),
            (&y.item.question, &y.item.options, &y.item.answer)
        );
    }
    // Generic JSONL on MedQA: options as a {letter: text} object are not a list, so map the answer text.
    let map = FieldMap::parse(
        &["options=choices".into(), "answer=answer".into()],
        AnswerFormat::Auto,
    )
    .unwrap();
    let (imp, b) = convert(
        Format::Jsonl,
        &[input("medmcqa/validation.jsonl")],
        &ImportOptions {
            map,
            ..Default::default()
        },
    );
    assert_eq!(imp.converted() + imp.skipped.total(), 4183);
    assert_eq!(
        b.shards[0].items[0].item.options[0],
        "A. Impulse through myelinated fibers is slower than non-myelinated fibers"
    );
    // A mapped column that does not exist is a per-row skip with the column named.
    let map = FieldMap::parse(&["question=stem".into()], AnswerFormat::Auto).unwrap();
    let imp = import(
        Format::Jsonl,
        &[input("medmcqa/validation.jsonl")],
        &ImportOptions {
            map,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(imp.converted(), 0);
    assert!(
        imp.skipped.by_reason.keys().any(|r| r.contains("`stem`")),
        "{:?}",
        imp.skipped.by_reason
    );
}
