//! Property tests: the shard parser, the manifest parser, the whole validator and every importer are fed
//! random bytes and randomly mutated valid inputs. They must never panic, and every problem they report
//! must name its file (and, for shard contents, its line).

use bedside_bench::importers::{import, Format, ImportOptions, InputFile};
use bedside_bench::shard::parse_shard;
use bedside_bench::writer::{build_benchmark, BenchmarkInfo};
use bedside_bench::{validate, Item, Manifest, Task, ValidateOptions};
use proptest::prelude::*;

fn valid_benchmark_files() -> bedside_bench::BenchmarkFiles {
    let items: Vec<Item> = (0..6)
        .map(|i| {
            let mut it = Item::choice(
                format!("id{i}"),
                format!("Which drug {i}?"),
                vec![
                    "Aspirin 81 mg".into(),
                    "Heparin".into(),
                    "Warfarin".into(),
                    "None".into(),
                ],
                i % 4,
            );
            it.subject = Some("pharmacology".into());
            it
        })
        .collect();
    build_benchmark(&BenchmarkInfo::new("t", Task::Mcq), &[("test", items)], 4)
        .unwrap()
        .to_files()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
}

fn mutate(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip(i, x) if !bytes.is_empty() => {
                let i = i % n;
                bytes[i] ^= x | 1;
            }
            Mutation::Delete(i, len) if !bytes.is_empty() => {
                let i = i % n;
                let end = (i + len).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Insert(i, ins) => {
                let i = i % n.min(bytes.len() + 1).max(1);
                let i = i.min(bytes.len());
                bytes.splice(i..i, ins.iter().copied());
            }
            _ => {}
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"\n".to_vec(),
        b"\"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b",".to_vec(),
        b"null".to_vec(),
        b"-1".to_vec(),
        b"1e400".to_vec(),
        b"\xff\xfe".to_vec(),
        b"[]".to_vec(),
        b"\"answer\":99,".to_vec(),
        b"\\u0000".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), 1usize..40).prop_map(|(i, l)| Mutation::Delete(i, l)),
        (
            any::<usize>(),
            prop_oneof![tokens, prop::collection::vec(any::<u8>(), 0..8)]
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
    ]
}

fn check_problems(ps: &bedside_bench::Problems) {
    for p in &ps.problems {
        assert!(!p.file.is_empty(), "problem without a file: {p}");
        assert!(!p.message.is_empty());
        if p.file.ends_with(".jsonl") && p.is_error() {
            assert!(p.line.is_some(), "shard error without a line: {p}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), task in prop::sample::select(Task::ALL.to_vec())) {
        let p = parse_shard("x.jsonl", &bytes, task);
        prop_assert!(p.items.len() <= p.records);
        let _ = Manifest::parse(&bytes, "manifest.json");
        for (fmt, _) in Format::ALL {
            let _ = import(fmt, &[InputFile::new("x_test.csv", bytes.clone())], &ImportOptions::default());
        }
    }

    /// Issue 16: JSON documents, record paths, field paths and Parquet, mutated; also inspected.
    #[test]
    fn mutated_documents_and_parquet_never_panic(muts in prop::collection::vec(mutation(), 1..6), which in 0usize..3) {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes");
        let (name, file) = [
            ("n.json", "nested_sections.json"),
            ("t.parquet", "parquet/data/test-00000-of-00001.parquet"),
            ("o.jsonl", "options_objects.jsonl"),
        ][which];
        let bytes = mutate(std::fs::read(dir.join(file)).unwrap(), &muts);
        let input = InputFile::new(name, bytes);
        let _ = bedside_bench::importers::inspect(&input, None);
        let opts = ImportOptions {
            map: bedside_bench::importers::FieldMap::parse(
                &["options=options[n].text".into(), "subject=..topic".into(), "question=text".into()],
                Default::default(),
            ).unwrap(),
            id: bedside_bench::importers::IdTemplate::parse("{section}-{n}").ok(),
            ..ImportOptions::default()
        };
        for fmt in [Format::Json, Format::Parquet, Format::Csv] {
            let _ = import(fmt, std::slice::from_ref(&input), &opts);
        }
    }

    #[test]
    fn mutated_benchmarks_never_panic(muts in prop::collection::vec(mutation(), 1..6), target in 0usize..3) {
        let mut files = valid_benchmark_files();
        let names: Vec<String> = files.shards.keys().cloned().collect();
        let mut changed = false;
        if target == 0 {
            let m = files.manifest.take().unwrap();
            files.manifest = Some(mutate(m, &muts));
        } else {
            let name = &names[(target - 1) % names.len()];
            let b = files.shards.remove(name).unwrap();
            let m = mutate(b.clone(), &muts);
            changed = m != b;
            files.shards.insert(name.clone(), m);
        }
        let (bench, problems, _) = validate(&files, &ValidateOptions::default());
        check_problems(&problems);
        // Any change to a shard's bytes breaks its hash: a mutated shard can never validate.
        if changed {
            prop_assert!(bench.is_none());
            prop_assert!(problems.has_errors());
        }
    }

    #[test]
    fn mutated_items_report_line_numbers(muts in prop::collection::vec(mutation(), 1..4)) {
        let files = valid_benchmark_files();
        let shard = files.shards.values().next().unwrap().clone();
        let p = parse_shard("s.jsonl", &mutate(shard, &muts), Task::Mcq);
        for pr in p.problems.iter().filter(|p| p.is_error()) {
            prop_assert!(pr.line.is_some());
        }
    }
}
