//! MMLU-Redux (Gema et al., NAACL 2025, "Are We Done with MMLU?"): `mmlu_<subject>.csv`, `;`-separated,
//! with `question`, `choices` (a Python list literal), `answer` (0-based), `error_type`, `source`,
//! `correct_answer`, `potential_reason`. The error annotations are kept in `meta`: they label real
//! flawed MCQ items (wrong ground truth, unclear question, several correct answers, ...).

use super::{split_for, ImportOptions, Imported, InputFile};
use crate::item::Item;
use crate::task::Task;
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("mmlu-redux", Task::Mcq);
    info.description = "MMLU-Redux: re-annotated MMLU questions with error labels".into();
    info.license = "CC-BY-4.0".into();
    info.citation =
        "Gema, A. P., Leang, J. O. J., Hong, G., et al. (2025). Are We Done with MMLU? NAACL 2025."
            .into();
    info.source = "https://github.com/aryopg/mmlu-redux".into();
    let mut out = Imported::new(info);
    for input in inputs {
        let split = split_for(input, opts);
        let stem = input.stem();
        let subject = stem.strip_prefix("mmlu_").unwrap_or(stem).to_string();
        // Most files are `;`-separated; some copies use `,`. The header line tells.
        let bytes = crate::manifest::strip_bom(&input.bytes);
        let delimiter = super::records::sniff_delimiter(&input.name, bytes);
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(bytes);
        let header: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) => return Err(format!("{}: cannot read the CSV header: {e}", input.name)),
        };
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(qc), Some(cc), Some(ac)) = (col("question"), col("choices"), col("answer"))
        else {
            return Err(format!(
                "{}: expected columns question, choices, answer, found {}",
                input.name,
                header.join(", ")
            ));
        };
        for (row, rec) in rdr.records().enumerate() {
            let row = row + 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    out.skipped.skip(&input.name, line, "unreadable CSV row");
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| p.line() as usize);
            let Some(options) = rec.get(cc).and_then(parse_py_list) else {
                out.skipped.skip(
                    &input.name,
                    line,
                    "`choices` is not a list literal of strings",
                );
                continue;
            };
            let Some(answer) = rec.get(ac).and_then(|a| a.trim().parse::<usize>().ok()) else {
                out.skipped
                    .skip(&input.name, line, "`answer` is not a 0-based index");
                continue;
            };
            let mut item = Item::choice(
                format!("{subject}-{row}"),
                rec.get(qc).unwrap_or_default().trim(),
                options,
                answer,
            );
            item.subject = Some(subject.clone());
            item.meta = header
                .iter()
                .enumerate()
                .filter(|(i, _)| ![qc, cc, ac].contains(i))
                .map(|(i, h)| {
                    (
                        h.clone(),
                        Value::String(rec.get(i).unwrap_or_default().to_string()),
                    )
                })
                .collect::<Map<_, _>>();
            out.push(&split, item, &input.name, line);
        }
    }
    Ok(out)
}

/// Parse a Python list literal of strings, e.g. `['a', "it's", 'x\'y']`. `None` if it is anything else.
pub fn parse_py_list(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(q) = chars.next() else { break };
        if q != '\'' && q != '"' {
            return None;
        }
        let mut cur = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => cur.push('\n'),
                    't' => cur.push('\t'),
                    c => cur.push(c),
                },
                c if c == q => break,
                c => cur.push(c),
            }
        }
        out.push(cur);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_py_list;

    #[test]
    fn python_list_literals() {
        assert_eq!(
            parse_py_list(r#"['a', "it's", 'x\'y']"#),
            Some(vec!["a".into(), "it's".into(), "x'y".into()])
        );
        assert_eq!(parse_py_list("[]"), Some(vec![]));
        assert_eq!(parse_py_list("['a' 'b']"), None);
        assert_eq!(parse_py_list("a, b"), None);
        assert_eq!(parse_py_list("['unterminated]"), None);
    }
}
