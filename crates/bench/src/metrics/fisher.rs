//! Fisher's exact test on a 2×2 table, one-sided: are the rows' "yes" enriched in the first column?
//!
//! Used to ask whether items a model flags (e.g. IRT's negative discrimination) are more often the
//! ones experts labelled as flawed than chance would give. The table is
//!
//! ```text
//!                 column 1   column 2
//!   row 1 (yes)       a          b
//!   row 2 (no)        c          d
//! ```
//!
//! and the p-value is P(X ≥ a) for X hypergeometric with the table's margins fixed (as SciPy's
//! `fisher_exact(..., alternative="greater")`).

use super::special::ln_choose;

/// One-sided p-value P(X ≥ a) with margins fixed. 1.0 for an empty table.
pub fn fisher_greater(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let col1 = a + c;
    let n = a + b + c + d;
    if n == 0 {
        return 1.0;
    }
    let hi = row1.min(col1);
    let denom = ln_choose(n, row1);
    let mut p = 0.0;
    for x in a..=hi {
        // x in row 1 / column 1, row1 - x in row 1 / column 2, needs col1 - x <= n - row1.
        if col1 - x > n - row1 {
            continue;
        }
        p += (ln_choose(col1, x) + ln_choose(n - col1, row1 - x) - denom).exp();
    }
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_tables() {
        // a=3 of 3 flagged are in column 1 (which has 3 of 6): C(3,3)C(3,0)/C(6,3) = 1/20.
        assert!((fisher_greater(3, 0, 0, 3) - 0.05).abs() < 1e-12);
        // Nothing flagged: P(X >= 0) = 1.
        assert_eq!(fisher_greater(0, 0, 4, 5), 1.0);
        // The lower tail is not counted: a = 0 with margins allowing more still gives 1.
        assert!((fisher_greater(0, 3, 3, 0) - 1.0).abs() < 1e-12);
        assert_eq!(fisher_greater(0, 0, 0, 0), 1.0);
    }
}
