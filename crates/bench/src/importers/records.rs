//! Where the records of a file are. A file is read as one of four shapes, each giving [`Row`]s:
//! - JSON Lines: one object per line;
//! - one JSON document: an array of records, or records nested under keys, found by a record path
//!   (`sections.*.questions`), detected when not given;
//! - CSV/TSV with a header row;
//! - Parquet (the format of most datasets on dataset hubs).

use super::{Format, InputFile, Skips};
use serde_json::{Map, Value};
use std::fmt;

/// One source record and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub fields: Map<String, Value>,
    /// The scalar fields of the objects enclosing the record in a JSON document, nearest first (`..topic`).
    pub enclosing: Vec<Map<String, Value>>,
    /// Keys matched by the record path's wildcards (`{section}` in `sections.{section}.questions`).
    pub bindings: Vec<(String, String)>,
    /// Where the record is, for messages: a line number (`12`), `row 3`, or a path (`sections.virology.questions[2]`).
    pub loc: String,
    /// 1-based position of the record in its file, for generated ids.
    pub ordinal: usize,
}

impl Row {
    pub fn new(fields: Map<String, Value>, loc: String, ordinal: usize) -> Row {
        Row {
            fields,
            enclosing: Vec::new(),
            bindings: Vec::new(),
            loc,
            ordinal,
        }
    }
}

/// How a file was read.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    JsonLines,
    /// One JSON document; records at `path` (`detected` when Bedside chose the path).
    JsonDocument {
        path: RecordPath,
        detected: bool,
    },
    Csv {
        delimiter: u8,
    },
    Parquet,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::JsonLines => f.write_str("JSON Lines (one record per line)"),
            Shape::JsonDocument { path, detected } if path.is_root() => write!(
                f,
                "one JSON document: an array of records{}",
                if *detected { " (detected)" } else { "" }
            ),
            Shape::JsonDocument { path, detected } => write!(
                f,
                "one JSON document: records at `{path}`{}",
                if *detected {
                    " (detected; set with --records)"
                } else {
                    ""
                }
            ),
            Shape::Csv { delimiter: b'\t' } => f.write_str("TSV with a header row"),
            Shape::Csv { delimiter } => {
                write!(
                    f,
                    "CSV with a header row (`{}`-separated)",
                    *delimiter as char
                )
            }
            Shape::Parquet => f.write_str("Parquet"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    /// `*` or `{name}`: every value of an object (every element of a list); `{name}` binds the key.
    Any(Option<String>),
}

/// Where the records are inside a JSON document: keys separated by dots, `*` for every key (or list
/// element), `{name}` for every key with the key kept under `name`. The empty path is the document itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordPath {
    segs: Vec<Seg>,
}

impl RecordPath {
    pub fn parse(s: &str) -> Result<RecordPath, String> {
        let s = s.trim().trim_start_matches('$').trim_start_matches('.');
        let mut segs = Vec::new();
        if s.is_empty() {
            return Ok(RecordPath { segs });
        }
        for p in s.split('.') {
            let p = p.trim();
            segs.push(if p == "*" || p == "[]" || p == "[*]" {
                Seg::Any(None)
            } else if let Some(n) = p.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                if n.is_empty() {
                    return Err(format!("--records {s:?}: `{{}}` needs a name, e.g. `{{section}}`"));
                }
                Seg::Any(Some(n.to_string()))
            } else if p.is_empty() {
                return Err(format!(
                    "--records {s:?}: empty key (write keys separated by single dots, e.g. sections.*.questions)"
                ));
            } else {
                Seg::Key(p.to_string())
            });
        }
        Ok(RecordPath { segs })
    }

    pub fn is_root(&self) -> bool {
        self.segs.is_empty()
    }

    /// The names bound by `{name}` segments.
    pub fn bound_names(&self) -> Vec<&str> {
        self.segs
            .iter()
            .filter_map(|s| match s {
                Seg::Any(Some(n)) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The records this path finds in `doc`. Elements that are not objects are skipped with a reason.
    pub fn records(&self, doc: &Value, file: &str, skips: &mut Skips) -> Result<Vec<Row>, String> {
        let mut out = Vec::new();
        walk(
            doc,
            &self.segs,
            String::new(),
            &Ctx::default(),
            &mut out,
            file,
            skips,
        )?;
        Ok(out)
    }
}

impl fmt::Display for RecordPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .segs
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Any(None) => "*".into(),
                Seg::Any(Some(n)) => format!("{{{n}}}"),
            })
            .collect();
        f.write_str(&parts.join("."))
    }
}

#[derive(Clone, Default)]
struct Ctx {
    enclosing: Vec<Map<String, Value>>,
    bindings: Vec<(String, String)>,
}

impl Ctx {
    fn inside(&self, obj: &Map<String, Value>) -> Ctx {
        let scalars: Map<String, Value> = obj
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Array(_) | Value::Object(_)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut c = self.clone();
        c.enclosing.insert(0, scalars);
        c
    }
}

fn join(loc: &str, key: &str) -> String {
    if loc.is_empty() {
        key.to_string()
    } else {
        format!("{loc}.{key}")
    }
}

fn walk(
    v: &Value,
    segs: &[Seg],
    loc: String,
    ctx: &Ctx,
    out: &mut Vec<Row>,
    file: &str,
    skips: &mut Skips,
) -> Result<(), String> {
    let Some((seg, rest)) = segs.split_first() else {
        let mut push = |x: &Value, loc: String, out: &mut Vec<Row>| match x {
            Value::Object(o) => {
                let mut r = Row::new(o.clone(), loc, out.len() + 1);
                r.enclosing = ctx.enclosing.clone();
                r.bindings = ctx.bindings.clone();
                out.push(r);
            }
            other => skips.skip(
                file,
                &loc,
                &format!("record is {}, not an object", crate::item::kind(other)),
            ),
        };
        match v {
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    push(
                        x,
                        format!("{}[{i}]", if loc.is_empty() { "$" } else { &loc }),
                        out,
                    );
                }
            }
            x => push(x, if loc.is_empty() { "$".into() } else { loc }, out),
        }
        return Ok(());
    };
    match seg {
        Seg::Key(k) => match v {
            Value::Object(o) => match o.get(k) {
                Some(x) => walk(x, rest, join(&loc, k), &ctx.inside(o), out, file, skips),
                None => {
                    let keys: Vec<&str> = o.keys().take(12).map(String::as_str).collect();
                    Err(format!(
                        "{file}: no key `{k}` at `{}` (keys there: {}); run `bedside convert --inspect {file}` to see the document's layout",
                        if loc.is_empty() { "$" } else { &loc },
                        keys.join(", ")
                    ))
                }
            },
            other => Err(format!(
                "{file}: `{}` is {}, so it has no key `{k}`; run `bedside convert --inspect {file}`",
                if loc.is_empty() { "$" } else { &loc },
                crate::item::kind(other)
            )),
        },
        Seg::Any(name) => {
            let children: Vec<(String, &Value)> = match v {
                Value::Object(o) => o.iter().map(|(k, x)| (k.clone(), x)).collect(),
                Value::Array(a) => a.iter().enumerate().map(|(i, x)| (i.to_string(), x)).collect(),
                other => {
                    return Err(format!(
                        "{file}: `{}` is {}; `*` needs an object or a list",
                        if loc.is_empty() { "$" } else { &loc },
                        crate::item::kind(other)
                    ))
                }
            };
            let base = match v {
                Value::Object(o) => ctx.inside(o),
                _ => ctx.clone(),
            };
            for (key, x) in children {
                let mut c = base.clone();
                if let Some(n) = name {
                    c.bindings.push((n.clone(), key.clone()));
                }
                let l = if v.is_array() {
                    format!("{}[{key}]", if loc.is_empty() { "$" } else { &loc })
                } else {
                    join(&loc, &key)
                };
                walk(x, rest, l, &c, out, file, skips)?;
            }
            Ok(())
        }
    }
}

/// Field names that usually hold the question of a record.
pub const QUESTION_KEYS: [&str; 12] = [
    "question",
    "question_text",
    "questiontext",
    "stem",
    "text",
    "q",
    "prompt",
    "query",
    "problem",
    "body",
    "title",
    "input",
];

/// Whether an object looks like a benchmark record: a question-like field or a long string.
fn looks_like_record(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.iter().any(|(k, x)| {
        x.is_string()
            && (QUESTION_KEYS.contains(&k.to_lowercase().as_str())
                || x.as_str().is_some_and(|s| s.len() >= 40))
    })
}

/// The name a wildcard after key `k` binds: the singular of `k` (`sections` -> `section`), `key` at the top.
fn binding_name(prev: Option<&str>) -> String {
    let Some(p) = prev else { return "key".into() };
    let p = p.to_lowercase();
    let s = if let Some(x) = p.strip_suffix("ies") {
        format!("{x}y")
    } else if p.ends_with("ss") {
        p.clone()
    } else if let Some(x) = p.strip_suffix('s') {
        x.to_string()
    } else {
        format!("{p}_key")
    };
    let s: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() {
        "key".into()
    } else {
        s
    }
}

struct Candidate {
    segs: Vec<Seg>,
    records: usize,
    recordlike: usize,
}

fn candidates(v: &Value, prev: Option<&str>, depth: usize) -> Vec<Candidate> {
    let mut out = Vec::new();
    if depth > 6 {
        return out;
    }
    match v {
        Value::Array(a) => {
            let objects = a.iter().filter(|x| x.is_object()).count();
            if objects > 0 && objects * 2 >= a.len() {
                out.push(Candidate {
                    segs: vec![],
                    records: objects,
                    recordlike: a.iter().filter(|x| looks_like_record(x)).count(),
                });
            }
        }
        Value::Object(o) => {
            // An object whose values are records (e.g. PubMedQA's `{PMID: {...}}`).
            let recordlike = o.values().filter(|x| looks_like_record(x)).count();
            if o.len() >= 2 && recordlike * 5 >= o.len() * 4 {
                out.push(Candidate {
                    segs: vec![Seg::Any(Some(binding_name(prev)))],
                    records: o.len(),
                    recordlike,
                });
            }
            for (k, x) in o {
                for mut c in candidates(x, Some(k), depth + 1) {
                    c.segs.insert(0, Seg::Key(k.clone()));
                    out.push(c);
                }
            }
            // The same layout under every key (`sections.{section}.questions`).
            let containers: Vec<&Value> = o
                .values()
                .filter(|x| x.is_object() || x.is_array())
                .collect();
            if containers.len() >= 2 {
                let mut merged: Vec<(String, Candidate, usize)> = Vec::new();
                for x in &containers {
                    for c in candidates(x, None, depth + 1) {
                        if c.segs.is_empty() && x.is_array() {
                            continue; // a list of records under each key is handled below
                        }
                        let key = RecordPath {
                            segs: c.segs.clone(),
                        }
                        .to_string();
                        match merged.iter_mut().find(|(k, _, _)| *k == key) {
                            Some((_, m, n)) => {
                                m.records += c.records;
                                m.recordlike += c.recordlike;
                                *n += 1;
                            }
                            None => merged.push((key, c, 1)),
                        }
                    }
                }
                // Lists of records directly under every key: `{section}` then the list.
                let lists: Vec<&Value> = containers
                    .iter()
                    .copied()
                    .filter(|x| x.is_array())
                    .collect();
                if lists.len() >= 2 {
                    let (mut records, mut recordlike) = (0, 0);
                    for l in &lists {
                        let a = l.as_array().unwrap();
                        records += a.iter().filter(|x| x.is_object()).count();
                        recordlike += a.iter().filter(|x| looks_like_record(x)).count();
                    }
                    merged.push((
                        String::new(),
                        Candidate {
                            segs: vec![],
                            records,
                            recordlike,
                        },
                        lists.len(),
                    ));
                }
                for (_, mut c, n) in merged {
                    if n >= 2 {
                        c.segs.insert(0, Seg::Any(Some(binding_name(prev))));
                        out.push(c);
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// The likely record list of a JSON document: the path finding the most record-like objects.
pub fn detect(doc: &Value) -> Option<(RecordPath, usize)> {
    let mut cs = candidates(doc, None, 0);
    cs.retain(|c| c.records > 0);
    cs.sort_by(|a, b| {
        (b.recordlike, b.records)
            .cmp(&(a.recordlike, a.records))
            .then(a.segs.len().cmp(&b.segs.len()))
    });
    cs.into_iter()
        .next()
        .map(|c| (RecordPath { segs: c.segs }, c.records))
}

/// Whether `bytes` start like a Parquet file.
pub fn is_parquet(name: &str, bytes: &[u8]) -> bool {
    bytes.starts_with(b"PAR1") || name.to_ascii_lowercase().ends_with(".parquet")
}

/// Read the records of a JSON file: JSON Lines, or one document (records at `path`, or detected).
pub fn json_rows(
    input: &InputFile,
    path: Option<&RecordPath>,
    skips: &mut Skips,
) -> Result<(Shape, Vec<Row>), String> {
    let text = String::from_utf8_lossy(crate::manifest::strip_bom(&input.bytes));
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let whole = serde_json::from_str::<Value>(&text).ok();
    let document = match &whole {
        Some(Value::Array(_)) => true,
        // One object: a document when a path is given or records are found inside it; otherwise one record.
        Some(Value::Object(_)) => {
            path.is_some()
                || (lines > 1
                    || detect(whole.as_ref().unwrap()).is_some_and(|(p, n)| !p.is_root() && n >= 2))
        }
        _ => false,
    };
    if document {
        let doc = whole.unwrap();
        let (path, detected) = match path {
            Some(p) => (p.clone(), false),
            None => match detect(&doc) {
                Some((p, _)) => (p, true),
                None => {
                    return Err(format!(
                        "{}: a JSON document, but no list of records was found in it; give the path with --records (e.g. --records sections.*.questions); `bedside convert --inspect {}` shows the layout",
                        input.name, input.name
                    ))
                }
            },
        };
        let rows = path.records(&doc, &input.name, skips)?;
        return Ok((Shape::JsonDocument { path, detected }, rows));
    }
    if let Some(p) = path.filter(|p| !p.is_root()) {
        return Err(format!(
            "{}: --records {p} applies to a JSON document, but this file is JSON Lines (one record per line); drop --records",
            input.name
        ));
    }
    let mut rows = Vec::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let loc = (i + 1).to_string();
        match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(o)) => {
                let n = rows.len() + 1;
                rows.push(Row::new(o, loc, n));
            }
            Ok(_) => skips.skip(&input.name, &loc, "line is not a JSON object"),
            Err(e) => skips.skip(
                &input.name,
                &loc,
                &format!(
                    "invalid JSON ({})",
                    e.to_string().split(" at line").next().unwrap_or("")
                ),
            ),
        }
    }
    Ok((Shape::JsonLines, rows))
}

/// The delimiter of a CSV file, from its name (`.tsv`) and its header line: the most frequent of tab,
/// `;` and `,` (`,` on ties).
pub fn sniff_delimiter(name: &str, bytes: &[u8]) -> u8 {
    let header_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| header_line.iter().filter(|b| **b == d).count();
    if name.to_ascii_lowercase().ends_with(".tsv") || count(b'\t') > count(b',').max(count(b';')) {
        b'\t'
    } else if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Read a CSV/TSV file with a header row; the delimiter is sniffed from the header (`,`, `;`, tab).
pub fn csv_rows(input: &InputFile, skips: &mut Skips) -> Result<(Shape, Vec<Row>), String> {
    let bytes = crate::manifest::strip_bom(&input.bytes);
    let delimiter = sniff_delimiter(&input.name, bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{}: cannot read the CSV header row: {e}", input.name))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                let fields: Map<String, Value> = header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(|v| Value::String(v.to_string())))
                    .collect();
                let n = rows.len() + 1;
                rows.push(Row::new(fields, line.to_string(), n));
            }
            Err(e) => skips.skip(
                &input.name,
                &e.position().map_or(0, |p| p.line() as usize).to_string(),
                "unreadable CSV row",
            ),
        }
    }
    Ok((Shape::Csv { delimiter }, rows))
}

/// Read the rows of a Parquet file (every row group), each as a JSON object of its columns. The
/// `parquet` crate asserts on some malformed files, so the column chunks' offsets are checked first and,
/// where panics unwind (natively), a panic becomes an error.
#[cfg(feature = "parquet")]
pub fn parquet_rows(input: &InputFile) -> Result<(Shape, Vec<Row>), String> {
    #[cfg(panic = "unwind")]
    {
        std::panic::catch_unwind(|| parquet_rows_unchecked(input)).unwrap_or_else(|_| {
            Err(format!(
                "{}: not a readable Parquet file (its metadata is inconsistent)",
                input.name
            ))
        })
    }
    #[cfg(not(panic = "unwind"))]
    {
        parquet_rows_unchecked(input)
    }
}

#[cfg(feature = "parquet")]
fn parquet_rows_unchecked(input: &InputFile) -> Result<(Shape, Vec<Row>), String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let bad = |e: parquet::errors::ParquetError| {
        format!("{}: not a readable Parquet file ({e})", input.name)
    };
    let reader = SerializedFileReader::new(bytes::Bytes::from(input.bytes.clone())).map_err(bad)?;
    let len = input.bytes.len() as i64;
    for rg in reader.metadata().row_groups() {
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            if start < 0 || size < 0 || start.saturating_add(size) > len {
                return Err(format!(
                    "{}: not a readable Parquet file (column `{}` points outside the file)",
                    input.name,
                    c.column_path()
                ));
            }
        }
    }
    let mut rows = Vec::new();
    for (i, row) in reader.get_row_iter(None).map_err(bad)?.enumerate() {
        let row = row.map_err(|e| format!("{}: row {}: {e}", input.name, i + 1))?;
        match row.to_json_value() {
            Value::Object(o) => rows.push(Row::new(o, format!("row {}", i + 1), i + 1)),
            _ => return Err(format!("{}: row {} is not a record", input.name, i + 1)),
        }
    }
    Ok((Shape::Parquet, rows))
}

#[cfg(not(feature = "parquet"))]
pub fn parquet_rows(input: &InputFile) -> Result<(Shape, Vec<Row>), String> {
    Err(format!(
        "{}: Parquet support is not built into this copy of Bedside; convert it with the `bedside` CLI",
        input.name
    ))
}

/// Read a file in one of the generic formats (`Format::guess` tells which from its name and bytes):
/// Parquet, CSV/TSV, or JSON (JSON Lines or one document, records at `path` or detected).
pub fn read_rows(
    input: &InputFile,
    format: Format,
    path: Option<&RecordPath>,
    skips: &mut Skips,
) -> Result<(Shape, Vec<Row>), String> {
    match format {
        Format::Parquet => parquet_rows(input),
        Format::Csv => csv_rows(input, skips),
        _ => json_rows(input, path, skips),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_records_are_found_with_their_enclosing_fields_and_keys() {
        let doc = json!({"exam": "E", "sections": {
            "viro": {"topic": "Virology", "questions": [{"n": 1, "text": "a question long enough to count as one"}, {"n": 2, "text": "b"}]},
            "anat": {"topic": "Anatomy", "questions": [{"n": 1, "text": "c question long enough to count as one"}]}}});
        let (p, n) = detect(&doc).unwrap();
        assert_eq!(p.to_string(), "sections.{section}.questions");
        assert_eq!(n, 3);
        let mut skips = Skips::default();
        let rows = p.records(&doc, "f.json", &mut skips).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].loc, "sections.anat.questions[0]");
        assert_eq!(
            rows[2].bindings,
            vec![("section".to_string(), "anat".to_string())]
        );
        assert_eq!(rows[2].enclosing[0]["topic"], json!("Anatomy"));
        assert_eq!(rows[2].enclosing.last().unwrap()["exam"], json!("E"));
        let bad = RecordPath::parse("sections.*.items").unwrap();
        let e = bad.records(&doc, "f.json", &mut skips).unwrap_err();
        assert!(
            e.contains("no key `items` at `sections.viro`") && e.contains("questions"),
            "{e}"
        );
    }

    #[test]
    fn arrays_and_objects_of_records_are_detected() {
        let arr = json!([{"question": "q1"}, {"question": "q2"}]);
        assert_eq!(detect(&arr).unwrap().0.to_string(), "");
        let keyed = json!({"111": {"QUESTION": "Is it?"}, "222": {"QUESTION": "Or not?"}});
        assert_eq!(
            detect(&keyed).unwrap(),
            (RecordPath::parse("{key}").unwrap(), 2)
        );
        let wrapped = json!({"version": 1, "data": [{"question": "q1"}, {"question": "q2"}]});
        assert_eq!(detect(&wrapped).unwrap().0.to_string(), "data");
    }
}
