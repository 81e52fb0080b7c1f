//! Choosing the next token: greedy, or seeded temperature + top-p (nucleus) sampling.

/// Index of the largest logit (first on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// A small seeded generator (SplitMix64), identical natively and in wasm.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Sample with `temperature` (0 = greedy) from the smallest set of tokens whose probability reaches `top_p`.
pub fn sample(logits: &[f32], temperature: f64, top_p: f64, rng: &mut SplitMix) -> u32 {
    if temperature <= 0.0 {
        return argmax(logits);
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut p: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &x)| (i as u32, ((x as f64 - max) / temperature).exp()))
        .collect();
    let total: f64 = p.iter().map(|x| x.1).sum();
    p.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kept = 0.0;
    let mut n = 0;
    for (_, w) in &p {
        kept += w / total;
        n += 1;
        if kept >= top_p {
            break;
        }
    }
    let mass: f64 = p[..n].iter().map(|x| x.1).sum();
    let mut r = rng.next_f64() * mass;
    for &(id, w) in &p[..n] {
        r -= w;
        if r <= 0.0 {
            return id;
        }
    }
    p[n - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_and_nucleus() {
        let l = [0.0f32, 5.0, 1.0, 4.9];
        assert_eq!(argmax(&l), 1);
        assert_eq!(sample(&l, 0.0, 1.0, &mut SplitMix::new(1)), 1);
        // top_p tiny keeps only the best token.
        assert_eq!(sample(&l, 1.0, 1e-9, &mut SplitMix::new(1)), 1);
        // Sampling at temperature 1 picks tokens 1 and 3 about equally, never the unlikely ones often.
        let mut rng = SplitMix::new(42);
        let mut c = [0usize; 4];
        for _ in 0..2000 {
            c[sample(&l, 1.0, 0.95, &mut rng) as usize] += 1;
        }
        assert!(c[1] > 800 && c[3] > 800 && c[0] == 0, "{c:?}");
        // Same seed, same draws.
        let a: Vec<u32> = (0..20)
            .scan(SplitMix::new(9), |r, _| Some(sample(&l, 1.0, 1.0, r)))
            .collect();
        let b: Vec<u32> = (0..20)
            .scan(SplitMix::new(9), |r, _| Some(sample(&l, 1.0, 1.0, r)))
            .collect();
        assert_eq!(a, b);
    }
}
