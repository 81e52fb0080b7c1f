//! Bradley–Terry strengths for evaluation runs compared item by item.
//!
//! Motivation: PMR-Bench ("Medical Triage as Pairwise Ranking", 2025) ranks by pairwise comparison
//! instead of absolute scores; here the same idea is applied to the runs (models) themselves. On every
//! benchmark item two runs are compared: run A right and run B wrong means A wins that item; both
//! right or both wrong is a tie.
//!
//! Model (Bradley & Terry, 1952, "Rank analysis of incomplete block designs: I. The method of paired
//! comparisons", Biometrika 39:324–345): every run `i` has a log-strength `θi` and
//! `P(i beats j) = exp(θi) / (exp(θi) + exp(θj)) = 1 / (1 + exp(θj − θi))`.
//!
//! **Ties.** A tie says nothing about which of two runs is stronger in the plain Bradley–Terry model,
//! so ties are left out, exactly as McNemar's test (see [`super::mcnemar`]) uses only the discordant
//! items; their number is reported in [`BtFit::ties`]. Davidson's ties model (Davidson, 1970, "On
//! extending the Bradley-Terry model to accommodate ties", JASA 65:317–328) adds a tie parameter; it
//! is not used here.
//!
//! **Estimate.** The strengths minimise the same objective as `choix.opt_pairwise` (choix 0.4.1,
//! `choix/opt.py`, `PairwiseFcts.objective`):
//!
//! ```text
//! f(θ) = −ℓ(θ) + alpha · Σ θi²,   ℓ(θ) = Σ_{i≠j} wins[i][j] · ln σ(θi − θj),   σ(x) = 1/(1+e^−x)
//! ```
//!
//! Note the penalty is `alpha · Σθ²`, not `alpha/2 · Σθ²` (choix's documentation speaks of a
//! Gaussian prior with variance `1/alpha`; the code, which decides the numbers, corresponds to variance
//! `1/(2·alpha)`). With `alpha > 0` the minimiser is unique and automatically centred: the gradient of
//! `ℓ` sums to zero over players, so at the optimum `2·alpha·Σθi = 0`. A run that never wins therefore
//! still gets a finite strength. With `alpha = 0` the plain maximum-likelihood estimate is used; it
//! exists if and only if the "who beat whom" graph is strongly connected (Zermelo's condition; Hunter,
//! 2004, "MM algorithms for generalized Bradley-Terry models", Annals of Statistics 32:384–406,
//! Assumption 1), which is checked, and `θ` is then centred to mean 0.
//!
//! The minimiser is found by Newton's method on the full Hessian (runs are few, ≤ 50 in practice;
//! each step is an `O(n³)` Cholesky solve) with a step-halving (Armijo) line search, starting from
//! `θ = 0`. Hunter's MM algorithm converges to the same point but only linearly.
//!
//! **Standard errors.** Let `I(θ̂)` be the Hessian of `−ℓ` at the estimate (the observed = expected
//! Fisher information; `I·1 = 0`) and `P = I − 11ᵀ/n` the projector onto centred vectors. The
//! covariance of the centred strengths is the Moore–Penrose pseudo-inverse
//! `C = (I(θ̂) + 2·alpha·P)⁺`, i.e. the inverse of the Hessian of the penalised objective restricted to
//! the centring subspace `Σθ = 0` (the penalty term `2·alpha·I` is replaced by `2·alpha·P` because the
//! common shift of all strengths is fixed by the centring, not estimated). Computed as
//! `(I(θ̂) + 2·alpha·P + 11ᵀ/n)⁻¹ − 11ᵀ/n`. For `alpha → 0` this is the usual `I(θ̂)⁺` of the
//! sum-to-zero parametrisation; using the plain inverse `(I(θ̂) + 2·alpha·I)⁻¹` instead would add a
//! spurious `1/(2·alpha·n)` to every variance, the prior's uncertainty about a shift that the centring
//! removes. The 95% Wald interval is `θ ± 1.96·se`.

use serde::Serialize;

/// Options for [`fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BtOptions {
    /// L2 regularisation, same meaning as choix's `alpha`: the objective is
    /// `−log-likelihood + alpha·Σθ²`. Must be finite and ≥ 0; 0 = plain maximum likelihood.
    pub alpha: f64,
    /// Newton iterations allowed (≥ 1).
    pub max_iterations: usize,
    /// Converged when the largest component of a Newton step is at most this (> 0).
    pub tolerance: f64,
}

impl Default for BtOptions {
    fn default() -> Self {
        BtOptions {
            alpha: 0.01,
            max_iterations: 200,
            tolerance: 1e-10,
        }
    }
}

/// One run's fitted strength.
#[derive(Debug, Clone, Serialize)]
pub struct Strength {
    /// Index of the run (row of the wins matrix; a caller fitting a subset of its runs may renumber it).
    pub player: usize,
    /// Log-strength θ, centred so the mean over players is 0.
    pub strength: f64,
    /// Standard error of θ (see the module documentation).
    pub se: f64,
    /// 95% Wald interval θ ± 1.96·se.
    pub low: f64,
    pub high: f64,
    /// 1 = strongest; equal strengths are ordered by player index.
    pub rank: usize,
    /// Decisive items this run won / lost against any other run.
    pub wins: u32,
    pub losses: u32,
}

/// Result of [`fit`].
#[derive(Debug, Clone, Serialize)]
pub struct BtFit {
    /// One entry per player, in player order.
    pub strengths: Vec<Strength>,
    /// Covariance matrix of the centred strengths (`se[i]² = covariance[i][i]`); gives the standard
    /// error of a difference `θa − θb` as `sqrt(C_aa + C_bb − 2·C_ab)`.
    pub covariance: Vec<Vec<f64>>,
    /// Decisive outcomes used (sum of the wins matrix).
    pub comparisons: u32,
    /// Ties reported by the caller (left out of the fit).
    pub ties: u32,
    /// The `alpha` used.
    pub alpha: f64,
    /// Newton iterations taken.
    pub iterations: usize,
    pub converged: bool,
    /// Unpenalised log-likelihood `ℓ(θ̂)` of the decisive outcomes.
    pub log_likelihood: f64,
    /// `ℓ(θ̂) − alpha·Σθ̂²`, the quantity maximised.
    pub penalised_log_likelihood: f64,
}

/// P(player with log-strength `a` beats player with `b`) = 1 / (1 + exp(b − a)).
pub fn win_probability(a: f64, b: f64) -> f64 {
    sigmoid(a - b)
}

/// Wins matrix and tie count from per-run correctness over the same items (`runs[r][item]`).
/// `wins[i][j]` counts items run `i` got right and run `j` wrong; a tie (both right or both wrong) is
/// counted once per unordered pair of runs per item. Only the items all runs have are compared (runs
/// should have equal length; a longer run's extra items are ignored).
pub fn wins_from_correctness(runs: &[Vec<bool>]) -> (Vec<Vec<u32>>, u32) {
    let n = runs.len();
    let items = runs.iter().map(Vec::len).min().unwrap_or(0);
    let mut wins = vec![vec![0u32; n]; n];
    let mut ties = 0u32;
    for i in 0..n {
        for j in (i + 1)..n {
            for (&a, &b) in runs[i][..items].iter().zip(&runs[j][..items]) {
                match (a, b) {
                    (true, false) => wins[i][j] = wins[i][j].saturating_add(1),
                    (false, true) => wins[j][i] = wins[j][i].saturating_add(1),
                    _ => ties = ties.saturating_add(1),
                }
            }
        }
    }
    (wins, ties)
}

/// Fit Bradley–Terry strengths. `wins[i][j]` = items on which `i` won against `j` (i right, j
/// wrong); the matrix must be square with a zero diagonal. `ties` is only reported. Errors (never
/// panics) on fewer than 2 players, a non-square matrix, a non-zero diagonal, no decisive outcome,
/// invalid options, or `alpha = 0` with data for which the maximum-likelihood estimate does not exist.
pub fn fit(wins: &[Vec<u32>], ties: u32, opts: &BtOptions) -> Result<BtFit, String> {
    let n = wins.len();
    if n < 2 {
        return Err(format!(
            "Bradley-Terry needs at least 2 players (runs); got {n}."
        ));
    }
    for (i, row) in wins.iter().enumerate() {
        if row.len() != n {
            return Err(format!(
                "The wins matrix must be square: row {i} has {} entries but there are {n} rows.",
                row.len()
            ));
        }
        if row[i] != 0 {
            return Err(format!(
                "wins[{i}][{i}] = {}: a player cannot win against itself, the diagonal must be 0.",
                row[i]
            ));
        }
    }
    if !(opts.alpha.is_finite() && opts.alpha >= 0.0) {
        return Err(format!(
            "alpha must be a finite number >= 0; got {}.",
            opts.alpha
        ));
    }
    if !(opts.tolerance.is_finite() && opts.tolerance > 0.0) {
        return Err(format!(
            "tolerance must be a finite number > 0; got {}.",
            opts.tolerance
        ));
    }
    if opts.max_iterations == 0 {
        return Err("max_iterations must be at least 1.".to_string());
    }
    let total: u64 = wins.iter().flatten().map(|&w| w as u64).sum();
    if total == 0 {
        return Err(
            "No decisive outcome: no player ever won against another (all comparisons tied or none \
             made), so Bradley-Terry strengths are not identified."
                .to_string(),
        );
    }
    let alpha = opts.alpha;
    if alpha == 0.0 && !strongly_connected(wins) {
        return Err(
            "With alpha = 0 the maximum-likelihood strengths do not exist: some group of players never \
             won against the rest (the who-beat-whom graph is not strongly connected), so their \
             strengths would diverge. Use alpha > 0."
                .to_string(),
        );
    }

    let w: Vec<f64> = wins.iter().flatten().map(|&x| x as f64).collect();
    let mut theta = vec![0.0; n];
    let mut f = objective(&w, n, &theta, alpha);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iterations {
        iterations += 1;
        let (g, mut h) = gradient_hessian(&w, n, &theta, alpha);
        if alpha == 0.0 {
            // I·1 = 0 and g ⊥ 1: adding 11ᵀ/n makes the system definite and keeps the step centred.
            for v in h.iter_mut() {
                *v += 1.0 / n as f64;
            }
        }
        let l = cholesky(&h, n).ok_or_else(|| {
            "The Hessian is not positive definite (numerically singular); try a larger alpha."
                .to_string()
        })?;
        let neg_g: Vec<f64> = g.iter().map(|x| -x).collect();
        let d = chol_solve(&l, n, &neg_g);
        if d.iter().any(|x| !x.is_finite()) {
            return Err("Newton step is not finite; try a larger alpha.".to_string());
        }
        let max_step = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if max_step <= opts.tolerance {
            for (t, s) in theta.iter_mut().zip(&d) {
                *t += s;
            }
            converged = true;
            break;
        }
        // gᵀd = −(squared Newton decrement) ≈ −2 × the predicted decrease of f. When that is below
        // what f can resolve in floating point, a line search on f is meaningless: we are in Newton's
        // quadratic region, so take the full step.
        let slope: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
        if -slope <= 1e-12 * (1.0 + f.abs()) {
            for (t, s) in theta.iter_mut().zip(&d) {
                *t += s;
            }
            f = objective(&w, n, &theta, alpha);
            continue;
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let trial: Vec<f64> = theta.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            let ft = objective(&w, n, &trial, alpha);
            if ft <= f + 1e-4 * t * slope {
                theta = trial;
                f = ft;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break;
        }
    }

    let mean = theta.iter().sum::<f64>() / n as f64;
    for t in theta.iter_mut() {
        *t -= mean;
    }
    let log_likelihood = log_lik(&w, n, &theta);
    let penalty = alpha * theta.iter().map(|t| t * t).sum::<f64>();

    // Covariance: (I(θ) + 2·alpha·P)⁺ = (I(θ) + 2·alpha·P + J/n)⁻¹ − J/n.
    let (_, info) = gradient_hessian(&w, n, &theta, 0.0);
    let inv_n = 1.0 / n as f64;
    let mut m = info;
    for i in 0..n {
        for j in 0..n {
            let p = if i == j { 1.0 - inv_n } else { -inv_n };
            m[i * n + j] += 2.0 * alpha * p + inv_n;
        }
    }
    let l = cholesky(&m, n).ok_or_else(|| {
        "The information matrix is singular, so standard errors are undefined; try a larger alpha."
            .to_string()
    })?;
    // Column j of the inverse; the matrix is symmetric, so it is also row j.
    let raw: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let e: Vec<f64> = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
            chol_solve(&l, n, &e).iter().map(|x| x - inv_n).collect()
        })
        .collect();
    // Symmetrise (the two triangles agree to rounding).
    let covariance: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| 0.5 * (raw[i][j] + raw[j][i])).collect())
        .collect();

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| theta[b].total_cmp(&theta[a]).then(a.cmp(&b)));
    let mut rank = vec![0usize; n];
    for (r, &p) in order.iter().enumerate() {
        rank[p] = r + 1;
    }
    let z = 1.959_963_984_540_054;
    let strengths = (0..n)
        .map(|i| {
            let se = covariance[i][i].max(0.0).sqrt();
            let won: u64 = wins[i].iter().map(|&x| x as u64).sum();
            let lost: u64 = wins.iter().map(|row| row[i] as u64).sum();
            Strength {
                player: i,
                strength: theta[i],
                se,
                low: theta[i] - z * se,
                high: theta[i] + z * se,
                rank: rank[i],
                wins: saturate(won),
                losses: saturate(lost),
            }
        })
        .collect();
    Ok(BtFit {
        strengths,
        covariance,
        comparisons: saturate(total),
        ties,
        alpha,
        iterations,
        converged,
        log_likelihood,
        penalised_log_likelihood: log_likelihood - penalty,
    })
}

fn saturate(x: u64) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ln σ(x) = −ln(1 + e^−x), without overflow.
fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

fn log_lik(w: &[f64], n: usize, theta: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            let wij = w[i * n + j];
            if wij > 0.0 {
                s += wij * log_sigmoid(theta[i] - theta[j]);
            }
        }
    }
    s
}

/// The choix objective: −ℓ(θ) + alpha·Σθ².
fn objective(w: &[f64], n: usize, theta: &[f64], alpha: f64) -> f64 {
    -log_lik(w, n, theta) + alpha * theta.iter().map(|t| t * t).sum::<f64>()
}

/// Gradient and Hessian (row-major) of the objective.
fn gradient_hessian(w: &[f64], n: usize, theta: &[f64], alpha: f64) -> (Vec<f64>, Vec<f64>) {
    let mut g: Vec<f64> = theta.iter().map(|t| 2.0 * alpha * t).collect();
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 2.0 * alpha;
    }
    for i in 0..n {
        for j in (i + 1)..n {
            let (wij, wji) = (w[i * n + j], w[j * n + i]);
            let nij = wij + wji;
            if nij == 0.0 {
                continue;
            }
            let p = sigmoid(theta[i] - theta[j]);
            let q = sigmoid(theta[j] - theta[i]);
            // dℓ/dθi = wij − nij·p.
            let r = wij - nij * p;
            g[i] -= r;
            g[j] += r;
            let v = nij * p * q;
            h[i * n + i] += v;
            h[j * n + j] += v;
            h[i * n + j] -= v;
            h[j * n + i] -= v;
        }
    }
    (g, h)
}

/// Is the directed graph "i beat j" strongly connected?
fn strongly_connected(wins: &[Vec<u32>]) -> bool {
    let n = wins.len();
    let reach = |forward: bool| {
        let mut seen = vec![false; n];
        let mut stack = vec![0usize];
        seen[0] = true;
        while let Some(u) = stack.pop() {
            for v in 0..n {
                let edge = if forward { wins[u][v] } else { wins[v][u] };
                if edge > 0 && !seen[v] {
                    seen[v] = true;
                    stack.push(v);
                }
            }
        }
        seen.iter().all(|&s| s)
    };
    reach(true) && reach(false)
}

/// Lower-triangular Cholesky factor of a symmetric positive definite row-major matrix.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solve L·Lᵀ·x = b.
fn chol_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..n {
        let mut s = y[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= l[k * n + i] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::rng::Rng;

    /// `wins[i][j]` simulated from true log-strengths, `per_pair` comparisons per unordered pair.
    fn simulate(theta: &[f64], per_pair: u32, seed: u64) -> Vec<Vec<u32>> {
        let n = theta.len();
        let mut rng = Rng::new(seed);
        let mut w = vec![vec![0u32; n]; n];
        for i in 0..n {
            for j in (i + 1)..n {
                let p = win_probability(theta[i], theta[j]);
                for _ in 0..per_pair {
                    if rng.unit() < p {
                        w[i][j] += 1;
                    } else {
                        w[j][i] += 1;
                    }
                }
            }
        }
        w
    }

    #[test]
    fn recovers_known_strengths() {
        // Centred true strengths, 6 players, 2000 comparisons per pair (10,000 per player).
        let truth = [-1.5, -0.7, -0.2, 0.1, 0.8, 1.5];
        let w = simulate(&truth, 2000, 20_261_201);
        let opts = BtOptions {
            alpha: 0.0,
            ..BtOptions::default()
        };
        let fit = fit(&w, 0, &opts).unwrap();
        assert!(fit.converged);
        assert_eq!(fit.comparisons, 15 * 2000);
        for (s, &t) in fit.strengths.iter().zip(&truth) {
            // se ≈ 0.02 here; 4 se is ≈ 0.08, so 0.1 fails only for a wrong estimator.
            assert!(
                (s.strength - t).abs() < 0.1,
                "player {}: {} vs {t}",
                s.player,
                s.strength
            );
            assert!(s.se > 0.01 && s.se < 0.04, "se {}", s.se);
            assert!(s.low < s.strength && s.strength < s.high);
        }
        let ranks: Vec<usize> = fit.strengths.iter().map(|s| s.rank).collect();
        assert_eq!(ranks, vec![6, 5, 4, 3, 2, 1]);
        let mean: f64 = fit.strengths.iter().map(|s| s.strength).sum::<f64>() / 6.0;
        assert!(mean.abs() < 1e-12);
        // The default small alpha barely moves estimates with this much data.
        let reg = super::fit(&w, 0, &BtOptions::default()).unwrap();
        for (a, b) in reg.strengths.iter().zip(&fit.strengths) {
            assert!((a.strength - b.strength).abs() < 1e-3);
        }
    }

    #[test]
    fn stationary_point_of_choix_objective() {
        // The gradient of −ℓ + alpha·Σθ² vanishes at the estimate (alpha large so the penalty matters).
        let w = vec![vec![0, 7, 3], vec![2, 0, 5], vec![1, 4, 0]];
        let alpha = 0.7;
        let f = fit(
            &w,
            0,
            &BtOptions {
                alpha,
                ..BtOptions::default()
            },
        )
        .unwrap();
        let theta: Vec<f64> = f.strengths.iter().map(|s| s.strength).collect();
        let wf: Vec<f64> = w.iter().flatten().map(|&x| x as f64).collect();
        let (g, _) = gradient_hessian(&wf, 3, &theta, alpha);
        assert!(g.iter().all(|x| x.abs() < 1e-9), "{g:?}");
        // ... and not the one of −ℓ + alpha/2·Σθ².
        let (g2, _) = gradient_hessian(&wf, 3, &theta, alpha / 2.0);
        assert!(g2.iter().any(|x| x.abs() > 1e-3));
    }

    #[test]
    fn never_winning_player_stays_finite() {
        // Player 2 loses every decisive item.
        let w = vec![vec![0, 30, 12], vec![25, 0, 9], vec![0, 0, 0]];
        let f = fit(&w, 40, &BtOptions::default()).unwrap();
        assert!(f.converged);
        let s = &f.strengths[2];
        assert!(s.strength.is_finite() && s.se.is_finite());
        assert!(s.strength < -3.0, "{}", s.strength);
        assert_eq!((s.wins, s.losses, s.rank), (0, 21, 3));
        assert_eq!((f.ties, f.comparisons), (40, 76));
        // Without regularisation the MLE does not exist: an error, not a divergence.
        let e = fit(
            &w,
            0,
            &BtOptions {
                alpha: 0.0,
                ..BtOptions::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("alpha > 0"), "{e}");
    }

    #[test]
    fn two_players_closed_form() {
        // With alpha = 0: θ1 − θ0 = ln(w10/w01), var(θ1 − θ0) = 1/(n p q) and se_i = se_diff / 2.
        let w = vec![vec![0, 30], vec![70, 0]];
        let f = fit(
            &w,
            0,
            &BtOptions {
                alpha: 0.0,
                ..BtOptions::default()
            },
        )
        .unwrap();
        let d = f.strengths[1].strength - f.strengths[0].strength;
        assert!((d - (70.0f64 / 30.0).ln()).abs() < 1e-10);
        let se_diff = (1.0f64 / (100.0 * 0.7 * 0.3)).sqrt();
        assert!((f.strengths[0].se - se_diff / 2.0).abs() < 1e-10);
        assert!(
            (win_probability(f.strengths[1].strength, f.strengths[0].strength) - 0.7).abs() < 1e-10
        );
        let ll = 70.0 * 0.7f64.ln() + 30.0 * 0.3f64.ln();
        assert!((f.log_likelihood - ll).abs() < 1e-9);
    }

    #[test]
    fn wins_from_correctness_by_hand() {
        // Items:      0      1      2      3
        let runs = vec![
            vec![true, true, false, false],  // A
            vec![true, false, true, false],  // B
            vec![false, false, false, true], // C
        ];
        // A-B: item1 A wins, item2 B wins, items 0,3 tie.
        // A-C: items 0,1 A wins, item3 C wins, item2 tie.
        // B-C: items 0,2 B wins, item3 C wins, item1 tie.
        let (w, ties) = wins_from_correctness(&runs);
        assert_eq!(w, vec![vec![0, 1, 2], vec![1, 0, 2], vec![1, 1, 0]]);
        assert_eq!(ties, 4);
    }

    #[test]
    fn win_probability_values() {
        assert_eq!(win_probability(0.3, 0.3), 0.5);
        assert!((win_probability(1.0, 0.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
        assert!(win_probability(-800.0, 800.0) >= 0.0);
        assert_eq!(win_probability(800.0, -800.0), 1.0);
    }

    #[test]
    fn errors_not_panics() {
        let o = BtOptions::default();
        assert!(fit(&[], 0, &o).unwrap_err().contains("at least 2"));
        assert!(fit(&[vec![0]], 0, &o).unwrap_err().contains("at least 2"));
        assert!(fit(&[vec![0, 1], vec![1]], 0, &o)
            .unwrap_err()
            .contains("square"));
        assert!(fit(&[vec![1, 1], vec![1, 0]], 0, &o)
            .unwrap_err()
            .contains("diagonal"));
        assert!(fit(&[vec![0, 0], vec![0, 0]], 9, &o)
            .unwrap_err()
            .contains("No decisive"));
        let w = vec![vec![0, 1], vec![1, 0]];
        for bad in [
            BtOptions { alpha: -1.0, ..o },
            BtOptions {
                alpha: f64::NAN,
                ..o
            },
            BtOptions {
                tolerance: 0.0,
                ..o
            },
            BtOptions {
                max_iterations: 0,
                ..o
            },
        ] {
            assert!(fit(&w, 0, &bad).is_err());
        }
        let (w, t) = wins_from_correctness(&[]);
        assert!(w.is_empty() && t == 0);
        // Unequal lengths: only the common items count.
        let (w, t) = wins_from_correctness(&[vec![true, true], vec![false]]);
        assert_eq!((w, t), (vec![vec![0, 1], vec![0, 0]], 0));
    }
}
