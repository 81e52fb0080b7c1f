//! Partial information: only the first p% of the question's words, as CUPCase does to show how much of
//! a case question is answerable without the case ("CUPCase: Clinically Uncommon Patient Cases and
//! Diagnoses Dataset", Perets et al., AAAI 2025). A model that keeps its accuracy on a fifth of the
//! stem is answering from the options or from a prior, not from the case. The context (e.g. a
//! PubMedQA abstract) is left as it is.

/// The first `percent`% of the words of `text` (at least one word; rounded up), joined by spaces.
pub fn first_words(text: &str, percent: u8) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return String::new();
    }
    let keep = ((words.len() * percent as usize).div_ceil(100)).clamp(1, words.len());
    words[..keep].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_share_of_words() {
        let t = "one two three four five six seven eight nine ten";
        assert_eq!(first_words(t, 20), "one two");
        assert_eq!(first_words(t, 25), "one two three");
        assert_eq!(first_words(t, 1), "one");
        assert_eq!(first_words("single", 20), "single");
        assert_eq!(first_words("  ", 20), "");
    }
}
