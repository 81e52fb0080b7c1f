//! Byte-level BPE (GPT-2 style, `tokenizer.ggml.model = gpt2`): bytes are mapped to printable characters,
//! words are merged pair by pair in merge-rank order, and the merged pieces are looked up in the vocabulary.

use super::pretokenize::PreTokenizer;
use std::collections::HashMap;

/// GPT-2's reversible byte -> char table: printable bytes map to themselves, the rest to U+0100 and up.
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable =
            (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        table[b as usize] = if printable {
            b as char
        } else {
            n += 1;
            char::from_u32(255 + n).unwrap_or('\0')
        };
    }
    table
}

#[derive(Debug, Clone)]
pub struct Bpe {
    pub pre: PreTokenizer,
    ranks: HashMap<(String, String), u32>,
    bytes: [char; 256],
    unbytes: HashMap<char, u8>,
}

impl Bpe {
    pub fn new(pre: PreTokenizer, merges: &[&str]) -> Result<Self, String> {
        let mut ranks = HashMap::with_capacity(merges.len());
        for (i, m) in merges.iter().enumerate() {
            let (a, b) = m.split_once(' ').ok_or_else(|| {
                format!("merge {i} ({m:?}) is not two tokens separated by a space")
            })?;
            ranks.insert((a.to_string(), b.to_string()), i as u32);
        }
        let bytes = byte_to_char();
        let unbytes = bytes
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect();
        Ok(Bpe {
            pre,
            ranks,
            bytes,
            unbytes,
        })
    }

    /// Token ids of `text` (no special-token handling here).
    pub fn encode(&self, text: &str, vocab: &HashMap<String, u32>, out: &mut Vec<u32>) {
        for word in self.pre.split(text) {
            let mapped: String = word.bytes().map(|b| self.bytes[b as usize]).collect();
            if let Some(&id) = vocab.get(&mapped) {
                out.push(id);
                continue;
            }
            for piece in self.merge(&mapped) {
                match vocab.get(&piece) {
                    Some(&id) => out.push(id),
                    // A piece missing from the vocabulary: fall back to its characters (each byte is a token).
                    None => out.extend(
                        piece
                            .chars()
                            .filter_map(|c| vocab.get(&c.to_string()).copied()),
                    ),
                }
            }
        }
    }

    /// Merge a word's characters by rank, lowest first, leftmost on ties.
    fn merge(&self, word: &str) -> Vec<String> {
        let mut parts: Vec<String> = word.chars().map(String::from).collect();
        loop {
            let mut best: Option<(u32, usize)> = None;
            for i in 0..parts.len().saturating_sub(1) {
                if let Some(&r) = self.ranks.get(&(parts[i].clone(), parts[i + 1].clone())) {
                    if best.is_none_or(|(br, _)| r < br) {
                        best = Some((r, i));
                    }
                }
            }
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].push_str(&right);
        }
        parts
    }

    /// The bytes a vocabulary entry stands for.
    pub fn token_bytes(&self, token: &str) -> Vec<u8> {
        token
            .chars()
            .map(|c| self.unbytes.get(&c).copied().unwrap_or(b'?'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_a_bijection() {
        let t = byte_to_char();
        let mut v: Vec<char> = t.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), 256);
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
    }
}
