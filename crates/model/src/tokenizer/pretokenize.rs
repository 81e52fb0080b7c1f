//! Pre-tokenisation for byte-level BPE: split text into words before merging, as llama.cpp does for the
//! GPT-2 family. The GPT-2 pattern is
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, implemented by hand (the
//! lookahead is not available in Rust's `regex`, and a hand scanner is faster, also in wasm).

use unicode_general_category::{get_general_category, GeneralCategory as G};

pub fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
    )
}

pub fn is_number(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::DecimalNumber | G::LetterNumber | G::OtherNumber
    )
}

/// Which pre-tokeniser a vocabulary uses (`tokenizer.ggml.pre`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    /// The GPT-2 pattern alone.
    Gpt2,
    /// Every digit on its own first, then the GPT-2 pattern (`smollm`, `starcoder`, `refact`, ...).
    DigitsThenGpt2,
}

impl PreTokenizer {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "gpt-2" | "gpt2" | "default" | "olmo" | "jais" | "phi-2" | "trillion" | "granite" => {
                PreTokenizer::Gpt2
            }
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone"
            | "minerva-7b" => PreTokenizer::DigitsThenGpt2,
            _ => return None,
        })
    }

    /// Split `text` into words (byte ranges).
    pub fn split<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        match self {
            PreTokenizer::Gpt2 => gpt2(text, &mut out),
            PreTokenizer::DigitsThenGpt2 => {
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if is_number(c) {
                        if start < i {
                            gpt2(&text[start..i], &mut out);
                        }
                        let end = i + c.len_utf8();
                        out.push(&text[i..end]);
                        start = end;
                    }
                }
                if start < text.len() {
                    gpt2(&text[start..], &mut out);
                }
            }
        }
        out
    }
}

/// The GPT-2 pattern over one chunk (the chunk's end counts as the end of text for the lookahead).
fn gpt2<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    let cs: Vec<(usize, char)> = text.char_indices().collect();
    let n = cs.len();
    let at = |i: usize| if i < n { Some(cs[i].1) } else { None };
    let byte = |i: usize| if i < n { cs[i].0 } else { text.len() };
    let mut pos = 0;
    while pos < n {
        let c = cs[pos].1;
        let start = pos;
        // Contractions (case-sensitive, as in GPT-2).
        if c == '\'' {
            if let Some(c1) = at(pos + 1) {
                if matches!(c1, 's' | 't' | 'm' | 'd') {
                    out.push(&text[byte(pos)..byte(pos + 2)]);
                    pos += 2;
                    continue;
                }
                if let Some(c2) = at(pos + 2) {
                    if matches!((c1, c2), ('r', 'e') | ('v', 'e') | ('l', 'l')) {
                        out.push(&text[byte(pos)..byte(pos + 3)]);
                        pos += 3;
                        continue;
                    }
                }
            }
        }
        // An optional single space before a letter run, a number run, or a punctuation run.
        let c0 = if c == ' ' { at(pos + 1) } else { Some(c) };
        if let Some(c0) = c0 {
            let skip = usize::from(c == ' ');
            let class: Option<fn(char) -> bool> = if is_letter(c0) {
                Some(is_letter)
            } else if is_number(c0) {
                Some(is_number)
            } else if !c0.is_whitespace() {
                Some(|x: char| !x.is_whitespace() && !is_letter(x) && !is_number(x))
            } else {
                None
            };
            if let Some(f) = class {
                pos += skip;
                while at(pos).is_some_and(f) {
                    pos += 1;
                }
                out.push(&text[byte(start)..byte(pos)]);
                continue;
            }
        }
        // Whitespace: `\s+(?!\S)` leaves the last space for the next word; `\s+` takes what remains.
        let mut k = 0;
        while at(pos + k).is_some_and(char::is_whitespace) {
            k += 1;
        }
        if k > 1 && at(pos + k).is_some() {
            k -= 1;
        }
        let k = k.max(1);
        out.push(&text[byte(pos)..byte(pos + k)]);
        pos += k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_pattern() {
        let p = PreTokenizer::Gpt2;
        assert_eq!(
            p.split("Hello world's  best!!  "),
            vec!["Hello", " world", "'s", " ", " best", "!!", "  "]
        );
        assert_eq!(p.split("a\n\nb"), vec!["a", "\n", "\n", "b"]);
        assert_eq!(p.split("x 123 y"), vec!["x", " 123", " y"]);
    }

    #[test]
    fn digits_are_split_first() {
        assert_eq!(
            PreTokenizer::DigitsThenGpt2.split("take 500mg"),
            vec!["take", " ", "5", "0", "0", "mg"]
        );
    }
}
