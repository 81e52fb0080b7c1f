//! `manifest.json`: what a benchmark is, where it comes from, and which shard files it has.

use crate::item::kind;
use crate::problem::Problem;
use crate::task::Task;
use serde::Serialize;
use serde_json::{Map, Value};

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    /// SPDX identifier (e.g. `MIT`, `CC-BY-4.0`) or the license text.
    pub license: String,
    pub citation: String,
    /// URL or repository the items come from.
    pub source: String,
    /// BCP 47 language tag, e.g. `en`.
    pub language: String,
    pub task: Task,
    pub shards: Vec<ShardEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardEntry {
    /// File name relative to the benchmark folder.
    pub file: String,
    pub items: usize,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Which split the shard belongs to: `test` (scored, the default), `dev`/`train`/`validation` (few-shot pools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
}

impl ShardEntry {
    pub fn split(&self) -> &str {
        self.split.as_deref().unwrap_or("test")
    }
}

/// A node of the optional subject taxonomy (specialty -> topic -> ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectNode {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<SubjectNode>,
}

impl SubjectNode {
    /// Every name in this subtree.
    pub fn names<'a>(&'a self, out: &mut Vec<&'a str>) {
        out.push(&self.name);
        for c in &self.children {
            c.names(out);
        }
    }
}

pub const SPLITS: [&str; 4] = ["test", "dev", "train", "validation"];
const REQUIRED_STRINGS: [&str; 7] = [
    "name",
    "version",
    "description",
    "license",
    "citation",
    "source",
    "language",
];
const MANIFEST_FIELDS: [&str; 10] = [
    "name",
    "version",
    "description",
    "license",
    "citation",
    "source",
    "language",
    "task",
    "shards",
    "subjects",
];

impl Manifest {
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes") + "\n"
    }

    pub fn subject_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for s in &self.subjects {
            s.names(&mut out);
        }
        out
    }

    /// Parse and check a manifest. All problems are returned; the manifest only when there is no error.
    pub fn parse(bytes: &[u8], file: &str) -> (Option<Manifest>, Vec<Problem>) {
        let mut ps = Vec::new();
        let v: Value = match serde_json::from_slice(strip_bom(bytes)) {
            Ok(v) => v,
            Err(e) => {
                ps.push(Problem::error(
                    file,
                    Some(e.line()),
                    None,
                    format!("invalid JSON: {e}"),
                    "fix the JSON syntax (a validator such as `python -m json.tool manifest.json` shows the spot)",
                ));
                return (None, ps);
            }
        };
        let Some(obj) = v.as_object() else {
            ps.push(Problem::error(
                file,
                None,
                None,
                format!("the manifest must be a JSON object, found {}", kind(&v)),
                "see docs/shard-format.md for the fields",
            ));
            return (None, ps);
        };
        for k in obj.keys() {
            if !MANIFEST_FIELDS.contains(&k.as_str()) {
                ps.push(Problem::warning(
                    file,
                    None,
                    Some(k),
                    format!("unknown manifest field `{k}` is ignored"),
                    "remove it or check its spelling",
                ));
            }
        }
        let mut strings = Vec::new();
        for f in REQUIRED_STRINGS {
            match obj.get(f) {
                Some(Value::String(s)) if !s.trim().is_empty() => strings.push(s.clone()),
                Some(Value::String(_)) => {
                    ps.push(Problem::error(
                        file,
                        None,
                        Some(f),
                        format!("`{f}` is empty"),
                        field_fix(f),
                    ));
                }
                None | Some(Value::Null) => ps.push(Problem::error(
                    file,
                    None,
                    Some(f),
                    format!("missing required field `{f}`"),
                    field_fix(f),
                )),
                Some(other) => ps.push(Problem::error(
                    file,
                    None,
                    Some(f),
                    format!("`{f}` must be a string, found {}", kind(other)),
                    field_fix(f),
                )),
            }
        }
        let task = match obj.get("task") {
            Some(Value::String(s)) => match s.parse::<Task>() {
                Ok(t) => Some(t),
                Err(msg) => {
                    ps.push(Problem::error(
                        file,
                        None,
                        Some("task"),
                        msg,
                        "set \"task\" to \"mcq\", \"yes_no_maybe\" or \"numeric\"",
                    ));
                    None
                }
            },
            None => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some("task"),
                    "missing required field `task`",
                    "set \"task\" to \"mcq\", \"yes_no_maybe\" or \"numeric\"",
                ));
                None
            }
            Some(other) => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some("task"),
                    format!("`task` must be a string, found {}", kind(other)),
                    "set \"task\" to \"mcq\", \"yes_no_maybe\" or \"numeric\"",
                ));
                None
            }
        };
        let shards = parse_shards(obj, file, &mut ps);
        let subjects = match obj.get("subjects") {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(v) => parse_subjects(v, "subjects", file, &mut ps),
        };
        if ps.iter().any(Problem::is_error) {
            return (None, ps);
        }
        let (Some(task), Some(shards), Some(subjects)) = (task, shards, subjects) else {
            return (None, ps);
        };
        let [name, version, description, license, citation, source, language]: [String; 7] =
            match strings.try_into() {
                Ok(a) => a,
                Err(_) => return (None, ps),
            };
        let m = Manifest {
            name,
            version,
            description,
            license,
            citation,
            source,
            language,
            task,
            shards,
            subjects,
        };
        (Some(m), ps)
    }
}

pub fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

fn field_fix(f: &str) -> &'static str {
    match f {
        "license" => "give an SPDX id such as \"MIT\" or \"CC-BY-4.0\", or the license text",
        "citation" => "give the paper to cite: authors, title, venue, year",
        "source" => "give the URL or repository the items come from",
        "language" => "give a BCP 47 tag such as \"en\" or \"pt-BR\"",
        "version" => "give a version string such as \"1.0\"",
        _ => "add it as a non-empty string",
    }
}

fn parse_shards(
    obj: &Map<String, Value>,
    file: &str,
    ps: &mut Vec<Problem>,
) -> Option<Vec<ShardEntry>> {
    let arr = match obj.get("shards") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => {
            ps.push(Problem::error(
                file,
                None,
                Some("shards"),
                "`shards` is empty",
                "list at least one shard: {\"file\": ..., \"items\": N, \"sha256\": ...}",
            ));
            return None;
        }
        None => {
            ps.push(Problem::error(
                file,
                None,
                Some("shards"),
                "missing required field `shards`",
                "list the shard files: [{\"file\": ..., \"items\": N, \"sha256\": ...}]",
            ));
            return None;
        }
        Some(other) => {
            ps.push(Problem::error(
                file,
                None,
                Some("shards"),
                format!("`shards` must be a list, found {}", kind(other)),
                "list the shard files: [{\"file\": ..., \"items\": N, \"sha256\": ...}]",
            ));
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, s) in arr.iter().enumerate() {
        let at = |f: &str| format!("shards[{i}].{f}");
        let Some(o) = s.as_object() else {
            ps.push(Problem::error(
                file,
                None,
                Some(&format!("shards[{i}]")),
                format!("expected an object, found {}", kind(s)),
                "write {\"file\": ..., \"items\": N, \"sha256\": ...}",
            ));
            ok = false;
            continue;
        };
        let f = match o.get("file") {
            Some(Value::String(f)) if is_safe_file_name(f) => Some(f.clone()),
            Some(Value::String(f)) => {
                ps.push(Problem::error(file, None, Some(&at("file")), format!("shard file {f:?} must be a plain `.jsonl` file name inside the benchmark folder"), "use a name like \"test-000.jsonl\" with no directories"));
                None
            }
            _ => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some(&at("file")),
                    "missing or non-string `file`",
                    "give the shard's file name, e.g. \"test-000.jsonl\"",
                ));
                None
            }
        };
        let items = match o.get("items").and_then(Value::as_u64) {
            Some(n) => Some(n as usize),
            None => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some(&at("items")),
                    "missing or invalid `items` (must be a non-negative integer)",
                    "give the number of items (lines) in the shard",
                ));
                None
            }
        };
        let sha = match o.get("sha256") {
            Some(Value::String(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(h.to_ascii_lowercase())
            }
            _ => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some(&at("sha256")),
                    "missing or malformed `sha256` (64 hex digits)",
                    "compute it with `sha256sum <shard>`",
                ));
                None
            }
        };
        let split = match o.get("split") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if SPLITS.contains(&s.as_str()) => Some(s.clone()),
            Some(other) => {
                ps.push(Problem::error(
                    file,
                    None,
                    Some(&at("split")),
                    format!("unknown split {other}"),
                    "use one of: test, dev, train, validation",
                ));
                ok = false;
                None
            }
        };
        match (f, items, sha) {
            (Some(file), Some(items), Some(sha256)) => {
                if out.iter().any(|e: &ShardEntry| e.file == file) {
                    ps.push(Problem::error(
                        MANIFEST_FILE,
                        None,
                        Some(&at("file")),
                        format!("shard {file:?} is listed twice"),
                        "list each shard once",
                    ));
                    ok = false;
                }
                out.push(ShardEntry {
                    file,
                    items,
                    sha256,
                    split,
                })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// A shard file name must not escape the benchmark folder.
pub fn is_safe_file_name(f: &str) -> bool {
    !f.is_empty()
        && f.ends_with(".jsonl")
        && !f.contains('/')
        && !f.contains('\\')
        && !f.starts_with('.')
}

fn parse_subjects(
    v: &Value,
    path: &str,
    file: &str,
    ps: &mut Vec<Problem>,
) -> Option<Vec<SubjectNode>> {
    let Some(arr) = v.as_array() else {
        ps.push(Problem::error(
            file,
            None,
            Some(path),
            format!(
                "must be a list of {{\"name\", \"children\"}} nodes, found {}",
                kind(v)
            ),
            "see docs/shard-format.md, section subjects",
        ));
        return None;
    };
    let mut out = Vec::new();
    for (i, n) in arr.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let name = n.get("name").and_then(Value::as_str);
        let Some(name) = name.filter(|s| !s.trim().is_empty()) else {
            ps.push(Problem::error(
                file,
                None,
                Some(&here),
                "subject node needs a non-empty `name`",
                "write {\"name\": \"Cardiology\", \"children\": [...]}",
            ));
            return None;
        };
        let children = match n.get("children") {
            None | Some(Value::Null) => Vec::new(),
            Some(c) => parse_subjects(c, &format!("{here}.children"), file, ps)?,
        };
        out.push(SubjectNode {
            name: name.to_string(),
            children,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "name": "x", "version": "1", "description": "d", "license": "MIT", "citation": "c", "source": "s",
            "language": "en", "task": "mcq",
            "shards": [{"file": "test-000.jsonl", "items": 3, "sha256": "a".repeat(64)}],
            "subjects": [{"name": "Medicine", "children": [{"name": "Cardiology"}]}]
        })
    }

    #[test]
    fn parses_and_round_trips() {
        let (m, ps) = Manifest::parse(good().to_string().as_bytes(), MANIFEST_FILE);
        assert!(ps.is_empty(), "{ps:?}");
        let m = m.unwrap();
        assert_eq!(m.subject_names(), vec!["Medicine", "Cardiology"]);
        let (m2, _) = Manifest::parse(m.to_json_pretty().as_bytes(), MANIFEST_FILE);
        assert_eq!(m2.unwrap(), m);
    }

    #[test]
    fn unknown_task_and_missing_license() {
        let mut v = good();
        v["task"] = json!("essay");
        v.as_object_mut().unwrap().remove("license");
        let (m, ps) = Manifest::parse(v.to_string().as_bytes(), MANIFEST_FILE);
        assert!(m.is_none());
        assert!(ps
            .iter()
            .any(|p| p.field.as_deref() == Some("task") && p.message.contains("essay")));
        assert!(ps.iter().any(|p| p.field.as_deref() == Some("license")));
    }

    #[test]
    fn rejects_path_escape_and_bad_hash() {
        let mut v = good();
        v["shards"] = json!([{"file": "../etc/passwd.jsonl", "items": 1, "sha256": "zz"}]);
        let (_, ps) = Manifest::parse(v.to_string().as_bytes(), MANIFEST_FILE);
        assert!(ps
            .iter()
            .any(|p| p.field.as_deref() == Some("shards[0].file")));
        assert!(ps
            .iter()
            .any(|p| p.field.as_deref() == Some("shards[0].sha256")));
    }

    #[test]
    fn invalid_json_has_line() {
        let (_, ps) = Manifest::parse(b"{\n\"name\": \"x\",\n oops\n}", MANIFEST_FILE);
        assert_eq!(ps[0].line, Some(3));
    }
}
