//! SentencePiece-style tokenisation from GGUF scores (`tokenizer.ggml.model = llama`), as llama.cpp does it:
//! spaces become `▁`, the text is split into characters, adjacent pieces are merged greedily by the score of
//! the merged piece (highest first, leftmost on ties) while the merge is in the vocabulary, and characters
//! left outside the vocabulary fall back to `<0xXX>` byte tokens.

use std::collections::{BinaryHeap, HashMap};

pub const SPACE: char = '\u{2581}';

#[derive(PartialEq)]
struct Bigram {
    score: f32,
    left: usize,
    size: usize,
}

impl Eq for Bigram {}

impl PartialOrd for Bigram {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Bigram {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Max-heap: higher score first, then lower left index.
        self.score.total_cmp(&o.score).then(o.left.cmp(&self.left))
    }
}

/// Encode one piece of raw text (already escaped: spaces replaced by `▁`).
pub fn encode(
    text: &str,
    vocab: &HashMap<String, u32>,
    scores: &[f32],
    byte_tokens: &[Option<u32>; 256],
    out: &mut Vec<u32>,
) {
    // Symbols as (start, len) byte ranges in a linked list.
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let n = starts.len();
    if n == 0 {
        return;
    }
    let mut sym: Vec<(usize, usize)> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(text.len()) - s))
        .collect();
    let mut prev: Vec<isize> = (0..n as isize).map(|i| i - 1).collect();
    let mut next: Vec<isize> = (0..n as isize)
        .map(|i| if i + 1 < n as isize { i + 1 } else { -1 })
        .collect();
    let mut heap = BinaryHeap::new();
    let try_add = |heap: &mut BinaryHeap<Bigram>, sym: &[(usize, usize)], l: isize, r: isize| {
        if l < 0 || r < 0 {
            return;
        }
        let (ls, ll) = sym[l as usize];
        let (_, rl) = sym[r as usize];
        if let Some(&id) = vocab.get(&text[ls..ls + ll + rl]) {
            heap.push(Bigram {
                score: scores[id as usize],
                left: l as usize,
                size: ll + rl,
            });
        }
    };
    for i in 1..n {
        try_add(&mut heap, &sym, i as isize - 1, i as isize);
    }
    while let Some(b) = heap.pop() {
        let l = b.left;
        let r = next[l];
        // Skip stale bigrams (one side already merged away or changed size).
        if r < 0
            || sym[l].1 == 0
            || sym[r as usize].1 == 0
            || sym[l].1 + sym[r as usize].1 != b.size
        {
            continue;
        }
        let r = r as usize;
        sym[l].1 += sym[r].1;
        sym[r].1 = 0;
        next[l] = next[r];
        if next[r] >= 0 {
            prev[next[r] as usize] = l as isize;
        }
        try_add(&mut heap, &sym, prev[l], l as isize);
        try_add(&mut heap, &sym, l as isize, next[l]);
    }
    let mut i: isize = 0;
    while i >= 0 {
        let (s, len) = sym[i as usize];
        let piece = &text[s..s + len];
        match vocab.get(piece) {
            Some(&id) => out.push(id),
            None => out.extend(piece.bytes().filter_map(|b| byte_tokens[b as usize])),
        }
        i = next[i as usize];
    }
}
