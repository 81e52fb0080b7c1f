//! Importers: turn the files people actually have (MedQA, MedMCQA, PubMedQA, MMLU CSV, MMLU-Pro,
//! MMLU-Redux, generic CSV/JSONL) into Bedside items. Rows that cannot be mapped are counted and skipped
//! with a reason instead of aborting; every source field that is not mapped is kept in `meta`.

pub mod fields;
mod generic;
pub mod inspect;
mod medmcqa;
mod medqa;
mod mmlu_csv;
mod mmlu_pro;
mod mmlu_redux;
mod pubmedqa;
pub mod records;

pub use fields::{FieldPath, IdTemplate};
pub use generic::{AnswerFormat, FieldMap};
pub use inspect::{inspect, Inspection};
pub use records::{RecordPath, Row, Shape};

use crate::item::Item;
use crate::task::Task;
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One input file: its name (used for ids, subjects, splits and messages) and its bytes.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl InputFile {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        InputFile {
            name: name.into(),
            bytes,
        }
    }

    /// File name without directories and without the extension.
    pub fn stem(&self) -> &str {
        let base = self.name.rsplit(['/', '\\']).next().unwrap_or(&self.name);
        base.split_once('.').map_or(base, |(s, _)| s)
    }

    /// The split implied by the file name (`dev`, `train`, `validation`), `test` otherwise.
    pub fn split_from_name(&self) -> &'static str {
        let s = self.stem().to_ascii_lowercase();
        let has = |w: &str| {
            s.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|t| t == w)
        };
        if has("dev") {
            "dev"
        } else if has("train") {
            "train"
        } else if has("val") || has("valid") || has("validation") {
            "validation"
        } else {
            "test"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Medqa,
    Medmcqa,
    Pubmedqa,
    MmluCsv,
    MmluPro,
    MmluRedux,
    Csv,
    Jsonl,
    /// JSON Lines or one JSON document (an array, or records nested under keys).
    Json,
    Parquet,
}

impl Format {
    pub const ALL: [(Format, &'static str); 10] = [
        (Format::Medqa, "medqa"),
        (Format::Medmcqa, "medmcqa"),
        (Format::Pubmedqa, "pubmedqa"),
        (Format::MmluCsv, "mmlu-csv"),
        (Format::MmluPro, "mmlu-pro"),
        (Format::MmluRedux, "mmlu-redux"),
        (Format::Csv, "csv"),
        (Format::Jsonl, "jsonl"),
        (Format::Json, "json"),
        (Format::Parquet, "parquet"),
    ];

    /// The generic format implied by a file name (`.csv`/`.tsv`, `.parquet`, JSON otherwise).
    pub fn guess(name: &str, bytes: &[u8]) -> Format {
        let lower = name.to_ascii_lowercase();
        if records::is_parquet(name, bytes) {
            Format::Parquet
        } else if lower.ends_with(".csv") || lower.ends_with(".tsv") {
            Format::Csv
        } else {
            Format::Json
        }
    }

    /// Whether this format is read by the generic importer (and so takes `--map`, `--records`, `--id`).
    pub fn is_generic(self) -> bool {
        matches!(
            self,
            Format::Csv | Format::Jsonl | Format::Json | Format::Parquet
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Format::ALL
            .iter()
            .find(|(x, _)| x == self)
            .map_or("?", |(_, n)| n);
        f.write_str(name)
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|(_, n)| *n).collect();
                format!(
                    "unknown format `{s}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Put every item in this split instead of guessing it from file names.
    pub split: Option<String>,
    /// For `csv`/`jsonl`: which source column feeds which item field.
    pub map: FieldMap,
    /// For `csv`/`jsonl`: the task the items pose.
    pub task: Option<Task>,
    /// For `medmcqa`: whether `cop` counts from 0 or 1 (detected from the data when not given).
    pub cop_base: Option<u8>,
    /// For JSON documents: where the records are (detected when not given).
    pub records: Option<RecordPath>,
    /// Ids made from a template over fields (`{section}-{n}`).
    pub id: Option<IdTemplate>,
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Defaults for the manifest (license, citation, source for known datasets).
    pub info: BenchmarkInfo,
    /// Items per split, in input order.
    pub splits: Vec<(String, Vec<Item>)>,
    pub skipped: Skips,
    /// Things worth telling the user (e.g. how an ambiguous answer encoding was read).
    pub notes: Vec<String>,
    /// Where each id was first seen (`file:line`), to name both places of a duplicate.
    locations: std::collections::HashMap<String, String>,
}

impl Imported {
    pub fn converted(&self) -> usize {
        self.splits.iter().map(|(_, v)| v.len()).sum()
    }

    fn new(info: BenchmarkInfo) -> Self {
        Imported {
            info,
            splits: Vec::new(),
            skipped: Skips::default(),
            notes: Vec::new(),
            locations: Default::default(),
        }
    }

    /// Why nothing converted, for a refusal: the most common skip reasons with an example each, and what
    /// to try. `None` when some item converted.
    pub fn refusal(&self, files: &[InputFile]) -> Option<String> {
        if self.converted() > 0 {
            return None;
        }
        let mut reasons: Vec<(&String, &usize)> = self.skipped.by_reason.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        let mut msg = format!(
            "no item converted from {} record(s); nothing was written.",
            self.skipped.total()
        );
        for (r, n) in reasons.iter().take(3) {
            msg.push_str(&format!("\n  {n} × {r}"));
        }
        if let Some(e) = self.skipped.examples.first() {
            msg.push_str(&format!("\n  first: {e}"));
        }
        let file = files.first().map_or("FILE", |f| f.name.as_str());
        msg.push_str(&format!(
            "\nTry: `bedside convert --inspect {file}` shows the file's shape, its fields and a suggested --map line."
        ));
        Some(msg)
    }

    fn push(&mut self, split: &str, item: Item, file: &str, loc: impl fmt::Display) {
        let loc = loc.to_string();
        // Gate every item through the validator, so the written benchmark is valid by construction.
        let (ok, problems) = Item::from_json(&item.to_json(), self.info.task, file, 0);
        if ok.is_none() {
            let reason =
                problems
                    .iter()
                    .find(|p| p.is_error())
                    .map_or("invalid item".to_string(), |p| {
                        let field = p.field.as_deref().map(|f| f.split('[').next().unwrap_or(f));
                        format!(
                            "{}{}",
                            field.map(|f| format!("{f}: ")).unwrap_or_default(),
                            p.message
                        )
                    });
            self.skipped.skip(file, &loc, &reason);
            return;
        }
        if let Some(first) = self.locations.get(&item.id) {
            self.skipped.skip(
                file,
                &loc,
                &format!(
                    "duplicate id {:?} (first at {first}); make ids unique with a template over fields, e.g. --id '{{section}}-{{n}}'",
                    item.id
                ),
            );
            return;
        }
        self.locations
            .insert(item.id.clone(), format!("{file}:{loc}"));
        match self.splits.iter_mut().find(|(s, _)| s == split) {
            Some((_, v)) => v.push(item),
            None => self.splits.push((split.to_string(), vec![item])),
        }
    }
}

/// Turn a specific message into a reason that groups well: quoted text becomes `"…"`, indices are
/// dropped and numbers become `#` ("answer 7 is out of range" -> "answer # is out of range").
fn generalize(reason: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    let mut in_index = false;
    for c in reason.chars() {
        match c {
            '"' => {
                if !in_quote {
                    out.push_str("\"…\"");
                }
                in_quote = !in_quote;
            }
            _ if in_quote => {}
            '[' => in_index = true,
            ']' if in_index => in_index = false,
            _ if in_index => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Counts of skipped rows by reason, with the first few locations kept as examples.
#[derive(Debug, Clone, Default)]
pub struct Skips {
    pub by_reason: BTreeMap<String, usize>,
    pub examples: Vec<String>,
}

impl Skips {
    /// Count a skipped row under its generalised reason; the first few keep the specific one as an example.
    pub fn skip(&mut self, file: &str, loc: impl fmt::Display, reason: &str) {
        *self.by_reason.entry(generalize(reason)).or_default() += 1;
        if self.examples.len() < 10 {
            self.examples.push(format!("{file}:{loc}: {reason}"));
        }
    }

    pub fn total(&self) -> usize {
        self.by_reason.values().sum()
    }
}

/// Convert `inputs` of the given format. Errors only when the input as a whole cannot be read in this format.
pub fn import(
    format: Format,
    inputs: &[InputFile],
    opts: &ImportOptions,
) -> Result<Imported, String> {
    if inputs.is_empty() {
        return Err("no input files given".into());
    }
    let mut imported = match format {
        Format::Medqa => medqa::import(inputs, opts),
        Format::Medmcqa => medmcqa::import(inputs, opts),
        Format::Pubmedqa => pubmedqa::import(inputs, opts),
        Format::MmluCsv => mmlu_csv::import(inputs, opts),
        Format::MmluPro => mmlu_pro::import(inputs, opts),
        Format::MmluRedux => mmlu_redux::import(inputs, opts),
        Format::Csv | Format::Jsonl | Format::Json | Format::Parquet => {
            generic::import(inputs, opts, Some(format))
        }
    }?;
    // Put the scored split first, few-shot pools after.
    imported
        .splits
        .sort_by_key(|(s, _)| crate::manifest::SPLITS.iter().position(|x| x == s));
    Ok(imported)
}

/// The records of a JSON Lines file, or of one JSON document (an array, or records found inside it), as
/// JSON objects with their line numbers (their position for documents); lines that are not objects are
/// skipped with a reason.
fn jsonl_objects(input: &InputFile, skips: &mut Skips) -> Vec<(usize, Map<String, Value>)> {
    match records::json_rows(input, None, skips) {
        Ok((_, rows)) => rows
            .into_iter()
            .map(|r| (r.loc.parse().unwrap_or(r.ordinal), r.fields))
            .collect(),
        Err(e) => {
            skips.skip(&input.name, 0, &e);
            Vec::new()
        }
    }
}

/// The source fields not in `mapped`, for `meta`.
fn unmapped(obj: &Map<String, Value>, mapped: &[&str]) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| !mapped.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A string field, trimmed of surrounding whitespace; `None` when absent, not a string, or empty.
fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A letter `A`..`J` (any case, optional surrounding whitespace/parentheses) as a 0-based index.
fn letter_index(s: &str) -> Option<usize> {
    let t = s.trim().trim_matches(|c| c == '(' || c == ')' || c == '.');
    let mut cs = t.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => {
            let i = (c.to_ascii_uppercase() as u8 - b'A') as usize;
            (i < crate::task::MAX_OPTIONS).then_some(i)
        }
        _ => None,
    }
}

fn split_for(input: &InputFile, opts: &ImportOptions) -> String {
    opts.split
        .clone()
        .unwrap_or_else(|| input.split_from_name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_from_names() {
        let f = |n: &str| InputFile::new(n, vec![]).split_from_name();
        assert_eq!(f("data/anatomy_dev.csv"), "dev");
        assert_eq!(f("phrases_no_exclude_test.jsonl"), "test");
        assert_eq!(f("train.json"), "train");
        assert_eq!(f("validation.jsonl"), "validation");
        assert_eq!(f("developmental_biology.csv"), "test");
    }

    #[test]
    fn letters() {
        assert_eq!(letter_index("C"), Some(2));
        assert_eq!(letter_index(" (b) "), Some(1));
        assert_eq!(letter_index("AB"), None);
        assert_eq!(letter_index("Z"), None);
    }

    #[test]
    fn reasons_generalize() {
        assert_eq!(
            generalize("answer 17 is out of range for 4 options"),
            "answer # is out of range for # options"
        );
        assert_eq!(
            generalize("duplicate option: same text as options[1] (\"x 2\")"),
            "duplicate option: same text as options (\"…\")"
        );
    }
}
