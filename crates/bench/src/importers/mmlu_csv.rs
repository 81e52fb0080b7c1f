//! MMLU CSV files (Hendrycks et al., ICLR 2021): `<subject>_<split>.csv` rows of
//! `question,A,B,C,D,answer`. The original files are headerless with a letter answer; some copies have a
//! header `question,choice0..choice3,answer` with a 0-based answer. Both are accepted.

use super::{letter_index, split_for, ImportOptions, Imported, InputFile};
use crate::item::Item;
use crate::task::Task;
use crate::writer::BenchmarkInfo;

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("mmlu", Task::Mcq);
    info.description = "MMLU (Massive Multitask Language Understanding) subjects".into();
    info.license = "MIT".into();
    info.citation = "Hendrycks, D., Burns, C., Basart, S., Zou, A., Mazeika, M., Song, D., Steinhardt, J. (2021). Measuring Massive Multitask Language Understanding. ICLR 2021.".into();
    info.source = "https://github.com/hendrycks/test".into();
    let mut out = Imported::new(info);
    for input in inputs {
        let split = split_for(input, opts);
        let subject = subject_from_name(input.stem());
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(crate::manifest::strip_bom(&input.bytes));
        let mut row = 0usize; // data rows seen, so ids are the same with or without a header
        for (n, rec) in rdr.records().enumerate() {
            let line = rec
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(n + 1, |p| p.line() as usize);
            let rec = match rec {
                Ok(r) => r,
                Err(_) => {
                    out.skipped.skip(&input.name, line, "unreadable CSV row");
                    continue;
                }
            };
            let fields: Vec<&str> = rec.iter().collect();
            if n == 0
                && fields
                    .first()
                    .is_some_and(|f| f.trim().eq_ignore_ascii_case("question"))
                && fields
                    .last()
                    .is_some_and(|f| f.trim().eq_ignore_ascii_case("answer"))
            {
                continue; // the header of the 0-based copy
            }
            row += 1;
            if fields.len() != 6 {
                out.skipped.skip(
                    &input.name,
                    line,
                    "expected 6 columns: question, 4 options, answer",
                );
                continue;
            }
            let a = fields[5].trim();
            let answer = match (letter_index(a), a.parse::<usize>()) {
                (Some(i), _) => i,
                (None, Ok(i)) => i,
                _ => {
                    out.skipped.skip(
                        &input.name,
                        line,
                        "answer is neither a letter A-D nor a 0-based index",
                    );
                    continue;
                }
            };
            let options = fields[1..5].iter().map(|s| s.trim().to_string()).collect();
            let mut item = Item::choice(
                format!("{subject}-{split}-{row}"),
                fields[0].trim(),
                options,
                answer,
            );
            item.subject = Some(subject.clone());
            out.push(&split, item, &input.name, line);
        }
    }
    Ok(out)
}

/// `professional_medicine_test` -> `professional_medicine`.
pub fn subject_from_name(stem: &str) -> String {
    for suffix in [
        "_test",
        "_dev",
        "_val",
        "_validation",
        "_train",
        "_auxiliary_train",
    ] {
        if let Some(s) = stem.strip_suffix(suffix) {
            return s.to_string();
        }
    }
    stem.to_string()
}
