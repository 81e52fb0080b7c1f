//! The data shapes people have (issue 16), each built from real items by `scripts/make_shape_fixtures.py`
//! (files under tests/fixtures/shapes, provenance in its README): every shape converts through the
//! generic importer with the suggested (`inspect`) or explicit mapping, validates, and gives the same
//! questions, options and answers as the original dataset rows under ../shared/datasets.

use bedside_bench::importers::{
    import, inspect, AnswerFormat, FieldMap, Format, IdTemplate, ImportOptions, Imported,
    InputFile, RecordPath,
};
use bedside_bench::writer::build_benchmark;
use bedside_bench::{validate, Answer, Benchmark, Item, Task, ValidateOptions};
use serde_json::Value;
use std::path::PathBuf;

fn shapes(name: &str) -> InputFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shapes")
        .join(name);
    InputFile::new(name, std::fs::read(path).unwrap())
}

fn shared(rel: &str) -> String {
    let p = std::env::var_os("BEDSIDE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    std::fs::read_to_string(p.join("datasets").join(rel)).unwrap()
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn map(pairs: &[&str]) -> FieldMap {
    let v: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
    FieldMap::parse(&v, AnswerFormat::Auto).unwrap()
}

/// Convert, build, validate; the items of the test split.
fn convert(format: Format, input: &InputFile, opts: &ImportOptions) -> (Imported, Vec<Item>) {
    let imported = import(format, std::slice::from_ref(input), opts).unwrap();
    let splits: Vec<(&str, Vec<_>)> = imported
        .splits
        .iter()
        .map(|(s, v)| (s.as_str(), v.clone()))
        .collect();
    let built = build_benchmark(&imported.info, &splits, 250).unwrap();
    let (bench, problems, _) = validate(&built.to_files(), &ValidateOptions::default());
    assert!(!problems.has_errors(), "{}: {problems}", input.name);
    let bench: Benchmark = bench.unwrap();
    let items = bench
        .items_in_split("test")
        .map(|(_, li)| li.item.clone())
        .collect();
    (imported, items)
}

/// The suggestion of `inspect`, converted.
fn suggested(name: &str) -> (bedside_bench::importers::Inspection, Vec<Item>) {
    let input = shapes(name);
    let insp = inspect(&input, None).unwrap();
    let (imp, items) = convert(
        Format::guess(&input.name, &input.bytes),
        &input,
        &insp.options(),
    );
    assert_eq!(imp.skipped.total(), 0, "{name}: {:?}", imp.skipped);
    assert_eq!(insp.converts, items.len());
    (insp, items)
}

#[test]
fn a_json_array_of_medqa_records() {
    let (insp, items) = suggested("array.json");
    assert!(insp.shape.contains("array of records"), "{}", insp.shape);
    let src = jsonl(&shared(
        "medqa_usmle/4_options/phrases_no_exclude_test.jsonl",
    ));
    assert_eq!(items.len(), 12);
    for (item, s) in items.iter().zip(&src) {
        assert_eq!(item.question, s["question"].as_str().unwrap());
        let letters: Vec<String> = ["A", "B", "C", "D"]
            .iter()
            .map(|l| s["options"][l].as_str().unwrap().to_string())
            .collect();
        assert_eq!(item.options, letters);
        let gold = (s["answer_idx"].as_str().unwrap().as_bytes()[0] - b'A') as usize;
        assert_eq!(item.answer, Answer::Index(gold), "{}", item.question);
    }
    // The medqa importer reads the same array too.
    let (_, again) = convert(
        Format::Medqa,
        &shapes("array.json"),
        &ImportOptions::default(),
    );
    assert_eq!(again.len(), 12);
}

fn redux_rows(subject: &str) -> Vec<(String, Vec<String>, usize, String, String)> {
    let text = shared(&format!("mmlu_redux/mmlu_{subject}.csv"));
    let header = text.lines().next().unwrap();
    let delim = if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let choices: Vec<String> = serde_json::from_str(&r[1])
                .or_else(|_| serde_json::from_str(&r[1].replace('\'', "\"")))
                .unwrap_or_default();
            (
                r[0].to_string(),
                choices,
                r[2].parse().unwrap(),
                r[3].to_lowercase().replace([' ', '-'], "_"),
                r[5].to_string(),
            )
        })
        .collect()
}

#[test]
fn nested_sections_with_options_as_objects_and_several_answers() {
    let (insp, items) = suggested("nested_sections.json");
    assert_eq!(
        insp.records_path.as_deref(),
        Some("sections.{section}.questions")
    );
    assert_eq!(insp.task, Task::McqMulti);
    assert_eq!(insp.id.as_deref(), Some("{section}-{n}"));
    assert!(insp
        .map
        .contains(&("options".into(), "options[n].text".into())));
    assert!(insp.map.contains(&("subject".into(), "..topic".into())));
    assert_eq!(items.len(), 15);
    // Question numbers repeat across sections; the template keeps ids distinct.
    assert_eq!(items[0].id, "virology-1");
    assert!(items.iter().any(|i| i.id == "anatomy-1"));
    // Every item against its MMLU-Redux row: options back in their original order, answers as sets.
    let mut multi = 0;
    for item in &items {
        let subject = item.id.split('-').next().unwrap();
        let row = redux_rows(subject)
            .into_iter()
            .find(|r| r.0.trim() == item.question)
            .unwrap_or_else(|| panic!("{} not in MMLU-Redux {subject}", item.question));
        let opts: Vec<String> = row.1.iter().map(|o| o.trim().to_string()).collect();
        assert_eq!(item.options, opts, "{}", item.id);
        let Answer::Indices(set) = &item.answer else {
            panic!("{}: not a set", item.id)
        };
        if row.3.starts_with("multiple") {
            multi += 1;
            let want: Vec<usize> = row
                .4
                .split(',')
                .map(|l| (l.trim().as_bytes()[0] - b'A') as usize)
                .collect();
            assert_eq!(set, &want, "{}", item.id);
        } else {
            assert_eq!(set, &vec![row.2], "{}", item.id);
        }
    }
    assert_eq!(multi, 4);
    assert_eq!(items[0].subject.as_deref(), Some("Virology"));
}

#[test]
fn a_wrong_record_path_names_what_is_there() {
    let opts = ImportOptions {
        records: Some(RecordPath::parse("sections.*.items").unwrap()),
        ..ImportOptions::default()
    };
    let e = import(Format::Json, &[shapes("nested_sections.json")], &opts).unwrap_err();
    assert!(
        e.contains("no key `items`") && e.contains("questions"),
        "{e}"
    );
}

#[test]
fn repeated_ids_are_reported_with_both_places_and_a_hint() {
    let opts = ImportOptions {
        map: map(&[
            "question=text",
            "options=options[n].text",
            "answer=answers",
            "id=n",
        ]),
        task: Some(Task::McqMulti),
        ..ImportOptions::default()
    };
    let imp = import(Format::Json, &[shapes("nested_sections.json")], &opts).unwrap();
    assert_eq!(imp.converted(), 5, "one item per question number");
    let e = &imp.skipped.examples[0];
    assert!(
        e.contains("duplicate id \"1\"")
            && e.contains("first at nested_sections.json:sections.virology.questions[0]")
            && e.contains("--id"),
        "{e}"
    );
    // With a template they are distinct.
    let opts = ImportOptions {
        id: Some(IdTemplate::parse("{section}-{n}").unwrap()),
        ..opts
    };
    assert_eq!(
        import(Format::Json, &[shapes("nested_sections.json")], &opts)
            .unwrap()
            .converted(),
        15
    );
}

#[test]
fn several_answers_need_the_multi_task() {
    let opts = ImportOptions {
        map: map(&["question=text", "options=options[n].text", "answer=answers"]),
        task: Some(Task::Mcq),
        ..ImportOptions::default()
    };
    let imp = import(Format::Json, &[shapes("nested_sections.json")], &opts).unwrap();
    assert_eq!(
        imp.converted(),
        11,
        "the 4 multi-answer items are refused as mcq"
    );
    assert!(
        imp.skipped.examples[0].contains("--task mcq_multi"),
        "{:?}",
        imp.skipped.examples
    );
}

#[test]
fn options_keyed_by_letter_or_number_and_options_as_objects() {
    let (_, items) = suggested("options_letter_keyed.jsonl");
    let health = jsonl(&shared("mmlu_pro_health/health.jsonl"));
    for item in &items {
        let src = health
            .iter()
            .find(|h| h["question"].as_str().map(str::trim) == Some(item.question.as_str()))
            .unwrap();
        let opts: Vec<String> = src["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().trim().to_string())
            .collect();
        assert_eq!(item.options, opts);
        assert_eq!(
            item.answer,
            Answer::Index(src["answer_index"].as_u64().unwrap() as usize)
        );
        assert_eq!(item.id, src["question_id"].to_string());
    }

    // 1-based numbers as keys; the answer is a key (an option id), so 1 is the first option.
    let (_, items) = suggested("options_number_keyed.jsonl");
    let csv_text = shared("mmlu_medical/test/anatomy_test.csv");
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    for (item, r) in items.iter().zip(rdr.records()) {
        let r = r.unwrap();
        assert_eq!(item.question, r[0].trim());
        assert_eq!(
            item.options,
            (1..5).map(|i| r[i].trim().to_string()).collect::<Vec<_>>()
        );
        assert_eq!(item.answer, Answer::Index(r[5].parse().unwrap()));
    }

    // A list of {label, value} objects; the answer is the label.
    let (_, items) = suggested("options_objects.jsonl");
    let med = jsonl(&shared("medmcqa/validation.jsonl"));
    for (item, src) in items.iter().zip(&med) {
        assert_eq!(item.question, src["question"].as_str().unwrap().trim());
        assert_eq!(
            item.answer,
            Answer::Index(src["answer"].as_u64().unwrap() as usize)
        );
        assert_eq!(item.options.len(), 4);
        assert!(src["choices"][0]
            .as_str()
            .unwrap()
            .ends_with(&item.options[0]));
    }
}

#[test]
fn flat_lists_of_answers_become_mcq_multi() {
    let (insp, items) = suggested("multi.jsonl");
    assert_eq!(insp.task, Task::McqMulti);
    let src = jsonl(&String::from_utf8(shapes("multi.jsonl").bytes).unwrap());
    for (item, s) in items.iter().zip(&src) {
        let want: Vec<usize> = s["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(item.answer, Answer::Indices(want));
    }
}

#[test]
fn parquet_reads_back_the_same_records_as_json_lines() {
    let opts = ImportOptions::default();
    let (_, from_parquet) = convert(
        Format::Parquet,
        &shapes("parquet/data/test-00000-of-00001.parquet"),
        &opts,
    );
    let (_, from_jsonl) = convert(Format::Json, &shapes("parquet/same_records.jsonl"), &opts);
    assert_eq!(from_parquet.len(), 20);
    for (p, j) in from_parquet.iter().zip(&from_jsonl) {
        assert_eq!(
            (&p.question, &p.options, &p.answer),
            (&j.question, &j.options, &j.answer)
        );
        // Unmapped columns keep their values (ids differ only by the file name they are made from).
        assert_eq!(p.meta, j.meta);
    }
    // Flat columns with a missing value: the row with choice3 null has three options.
    let (insp, items) = suggested("parquet/flat_columns.parquet");
    assert_eq!(insp.shape, "Parquet");
    assert!(
        insp.map
            .contains(&("options".into(), "choice0,choice1,choice2,choice3".into())),
        "{:?}",
        insp.map
    );
    assert_eq!(items.len(), 12);
    assert_eq!(items[7].options.len(), 3);
    assert!(items
        .iter()
        .enumerate()
        .all(|(i, it)| i == 7 || it.options.len() == 4));
}

#[test]
fn nothing_converting_is_refused_with_the_reasons_and_a_hint() {
    let input = shapes("empty_match.jsonl");
    let imp = import(
        Format::Json,
        std::slice::from_ref(&input),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(imp.converted(), 0);
    let r = imp.refusal(std::slice::from_ref(&input)).unwrap();
    assert!(
        r.contains("nothing was written")
            && r.contains("3 × no question")
            && r.contains("--inspect"),
        "{r}"
    );
    // Mapped by hand, the refusal names what is still wrong: the options field is text, not a list.
    let opts = ImportOptions {
        map: map(&[
            "question=prompt_text",
            "answer=solution",
            "options=alternatives",
        ]),
        ..ImportOptions::default()
    };
    let imp = import(Format::Json, std::slice::from_ref(&input), &opts).unwrap();
    assert!(imp
        .refusal(std::slice::from_ref(&input))
        .unwrap()
        .contains("not a list"));
}

#[test]
fn pubmedqa_keyed_by_pmid_is_found_as_records() {
    // The real PubMedQA file is one JSON object keyed by PMID: the generic importer finds the records.
    let input = InputFile::new(
        "ori_pqal.json",
        shared("pubmedqa/ori_pqal.json").into_bytes(),
    );
    let insp = inspect(&input, None).unwrap();
    assert_eq!(insp.records, 1000);
    assert_eq!(insp.records_path.as_deref(), Some("{key}"));
    assert!(
        insp.map.contains(&("question".into(), "QUESTION".into())),
        "{:?}",
        insp.map
    );
}

#[test]
fn letter_lists_in_text_make_a_multi_answer_benchmark() {
    // MMLU-Redux's expert `correct_answer` column writes several answers as `A,C`.
    let input = InputFile::new(
        "mmlu_virology.csv",
        shared("mmlu_redux/mmlu_virology.csv").into_bytes(),
    );
    let opts = ImportOptions {
        map: map(&["answer=correct_answer"]),
        ..ImportOptions::default()
    };
    let imp = import(Format::Csv, std::slice::from_ref(&input), &opts).unwrap();
    assert_eq!(imp.info.task, Task::McqMulti);
    let items = &imp.splits[0].1;
    let sets: Vec<&Vec<usize>> = items
        .iter()
        .filter_map(|i| match &i.answer {
            Answer::Indices(v) if v.len() > 1 => Some(v),
            _ => None,
        })
        .collect();
    assert_eq!(
        sets,
        vec![&vec![0, 2], &vec![1, 3], &vec![1, 2], &vec![0, 1, 2]]
    );
    // Rows without an expert answer are skipped with the reason, not guessed.
    assert!(
        imp.skipped
            .by_reason
            .keys()
            .any(|r| r.contains("correct_answer")),
        "{:?}",
        imp.skipped.by_reason
    );
}
