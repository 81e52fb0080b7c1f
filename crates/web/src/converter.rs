//! The Run page's converter, free of the browser (tested natively): which dropped files are raw data
//! rather than a Bedside benchmark, the mapping form and the import options it stands for (the same
//! `bedside_bench::importers` the CLI's `bedside convert` uses), the live preview, the benchmark a save
//! writes (validated as a dropped benchmark is), and that benchmark as a zip of its folder.

use crate::runner;
use bedside_bench::importers::{
    import, inspect, AnswerFormat, FieldMap, Format, IdTemplate, ImportOptions, Imported,
    InputFile, Inspection, RecordPath,
};
use bedside_bench::task::option_letter;
use bedside_bench::writer::{build_benchmark, DEFAULT_SHARD_SIZE};
use bedside_bench::{Acceptance, Answer, Item, Task, MANIFEST_FILE};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The item fields the form maps to source fields (`--map field=path`), in the form's order.
pub const MAP_FIELDS: [&str; 6] = [
    "question",
    "options",
    "answer",
    "context",
    "subject",
    "explanation",
];

/// The answer formats the form offers (`--answer-format`).
pub const ANSWER_FORMATS: [&str; 6] = ["auto", "letter", "index0", "index1", "text", "id"];

/// How many converted items the preview shows.
pub const PREVIEW_ITEMS: usize = 3;

/// Raw files given to the converter. Equal only to itself (a new drop is a new conversion).
#[derive(Clone, Debug)]
pub struct Raw {
    pub files: Rc<Vec<InputFile>>,
}

impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        Rc::ptr_eq(&self.files, &other.files)
    }
}

impl Raw {
    pub fn new(files: Vec<InputFile>) -> Raw {
        Raw {
            files: Rc::new(files),
        }
    }

    /// The generic format of the first file (CSV/TSV, Parquet, JSON or JSON Lines).
    pub fn format(&self) -> Format {
        self.files
            .first()
            .map_or(Format::Json, |f| Format::guess(&f.name, &f.bytes))
    }

    /// The shape of the first file, its fields and a suggested mapping (records at `records`, or
    /// detected when it is empty or the detected path).
    pub fn inspect(&self, records: &str) -> Result<Inspection, String> {
        let first = self.files.first().ok_or("no file to convert")?;
        let detected = inspect(first, None);
        match (records.trim(), &detected) {
            ("", _) => detected,
            (p, Ok(i)) if i.records_path.as_deref() == Some(p) => detected,
            (p, _) => inspect(first, Some(&RecordPath::parse(p)?)),
        }
    }

    pub fn names(&self) -> String {
        let names: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
        names.join(", ")
    }
}

/// Whether a file is raw data to convert rather than part of a Bedside benchmark: a CSV/TSV table, a
/// Parquet file, a JSON document, or JSON Lines whose first record is not a Bedside item. Run files,
/// manifests, Bedside shards (even broken ones, whose problems the validator names) and files that
/// are none of these are not.
pub fn is_raw(name: &str, bytes: &[u8]) -> bool {
    if name == MANIFEST_FILE {
        return false;
    }
    if Format::guess(name, bytes) == Format::Parquet {
        return true;
    }
    let Ok(text) = std::str::from_utf8(bedside_bench::manifest::strip_bom(bytes)) else {
        return false;
    };
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let lower = name.to_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".tsv") {
        return true;
    }
    if first.contains("\"bedside_run\"") {
        return false;
    }
    match serde_json::from_str::<serde_json::Value>(first) {
        // JSON Lines: raw unless the first record is an item of some task.
        Ok(v @ serde_json::Value::Object(_)) => !Task::ALL
            .into_iter()
            .any(|t| Item::from_json(&v, t, name, 1).0.is_some()),
        // A JSON document over several lines (or not JSON at all: the validator says so).
        _ => serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| !v.is_null()),
    }
}

/// The files of a drop to convert: the raw ones, when the drop has no manifest and some are raw.
pub fn raw_files(files: &[InputFile]) -> Option<Raw> {
    if files.iter().any(|f| f.name == MANIFEST_FILE) {
        return None;
    }
    let raw: Vec<InputFile> = files
        .iter()
        .filter(|f| is_raw(&f.name, &f.bytes))
        .cloned()
        .collect();
    (!raw.is_empty()).then(|| Raw::new(raw))
}

/// One line per raw file for the benchmark's problem list: what it is, and that it converts below.
pub fn raw_notice(f: &InputFile) -> String {
    let text = String::from_utf8_lossy(&f.bytes);
    let what = runner::wrong_file(&f.name, &text).unwrap_or_else(|| {
        format!(
            "{}: this is not a Bedside shard (JSON Lines, one item per line): convert it with `bedside convert`",
            f.name
        )
    });
    format!("{what}; or convert it here, in the converter below")
}

/// The converter's form: source field per item field, id, record path, task, answer format, and the
/// manifest's name and license.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    /// `(item field, source path)` for each of [`MAP_FIELDS`]; an empty path is not mapped.
    pub map: Vec<(String, String)>,
    /// A field holding unique ids (`qid`), or a template over fields (`{section}-{n}`); empty:
    /// `<file>-<record>`.
    pub id: String,
    /// For JSON documents: where the records are; empty: detected.
    pub records: String,
    pub task: Task,
    pub answer_format: AnswerFormat,
    pub name: String,
    /// SPDX id (or text); empty: the manifest says NOASSERTION.
    pub license: String,
    /// A license file's text, written as LICENSE into the downloaded folder.
    pub license_file: Option<String>,
}

impl Form {
    /// The form filled from an inspection's suggestion (empty when the file could not be inspected).
    pub fn suggested(insp: Option<&Inspection>, name: &str) -> Form {
        let get = |f: &str| {
            insp.and_then(|i| i.map.iter().find(|(k, _)| k == f))
                .map(|(_, p)| p.clone())
                .unwrap_or_default()
        };
        Form {
            map: MAP_FIELDS.iter().map(|f| (f.to_string(), get(f))).collect(),
            id: insp.and_then(|i| i.id.clone()).unwrap_or_else(|| get("id")),
            records: insp
                .and_then(|i| i.records_path.clone())
                .unwrap_or_default(),
            task: insp.map_or(Task::Mcq, |i| i.task),
            answer_format: AnswerFormat::Auto,
            name: name.to_string(),
            license: String::new(),
            license_file: None,
        }
    }

    /// The source path mapped to `field` (empty when none).
    pub fn get(&self, field: &str) -> &str {
        self.map
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, p)| p.as_str())
    }

    pub fn set(&mut self, field: &str, path: &str) {
        let path = path.trim().to_string();
        match self.map.iter_mut().find(|(f, _)| f == field) {
            Some((_, p)) => *p = path,
            None => self.map.push((field.to_string(), path)),
        }
    }

    /// The import options this form stands for, as `bedside convert` builds them from its flags.
    pub fn options(&self) -> Result<ImportOptions, String> {
        let mut pairs: Vec<String> = self
            .map
            .iter()
            .filter(|(_, p)| !p.trim().is_empty())
            .map(|(f, p)| format!("{f}={}", p.trim()))
            .collect();
        let id = self.id.trim();
        let template = if id.contains('{') {
            Some(IdTemplate::parse(id)?)
        } else {
            if !id.is_empty() {
                pairs.push(format!("id={id}"));
            }
            None
        };
        let records = match self.records.trim() {
            "" => None,
            p => Some(RecordPath::parse(p)?),
        };
        Ok(ImportOptions {
            split: None,
            map: FieldMap::parse(&pairs, self.answer_format)?,
            task: Some(self.task),
            cop_base: None,
            records,
            id: template,
        })
    }

    /// Whether the manifest will say NOASSERTION (no license given).
    pub fn license_missing(&self) -> bool {
        self.license.trim().is_empty()
    }

    /// The equivalent command line, for converting the whole data set outside the browser.
    pub fn command(&self, raw: &Raw) -> String {
        let q = |s: &str| {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/=,:".contains(c))
            {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        };
        let mut cmd = format!("bedside convert --from {}", raw.format());
        for f in raw.files.iter() {
            cmd.push_str(&format!(" {}", q(&f.name)));
        }
        if !self.records.trim().is_empty() {
            cmd.push_str(&format!(" --records {}", q(self.records.trim())));
        }
        for (f, p) in self.map.iter().filter(|(_, p)| !p.is_empty()) {
            cmd.push_str(&format!(" --map {}", q(&format!("{f}={p}"))));
        }
        let id = self.id.trim();
        if id.contains('{') {
            cmd.push_str(&format!(" --id {}", q(id)));
        } else if !id.is_empty() {
            cmd.push_str(&format!(" --map {}", q(&format!("id={id}"))));
        }
        cmd.push_str(&format!(" --task {}", self.task));
        if self.answer_format != AnswerFormat::Auto {
            let name = ANSWER_FORMATS
                .iter()
                .find(|n| n.parse::<AnswerFormat>() == Ok(self.answer_format))
                .unwrap_or(&"auto");
            cmd.push_str(&format!(" --answer-format {name}"));
        }
        if !self.name.trim().is_empty() {
            cmd.push_str(&format!(" --name {}", q(self.name.trim())));
        }
        if !self.license_missing() {
            cmd.push_str(&format!(" --license {}", q(self.license.trim())));
        }
        cmd.push_str(" --out my-benchmark");
        cmd
    }
}

/// Convert the raw files with the form's options.
pub fn convert(raw: &Raw, form: &Form) -> Result<Imported, String> {
    let opts = form.options()?;
    import(raw.format(), &raw.files, &opts)
}

/// An item as the model will see it: its question (and context), the options lettered, the correct
/// one(s) marked.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub id: String,
    pub subject: Option<String>,
    pub context: Option<String>,
    pub question: String,
    /// `(letter, text, correct)`.
    pub options: Vec<(char, String, bool)>,
    /// The gold answer in words: `B`, `A, C`, or a number with what is accepted.
    pub answer: String,
}

impl Shown {
    pub fn of(item: &Item) -> Shown {
        let gold = item.answer.indices();
        let options: Vec<(char, String, bool)> = item
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| (option_letter(i), o.clone(), gold.contains(&i)))
            .collect();
        let answer = match &item.answer {
            Answer::Numeric { value, accept } => match accept {
                Acceptance::Tolerance(t) => format!("{value} ± {t}"),
                Acceptance::Range(lo, hi) => format!("{value} (accepted {lo} to {hi})"),
            },
            a => a
                .indices()
                .iter()
                .map(|&i| option_letter(i).to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        Shown {
            id: item.id.clone(),
            subject: item.subject.clone(),
            context: item.context.clone(),
            question: item.question.clone(),
            options,
            answer,
        }
    }
}

/// What converting gives, for the live preview.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub converted: usize,
    pub skipped: usize,
    /// `(split, items)`.
    pub splits: Vec<(String, usize)>,
    /// The most common skip reasons, most first.
    pub reasons: Vec<(String, usize)>,
    /// The first skipped records with their specific reason.
    pub examples: Vec<String>,
    pub notes: Vec<String>,
    /// The first items, as the model will see them.
    pub items: Vec<Shown>,
    /// Why nothing converted (then nothing can be saved).
    pub refusal: Option<String>,
}

impl Preview {
    pub fn of(imported: &Imported, raw: &Raw) -> Preview {
        let mut reasons: Vec<(String, usize)> = imported
            .skipped
            .by_reason
            .iter()
            .map(|(r, n)| (r.clone(), *n))
            .collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        reasons.truncate(5);
        Preview {
            converted: imported.converted(),
            skipped: imported.skipped.total(),
            splits: imported
                .splits
                .iter()
                .map(|(s, v)| (s.clone(), v.len()))
                .collect(),
            reasons,
            examples: imported.skipped.examples.iter().take(3).cloned().collect(),
            notes: imported.notes.clone(),
            items: imported
                .splits
                .iter()
                .flat_map(|(_, v)| v.iter())
                .take(PREVIEW_ITEMS)
                .map(Shown::of)
                .collect(),
            refusal: imported.refusal(&raw.files),
        }
    }
}

/// A converted benchmark: its files as the browser keeps a benchmark (manifest + shards, as text),
/// checked by the same validation as a dropped benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct Built {
    pub name: String,
    pub files: BTreeMap<String, String>,
    pub items: usize,
    pub shards: usize,
    pub task: Task,
    pub license: String,
    pub license_file: Option<String>,
}

/// Build the benchmark from a conversion, as `bedside convert` writes it (name and license from the
/// form, shards of [`DEFAULT_SHARD_SIZE`]), and validate it as the app validates dropped files.
pub fn build(imported: &Imported, form: &Form, raw: &Raw) -> Result<Built, String> {
    if let Some(refusal) = imported.refusal(&raw.files) {
        return Err(refusal);
    }
    let mut info = imported.info.clone();
    if !form.name.trim().is_empty() {
        info.name = form.name.trim().to_string();
    }
    if !form.license_missing() {
        info.license = form.license.trim().to_string();
    }
    let splits: Vec<(&str, Vec<Item>)> = imported
        .splits
        .iter()
        .map(|(s, v)| (s.as_str(), v.clone()))
        .collect();
    let built = build_benchmark(&info, &splits, DEFAULT_SHARD_SIZE)?;
    let mut files = BTreeMap::new();
    for (name, bytes) in &built.shards {
        let text = String::from_utf8(bytes.clone()).map_err(|e| format!("{name}: {e}"))?;
        files.insert(name.clone(), text);
    }
    files.insert(MANIFEST_FILE.to_string(), built.manifest.to_json_pretty());
    let (bench, _) = runner::load_bench(&files).map_err(|p| p.join("\n"))?;
    Ok(Built {
        name: bench.manifest.name.clone(),
        items: bench.len(),
        shards: built.shards.len(),
        task: built.manifest.task,
        license: built.manifest.license.clone(),
        license_file: form.license_file.clone(),
        files,
    })
}

impl Built {
    /// The benchmark's folder name: its name with anything but letters, digits, `-`, `_` and `.`
    /// replaced.
    pub fn folder(&self) -> String {
        let s: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let s = s.trim_matches(['-', '.']).to_string();
        if s.is_empty() {
            "benchmark".into()
        } else {
            s
        }
    }

    /// The benchmark folder as a zip: `<folder>/manifest.json`, the shards, and LICENSE when a
    /// license file was given.
    pub fn zip(&self) -> Vec<u8> {
        let dir = self.folder();
        let mut entries: Vec<(String, &[u8])> = Vec::new();
        entries.push((
            format!("{dir}/{MANIFEST_FILE}"),
            self.files[MANIFEST_FILE].as_bytes(),
        ));
        for (name, text) in self.files.iter().filter(|(n, _)| *n != MANIFEST_FILE) {
            entries.push((format!("{dir}/{name}"), text.as_bytes()));
        }
        if let Some(l) = &self.license_file {
            entries.push((format!("{dir}/LICENSE"), l.as_bytes()));
        }
        zip_stored(&entries)
    }
}

/// CRC-32 (IEEE, as zip uses).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A zip archive of `(path, bytes)` entries, stored without compression (names in UTF-8, dated
/// 1980-01-01).
pub fn zip_stored(entries: &[(String, &[u8])]) -> Vec<u8> {
    const DATE: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        // Local file header.
        u32le(&mut out, 0x0403_4b50);
        for x in [20, 0x0800, 0, 0, DATE] {
            u16le(&mut out, x);
        }
        for x in [crc, data.len() as u32, data.len() as u32] {
            u32le(&mut out, x);
        }
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry.
        u32le(&mut central, 0x0201_4b50);
        for x in [20, 20, 0x0800, 0, 0, DATE] {
            u16le(&mut central, x);
        }
        for x in [crc, data.len() as u32, data.len() as u32] {
            u32le(&mut central, x);
        }
        for x in [name.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, x);
        }
        u32le(&mut central, 0);
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    for x in [0, 0, entries.len() as u16, entries.len() as u16] {
        u16le(&mut out, x);
    }
    u32le(&mut out, cd_size);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> InputFile {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../bench/tests/fixtures/shapes")
            .join(name);
        InputFile::new(name, std::fs::read(p).unwrap())
    }

    /// The entries of a stored zip, read through its central directory: (name, bytes), each CRC checked.
    fn unzip(z: &[u8]) -> Vec<(String, Vec<u8>)> {
        let u16at = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
        let u32at = |i: usize| u32::from_le_bytes([z[i], z[i + 1], z[i + 2], z[i + 3]]) as usize;
        let eocd = z.len() - 22;
        assert_eq!(u32at(eocd), 0x0605_4b50);
        let (n, mut at) = (u16at(eocd + 10), u32at(eocd + 16));
        assert_eq!(
            at + u32at(eocd + 12),
            eocd,
            "central directory ends at the end record"
        );
        let mut out = Vec::new();
        for _ in 0..n {
            assert_eq!(u32at(at), 0x0201_4b50);
            let (crc, size, name_len) = (u32at(at + 16), u32at(at + 24), u16at(at + 28));
            let local = u32at(at + 42);
            let name = String::from_utf8(z[at + 46..at + 46 + name_len].to_vec()).unwrap();
            assert_eq!(u32at(local), 0x0403_4b50);
            assert_eq!(u16at(local + 8), 0, "stored");
            assert_eq!(u16at(local + 26), name_len);
            let start = local + 30 + name_len + u16at(local + 28);
            let data = z[start..start + size].to_vec();
            assert_eq!(crc32(&data) as usize, crc, "{name}");
            out.push((name, data));
            at += 46 + name_len;
        }
        out
    }

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn zip_round_trips() {
        let z = zip_stored(&[
            ("a/manifest.json".into(), b"{}".as_slice()),
            ("a/test-000.jsonl".into(), "é\n".as_bytes()),
            ("a/empty".into(), b"".as_slice()),
        ]);
        let back = unzip(&z);
        assert_eq!(
            back,
            vec![
                ("a/manifest.json".to_string(), b"{}".to_vec()),
                ("a/test-000.jsonl".to_string(), "é\n".as_bytes().to_vec()),
                ("a/empty".to_string(), Vec::new()),
            ]
        );
        assert_eq!(unzip(&zip_stored(&[])), Vec::new());
    }

    #[test]
    fn raw_files_are_told_from_benchmarks() {
        let item = r#"{"id":"1","question":"Which vitamin?","options":["C","D"],"answer":0}"#;
        assert!(!is_raw("mine.jsonl", format!("{item}\n").as_bytes()));
        // A broken shard is a shard: the validator names its problems.
        assert!(!is_raw(
            "broken.jsonl",
            format!("{item}\nnot json\n").as_bytes()
        ));
        assert!(!is_raw("manifest.json", b"{\n \"name\": \"x\"\n}"));
        assert!(!is_raw("run.jsonl", b"{\"bedside_run\":1}\n"));
        assert!(!is_raw("notes.txt", b"hello"));
        assert!(is_raw(
            "questions.csv",
            b"id,question,a,b,answer\n1,Q,x,y,a\n"
        ));
        assert!(is_raw(
            "medqa.jsonl",
            br#"{"question":"Q?","options":{"A":"x","B":"y"},"answer_idx":"A"}"#
        ));
        let nested = fixture("nested_sections.json");
        assert!(is_raw(&nested.name, &nested.bytes));
        let array = fixture("array.json");
        assert!(is_raw(&array.name, &array.bytes));
        let parquet = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../bench/tests/fixtures/shapes/parquet");
        if let Some(p) = std::fs::read_dir(parquet).ok().and_then(|mut d| d.next()) {
            let p = p.unwrap().path();
            assert!(is_raw(&p.to_string_lossy(), &std::fs::read(&p).unwrap()));
        }
        // A drop with a manifest is a benchmark; otherwise its raw files convert.
        let m = InputFile::new("manifest.json", b"{}".to_vec());
        assert!(raw_files(&[m, nested.clone()]).is_none());
        let raw = raw_files(&[InputFile::new("ok.jsonl", item.into()), nested]).unwrap();
        assert_eq!(raw.names(), "nested_sections.json");
        assert!(raw_notice(&raw.files[0]).contains("converter below"));
    }

    #[test]
    fn nested_document_suggestion_preview_and_edit() {
        let raw = Raw::new(vec![fixture("nested_sections.json")]);
        let insp = raw.inspect("").unwrap();
        assert!(insp.shape.contains("(detected"), "{}", insp.shape);
        let form = Form::suggested(Some(&insp), raw.files[0].stem());
        assert_eq!(form.records, "sections.{section}.questions");
        // The form's path is the detected one: still said to be detected; another path is read as given.
        assert_eq!(raw.inspect(&form.records).unwrap(), insp);
        let other = raw.inspect("sections.*.questions").unwrap();
        assert!(!other.shape.contains("detected") && other.records == 15);
        assert!(raw.inspect("sections..questions").is_err());
        assert_eq!(form.get("question"), "text");
        assert_eq!(form.get("options"), "options[n].text");
        assert_eq!(form.get("answer"), "answers");
        assert_eq!(form.get("subject"), "..topic");
        assert_eq!(form.id, "{section}-{n}");
        assert_eq!(form.task, Task::McqMulti);
        assert_eq!(form.name, "nested_sections");
        assert!(form.license_missing());
        // The form stands for the suggestion's own options: the same conversion.
        let ours = convert(&raw, &form).unwrap();
        let theirs = import(raw.format(), &raw.files, &insp.options()).unwrap();
        assert_eq!(ours.splits, theirs.splits);
        let p = Preview::of(&ours, &raw);
        assert_eq!((p.converted, p.skipped), (15, 0));
        assert_eq!(p.splits, vec![("test".to_string(), 15)]);
        assert_eq!(p.items.len(), PREVIEW_ITEMS);
        let first = &p.items[0];
        assert_eq!(first.id, "virology-1");
        assert_eq!(first.subject.as_deref(), Some("Virology"));
        // Options in their `n` order, lettered; answer "d" is the fourth.
        assert_eq!(
            first.options[0],
            ('A', "Strong family support".into(), false)
        );
        assert_eq!(first.options[3], ('D', "Both a and c".into(), true));
        assert_eq!(first.answer, "D");
        assert_eq!(p.items[1].answer, "A, C");
        assert!(p.refusal.is_none());
        assert!(form.command(&raw).contains("--id '{section}-{n}'"));

        // Changing the subject and the id template changes the preview.
        let mut edited = form.clone();
        edited.set("subject", "section");
        edited.id = "q-{section}-{n}".into();
        let p = Preview::of(&convert(&raw, &edited).unwrap(), &raw);
        assert_eq!(p.items[0].id, "q-virology-1");
        assert_eq!(p.items[0].subject.as_deref(), Some("virology"));
        // A bare field as the id maps it (here `n` repeats across sections: duplicates are skipped).
        edited.id = "n".into();
        let p = Preview::of(&convert(&raw, &edited).unwrap(), &raw);
        assert_eq!((p.converted, p.skipped), (5, 10));
        assert!(
            p.reasons[0].0.starts_with("duplicate id"),
            "{:?}",
            p.reasons
        );
        assert_eq!(p.examples.len(), 3);
        // A bad template or record path is an error, not a panic.
        edited.id = "{".into();
        assert!(convert(&raw, &edited).is_err());
        edited.id.clear();
        edited.records = "sections..questions".into();
        assert!(convert(&raw, &edited).is_err());
    }

    #[test]
    fn nothing_converting_is_refused() {
        let raw = Raw::new(vec![fixture("nested_sections.json")]);
        let insp = raw.inspect("").unwrap();
        let mut form = Form::suggested(Some(&insp), "x");
        form.set("question", "no_such_field");
        let imported = convert(&raw, &form).unwrap();
        let p = Preview::of(&imported, &raw);
        assert_eq!(p.converted, 0);
        assert!(p.refusal.as_deref().unwrap().contains("no item converted"));
        assert!(build(&imported, &form, &raw).is_err());
    }

    #[test]
    fn save_builds_a_valid_benchmark_and_its_zip() {
        let raw = Raw::new(vec![fixture("nested_sections.json")]);
        let insp = raw.inspect("").unwrap();
        let mut form = Form::suggested(Some(&insp), "my exam");
        // Without a license the manifest says NOASSERTION.
        let b = build(&convert(&raw, &form).unwrap(), &form, &raw).unwrap();
        assert_eq!((b.name.as_str(), b.items, b.shards), ("my exam", 15, 1));
        assert_eq!(b.task, Task::McqMulti);
        assert_eq!(b.license, "NOASSERTION");
        assert!(runner::load_bench(&b.files).is_ok());
        form.license = "CC-BY-4.0".into();
        form.license_file = Some("license text\n".into());
        let b = build(&convert(&raw, &form).unwrap(), &form, &raw).unwrap();
        assert_eq!(b.license, "CC-BY-4.0");
        let manifest: serde_json::Value = serde_json::from_str(&b.files[MANIFEST_FILE]).unwrap();
        assert_eq!(manifest["license"], "CC-BY-4.0");
        assert_eq!(manifest["name"], "my exam");
        assert_eq!(b.folder(), "my-exam");
        let entries = unzip(&b.zip());
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "my-exam/manifest.json",
                "my-exam/test-000.jsonl",
                "my-exam/LICENSE"
            ]
        );
        // The zip's files are the stored benchmark's, byte for byte.
        for (n, data) in &entries[..2] {
            let key = n.strip_prefix("my-exam/").unwrap();
            assert_eq!(data, b.files[key].as_bytes());
        }
    }

    #[test]
    fn single_answer_csv_converts_as_mcq() {
        let csv = "id,question,opa,opb,opc,opd,answer\n1,Which vitamin prevents scurvy?,A,C,D,K,B\n2,Which organ makes insulin?,Liver,Pancreas,Kidney,Spleen,B\n";
        let raw = raw_files(&[InputFile::new("quiz.csv", csv.into())]).unwrap();
        assert_eq!(raw.format(), Format::Csv);
        let insp = raw.inspect("").unwrap();
        let form = Form::suggested(Some(&insp), "quiz");
        assert_eq!(form.get("options"), "opa,opb,opc,opd");
        assert_eq!(form.id, "id");
        assert_eq!(form.task, Task::Mcq);
        let p = Preview::of(&convert(&raw, &form).unwrap(), &raw);
        assert_eq!(p.converted, 2);
        assert_eq!(p.items[0].answer, "B");
        assert_eq!(p.items[0].options[1], ('B', "C".into(), true));
        let b = build(&convert(&raw, &form).unwrap(), &form, &raw).unwrap();
        assert_eq!((b.items, b.task), (2, Task::Mcq));
    }
}
