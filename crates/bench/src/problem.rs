//! A problem found in a benchmark: where it is (file, line, field), what is wrong and what to do.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// File name relative to the benchmark folder (e.g. `manifest.json`, `test-000.jsonl`).
    pub file: String,
    /// 1-based line number inside a JSONL/CSV file, when the problem is on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The JSON field (path) concerned, e.g. `answer`, `options[2]`, `shards[0].sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// What the user should do about it.
    pub fix: String,
}

impl Problem {
    pub fn error(
        file: &str,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            severity: Severity::Error,
            file: file.to_string(),
            line,
            field: field.map(str::to_string),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(
        file: &str,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, line, field, message, fix)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// Collects problems up to a cap, while still counting everything past it.
#[derive(Debug, Clone, Serialize)]
pub struct Problems {
    pub problems: Vec<Problem>,
    pub errors: usize,
    pub warnings: usize,
    /// Problems counted but not kept because the cap was reached.
    pub omitted: usize,
    #[serde(skip)]
    cap: usize,
}

impl Default for Problems {
    fn default() -> Self {
        Problems::with_cap(DEFAULT_PROBLEM_CAP)
    }
}

pub const DEFAULT_PROBLEM_CAP: usize = 200;

impl Problems {
    pub fn with_cap(cap: usize) -> Self {
        Problems {
            problems: Vec::new(),
            errors: 0,
            warnings: 0,
            omitted: 0,
            cap,
        }
    }

    pub fn push(&mut self, p: Problem) {
        match p.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        if self.problems.len() < self.cap {
            self.problems.push(p);
        } else {
            self.omitted += 1;
        }
    }

    pub fn extend(&mut self, ps: impl IntoIterator<Item = Problem>) {
        for p in ps {
            self.push(p);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    pub fn is_empty(&self) -> bool {
        self.errors == 0 && self.warnings == 0
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        if self.omitted > 0 {
            writeln!(
                f,
                "... and {} more problem(s) not shown (raise the cap to see them)",
                self.omitted
            )?;
        }
        Ok(())
    }
}
