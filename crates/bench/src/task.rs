//! The kind of task a benchmark poses.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Multiple choice: 2-10 options, `answer` is a 0-based index.
    Mcq,
    /// PubMedQA-style: options are fixed to `["yes", "no", "maybe"]`, `answer` is a 0-based index.
    YesNoMaybe,
    /// A number: `answer` is a number with `tolerance` or `range`.
    Numeric,
    /// Multiple choice with one or more correct options: `answer` is a list of 0-based indices.
    McqMulti,
}

/// The fixed options of a `yes_no_maybe` item, in order.
pub const YES_NO_MAYBE: [&str; 3] = ["yes", "no", "maybe"];

/// Option-count limits for `mcq` items.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;

impl Task {
    pub const ALL: [Task; 4] = [Task::Mcq, Task::YesNoMaybe, Task::Numeric, Task::McqMulti];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Mcq => "mcq",
            Task::YesNoMaybe => "yes_no_maybe",
            Task::Numeric => "numeric",
            Task::McqMulti => "mcq_multi",
        }
    }

    /// Whether items of this task are answered by choosing one of `options`.
    pub fn has_options(self) -> bool {
        !matches!(self, Task::Numeric)
    }

    /// Whether an item may have several correct options (`answer` is a list).
    pub fn is_multi(self) -> bool {
        matches!(self, Task::McqMulti)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!("unknown task kind `{s}`; expected one of: mcq, yes_no_maybe, numeric, mcq_multi")
            })
    }
}

/// The letter shown for option `i` (A, B, C, ...).
pub fn option_letter(i: usize) -> char {
    (b'A' + (i as u8 % 26)) as char
}
