//! Item response theory (IRT) over a runs × questions correctness matrix.
//!
//! # Why
//! Overall accuracy treats every question as equally informative. IRT separates *how hard* a question
//! is from *how well it tells strong runs from weak ones*, and puts runs on one ability scale. The
//! motivation is MedIRT (“Beyond Overall Accuracy: A Psychometric Deep Dive into the Topic-Specific
//! Medical Capabilities of 80 Large Language Models”, arXiv, 2025), which fits IRT models to medical
//! benchmark answers of many language models. Here the respondents are evaluation runs (rows) and the
//! items are benchmark questions (columns).
//!
//! # Model
//! Two-parameter logistic model (2PL; Birnbaum, 1968, in Lord & Novick, “Statistical Theories of
//! Mental Test Scores”, Addison-Wesley): run `i` answers question `j` correctly with probability
//! `P = 1 / (1 + exp(-a_j (θ_i - b_j)))` ([`probability`]), where `θ_i` is the run's ability, `b_j` the
//! question's difficulty and `a_j` its discrimination. The Rasch model (Rasch, 1960, “Probabilistic
//! Models for Some Intelligence and Attainment Tests”, Danish Institute for Educational Research)
//! fixes every `a_j = 1`. Abilities are random: `θ ~ N(0, 1)`, which also fixes the scale (in the
//! Rasch model this means the spread of abilities is *not* estimated: difficulties are in units of
//! that fixed N(0, 1) scale).
//!
//! # Estimator
//! Marginal maximum likelihood by EM (Bock & Aitkin, 1981, “Marginal maximum likelihood estimation of
//! item parameters: application of an EM algorithm”, Psychometrika 46:443–459). θ is integrated out on
//! a fixed grid of [`IrtOptions::quadrature_points`] (default 61) *equally spaced* points on [-6, 6]
//! whose weights are the N(0, 1) density at the points, normalised to sum to 1 (a rectangle rule, not
//! Gauss–Hermite; the same grid as mirt's default for one dimension). E-step: each run's posterior over
//! the grid, giving expected counts `n_jq` (answers) and `r_jq` (correct answers) of question `j` at
//! grid point `q`. M-step: per question, Newton–Raphson on `(a, b)` (2PL) or `b` (Rasch) maximising
//! `Σ_q r log P + (n − r) log(1 − P)` plus the log priors, with step halving (and Fisher scoring where
//! the Hessian is not negative definite). In `(a, b)` that objective can have a second mode with the
//! other sign of `a` (typically for a question nearly every run gets right: `a > 0, b ≪ 0` against
//! `a < 0, b ≫ 0`), so when the slope of a logistic fit to the expected counts has the other sign than
//! the current `a`, Newton is also started from that fit and the better of the two kept. EM is
//! accelerated with SQUAREM (Varadhan & Roland, 2008, “Simple and globally convergent methods for
//! accelerating the convergence of any EM algorithm”, Scandinavian Journal of Statistics 35:335–353),
//! with a fallback to the plain EM step whenever the extrapolated point is worse, so the penalised
//! marginal log-likelihood never decreases. Missing answers (`None`) are skipped in the likelihood
//! (ignorable missingness). Iterations stop when an EM cycle changes no parameter by more than
//! [`IrtOptions::tolerance`] (default 1e-4), or after [`IrtOptions::max_iterations`] (default 500) EM
//! cycles ([`IrtWarning::NotConverged`]); [`IrtFit::iterations`] counts EM cycles, extrapolated ones
//! included. Against a direct optimisation of the same objective (scripts/reference_irt.py) the default
//! tolerance gives parameters within ~3e-4, a tolerance of 1e-9 within ~1e-9. Everything runs in a
//! fixed order, so the fit is deterministic: the same input gives the same output on a platform
//! (across platforms the last bits can differ, as `exp`/`ln` come from the platform's maths library).
//! 40 runs × 1000 questions take about 0.1–0.2 s natively (27 EM cycles).
//!
//! # Priors (`priors: true`, the default)
//! With a handful of runs the unpenalised 2PL is ill-posed (a question that splits the runs perfectly
//! has an infinite discrimination). As in BILOG (Mislevy, 1986, “Bayes modal estimation in item
//! response models”, Psychometrika 51:177–195) and mirt, the estimate is then Bayes modal within MML:
//! the marginal log-likelihood plus `log N(a; 1, 1)` and `log N(b; 0, 2²)` per question. The
//! discrimination prior is normal, *not* lognormal, so a negative discrimination stays possible: it is
//! the signal this module exists to report. Without priors the parameters are only kept inside
//! `|a| ≤ 20`, `|b| ≤ 30` so that a perfectly separating question cannot run off to infinity.
//!
//! # Fallback
//! With `model: None` (automatic) the 2PL is fitted from [`MIN_RESPONDENTS_2PL`] runs on; below that the
//! Rasch model is fitted and [`IrtWarning::TooFewFor2pl`] says so: discriminations from fewer runs are
//! mostly prior.
//!
//! # Questions left out
//! A question that every run answered correctly, or every run answered wrongly (among the runs that
//! answered it), or that fewer than two runs answered, says nothing about differences between runs and
//! has no finite maximum-likelihood difficulty; it is left out of the fit ([`IrtFit::left_out`],
//! [`IrtWarning::ItemsLeftOut`]).
//!
//! # Standard errors
//! Item standard errors come from the observed information of the (penalised) *marginal*
//! log-likelihood, computed analytically with Louis' identity (Louis, 1982, “Finding the observed
//! information matrix when using the EM algorithm”, JRSS B 44:226–233): per question, the 2×2 (Rasch:
//! 1×1) block `Σ_i (E_i[∂² log f_ij] + E_i[s_ij s_ijᵀ] − E_i[s_ij] E_i[s_ij]ᵀ)` over each run's
//! posterior on the grid, plus the prior curvature; this is exactly the item's diagonal block of the
//! marginal Hessian (checked against finite differences in the reference script). Limitation: only
//! that block is inverted. The cross-question terms (questions are coupled through the shared
//! abilities, e.g. a common shift of all difficulties) are ignored, which makes the standard errors
//! too small: in the reference cases the full inverse gives difficulty SEs larger by 2–10% on average
//! (up to 18%) and discrimination SEs by 1–2% (up to 4%). The full inverse needs
//! O(runs × questions² × grid) time, too much for 1000+ questions.
//!
//! Abilities are EAP estimates: the posterior mean of θ over the grid given the fitted questions, with
//! the posterior standard deviation as standard error (it includes the N(0, 1) prior's shrinkage and
//! ignores the uncertainty of the item parameters). With many questions a run's posterior is narrower
//! than the grid spacing (0.2 at 61 points), so abilities and their SDs are then coarse.
//!
//! # Negative-discrimination flag
//! [`ItemParams::negative_discrimination`] is set when `a < 0` *and* its 95% Wald interval
//! `a ± 1.96·SE` excludes 0: stronger runs are reliably *more* likely to get the question wrong, which
//! usually means a wrong answer key or an ambiguous question. Under the N(1, 1) prior the estimate is
//! shrunk towards +1, so the flag is conservative; it is never set by the Rasch model.

use serde::Serialize;

/// Which item model to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IrtModel {
    /// Two-parameter logistic: difficulty and discrimination per question.
    #[serde(rename = "2pl")]
    TwoPl,
    /// Rasch / one-parameter logistic with every discrimination fixed at 1.
    #[serde(rename = "rasch")]
    Rasch,
}

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct IrtOptions {
    /// `None` = automatic: 2PL from [`MIN_RESPONDENTS_2PL`] runs on, Rasch below.
    pub model: Option<IrtModel>,
    /// Add the weak priors a ~ N(1, 1), b ~ N(0, 2²) (Bayes modal estimation). Default true.
    pub priors: bool,
    /// Most EM cycles. Default 500.
    pub max_iterations: usize,
    /// Stop when no parameter changed by more than this between two EM cycles. Default 1e-4.
    pub tolerance: f64,
    /// Number of equally spaced quadrature points on [-6, 6] (5..=401). Default 61.
    pub quadrature_points: usize,
}

impl Default for IrtOptions {
    fn default() -> Self {
        IrtOptions {
            model: None,
            priors: true,
            max_iterations: 500,
            tolerance: 1e-4,
            quadrature_points: DEFAULT_QUADRATURE_POINTS,
        }
    }
}

/// The automatic choice fits the 2PL from this many runs on and the Rasch model below.
pub const MIN_RESPONDENTS_2PL: usize = 10;
/// Default number of quadrature points.
pub const DEFAULT_QUADRATURE_POINTS: usize = 61;
/// The quadrature grid spans [-GRID_HALF_WIDTH, GRID_HALF_WIDTH].
pub const GRID_HALF_WIDTH: f64 = 6.0;
/// Bound on |discrimination| (only reachable without priors).
pub const MAX_ABS_DISCRIMINATION: f64 = 20.0;
/// Bound on |difficulty| (only reachable without priors).
pub const MAX_ABS_DIFFICULTY: f64 = 30.0;
/// Prior standard deviation of the difficulty.
const PRIOR_B_SD: f64 = 2.0;
/// Two-sided 95% normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// Something the reader of a fit should know.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IrtWarning {
    /// The automatic choice fell back to the Rasch model.
    TooFewFor2pl { respondents: usize, needed: usize },
    /// EM stopped at `max_iterations` before the tolerance was met.
    NotConverged { iterations: usize },
    /// Questions that carry no information were left out.
    ItemsLeftOut {
        all_right: usize,
        all_wrong: usize,
        too_few_answers: usize,
    },
}

impl IrtWarning {
    /// A plain-English sentence.
    pub fn message(&self) -> String {
        match self {
            IrtWarning::TooFewFor2pl {
                respondents,
                needed,
            } => format!(
                "Only {respondents} runs: estimating each question's discrimination needs at least \
                 {needed}, so the Rasch model (every discrimination fixed at 1) was fitted instead."
            ),
            IrtWarning::NotConverged { iterations } => format!(
                "The estimation had not converged after {iterations} iterations; treat the item \
                 parameters and abilities as approximate."
            ),
            IrtWarning::ItemsLeftOut {
                all_right,
                all_wrong,
                too_few_answers,
            } => format!(
                "{} questions were left out because they cannot tell runs apart: {all_right} answered \
                 correctly by every run, {all_wrong} answered wrongly by every run, and \
                 {too_few_answers} answered by fewer than two runs.",
                all_right + all_wrong + too_few_answers
            ),
        }
    }
}

/// Estimated parameters of one question.
#[derive(Debug, Clone, Serialize)]
pub struct ItemParams {
    /// Column index in the input matrix.
    pub item: usize,
    /// Runs that answered it (non-missing).
    pub answers: usize,
    /// Share of those answers that were correct.
    pub proportion_correct: f64,
    pub difficulty: f64,
    /// NaN (null in JSON) where the information block is not positive definite.
    pub difficulty_se: f64,
    /// 1 in the Rasch model.
    pub discrimination: f64,
    /// 0 in the Rasch model (fixed); NaN (null in JSON) where the information block is not positive
    /// definite.
    pub discrimination_se: f64,
    /// `discrimination < 0` and `discrimination + 1.96 · discrimination_se < 0`.
    pub negative_discrimination: bool,
}

/// EAP ability of one run (a run with no answer to any used question gets the prior: θ = 0, SE ≈ 1).
#[derive(Debug, Clone, Serialize)]
pub struct Ability {
    /// Posterior mean of θ.
    pub theta: f64,
    /// Posterior standard deviation of θ.
    pub se: f64,
}

/// Result of [`fit`].
#[derive(Debug, Clone, Serialize)]
pub struct IrtFit {
    pub model: IrtModel,
    pub priors: bool,
    pub respondents: usize,
    pub items_used: usize,
    /// Estimable questions, in column order.
    pub items: Vec<ItemParams>,
    /// Column indices left out (not estimable), ascending.
    pub left_out: Vec<usize>,
    /// One per input row.
    pub abilities: Vec<Ability>,
    /// Marginal log-likelihood of the used questions' answers at the estimates (no prior terms).
    pub log_likelihood: f64,
    /// Sum of the log prior densities `log N(a; 1, 1) + log N(b; 0, 4)` (only `b` in the Rasch model)
    /// at the estimates, normalising constants included; 0 without priors. The estimates maximise
    /// `log_likelihood + log_prior`.
    pub log_prior: f64,
    /// EM cycles run.
    pub iterations: usize,
    pub converged: bool,
    pub warnings: Vec<IrtWarning>,
}

/// Probability of a correct answer: `1 / (1 + exp(-a (θ - b)))`, computed without overflow.
pub fn probability(theta: f64, discrimination: f64, difficulty: f64) -> f64 {
    let z = discrimination * (theta - difficulty);
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `(log P, log(1 - P), P)` for `P = 1 / (1 + exp(-z))`, one `exp` and one `ln_1p`.
#[inline]
fn log_sigmoid_parts(z: f64) -> (f64, f64, f64) {
    let t = (-z.abs()).exp();
    let l = t.ln_1p();
    if z >= 0.0 {
        (-l, -z - l, 1.0 / (1.0 + t))
    } else {
        (z - l, -l, t / (1.0 + t))
    }
}

struct Grid {
    theta: Vec<f64>,
    log_w: Vec<f64>,
}

impl Grid {
    fn new(points: usize) -> Grid {
        let step = 2.0 * GRID_HALF_WIDTH / (points - 1) as f64;
        let theta: Vec<f64> = (0..points)
            .map(|q| -GRID_HALF_WIDTH + step * q as f64)
            .collect();
        let dens: Vec<f64> = theta.iter().map(|t| (-0.5 * t * t).exp()).collect();
        let total: f64 = dens.iter().sum();
        let log_w = dens.iter().map(|d| (d / total).ln()).collect();
        Grid { theta, log_w }
    }
}

/// Compressed lists of indices (one list per run or per question).
struct Lists {
    ptr: Vec<usize>,
    ent: Vec<u32>,
}

impl Lists {
    fn build<I: IntoIterator<Item = u32>>(lists: impl Iterator<Item = I>) -> Lists {
        let mut ptr = vec![0];
        let mut ent = Vec::new();
        for l in lists {
            ent.extend(l);
            ptr.push(ent.len());
        }
        Lists { ptr, ent }
    }
    fn get(&self, i: usize) -> &[u32] {
        &self.ent[self.ptr[i]..self.ptr[i + 1]]
    }
}

/// Responses to the used questions (indices `k` into the used questions, `i` into the runs).
struct Data {
    respondents: usize,
    /// Per run: questions answered correctly / not answered.
    row_right: Lists,
    row_missing: Lists,
    /// Per question: runs that answered it correctly / wrongly / not at all.
    col_right: Lists,
    col_wrong: Lists,
    col_missing: Lists,
}

/// Gradient and Hessian of one question's M-step objective in (a, b) order; for the Rasch model only
/// the b entries are used.
struct ItemEval {
    g: [f64; 2],
    /// Exact Hessian entries.
    haa: f64,
    hab: f64,
    hbb: f64,
    /// The Fisher-scoring cross term (expected Hessian), negative semi-definite with `haa`, `hbb`.
    hab_fisher: f64,
}

#[derive(Clone, Copy)]
struct Spec {
    two_pl: bool,
    priors: bool,
}

fn prior_kernel(spec: Spec, a: f64, b: f64) -> f64 {
    if !spec.priors {
        return 0.0;
    }
    let pb = -b * b / (2.0 * PRIOR_B_SD * PRIOR_B_SD);
    if spec.two_pl {
        pb - 0.5 * (a - 1.0) * (a - 1.0)
    } else {
        pb
    }
}

fn log_prior_density(spec: Spec, a: f64, b: f64) -> f64 {
    if !spec.priors {
        return 0.0;
    }
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let pb = -0.5 * ln_2pi - PRIOR_B_SD.ln() - b * b / (2.0 * PRIOR_B_SD * PRIOR_B_SD);
    if spec.two_pl {
        pb - 0.5 * ln_2pi - 0.5 * (a - 1.0) * (a - 1.0)
    } else {
        pb
    }
}

/// One question's M-step objective `Σ_q r log P + (n − r) log(1 − P)` plus the log prior kernels.
fn item_objective(spec: Spec, theta: &[f64], n: &[f64], r: &[f64], a: f64, b: f64) -> f64 {
    let mut f = prior_kernel(spec, a, b);
    for q in 0..theta.len() {
        let (lp, lq, _) = log_sigmoid_parts(a * (theta[q] - b));
        f += r[q] * lp + (n[q] - r[q]) * lq;
    }
    f
}

/// Gradient and Hessian of [`item_objective`] (exact and Fisher-scoring cross term).
fn item_derivatives(spec: Spec, theta: &[f64], n: &[f64], r: &[f64], a: f64, b: f64) -> ItemEval {
    let (mut se, mut sed, mut sw, mut swd, mut swdd) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for q in 0..theta.len() {
        let d = theta[q] - b;
        let p = probability(theta[q], a, b);
        let (nq, rq) = (n[q], r[q]);
        let e = rq - nq * p;
        let w = nq * p * (1.0 - p);
        se += e;
        sed += e * d;
        sw += w;
        swd += w * d;
        swdd += w * d * d;
    }
    let mut ev = ItemEval {
        g: [sed, -a * se],
        haa: -swdd,
        hab: a * swd - se,
        hbb: -a * a * sw,
        hab_fisher: a * swd,
    };
    if spec.priors {
        ev.g[0] -= a - 1.0;
        ev.g[1] -= b / (PRIOR_B_SD * PRIOR_B_SD);
        ev.haa -= 1.0;
        ev.hbb -= 1.0 / (PRIOR_B_SD * PRIOR_B_SD);
    }
    ev
}

fn clamp_a(a: f64) -> f64 {
    a.clamp(-MAX_ABS_DISCRIMINATION, MAX_ABS_DISCRIMINATION)
}

fn clamp_b(b: f64) -> f64 {
    b.clamp(-MAX_ABS_DIFFICULTY, MAX_ABS_DIFFICULTY)
}

/// M-step for one question: maximise its expected complete-data log-posterior. Newton from the current
/// values; for the 2PL also from the (concave) slope-intercept logistic fit to the expected counts when
/// that has the other sign of discrimination, keeping the better one. In (a, b) the objective can have
/// a second mode with a small discrimination of the wrong sign and an extreme difficulty, which a warm
/// start alone would not leave.
fn m_step_item(spec: Spec, theta: &[f64], n: &[f64], r: &[f64], a0: f64, b0: f64) -> (f64, f64) {
    let (a1, b1) = newton_item(spec, theta, n, r, a0, b0);
    if spec.two_pl {
        // The logistic fit's slope has the sign of the profile score at a = 0 (the profile
        // log-likelihood is concave in a), so the fit itself is only needed when that sign differs.
        let (nt, rt): (f64, f64) = (n.iter().sum(), r.iter().sum());
        let pbar = rt / nt;
        let score: f64 = (0..theta.len())
            .map(|q| (r[q] - n[q] * pbar) * theta[q])
            .sum();
        if score != 0.0 && (score < 0.0) != (a1 < 0.0) {
            if let Some((a2, b2)) = logistic_start(theta, n, r) {
                let (a2, b2) = newton_item(spec, theta, n, r, a2, b2);
                if item_objective(spec, theta, n, r, a2, b2)
                    > item_objective(spec, theta, n, r, a1, b1)
                {
                    return (a2, b2);
                }
            }
        }
    }
    (a1, b1)
}

/// Weighted logistic regression of the expected counts on θ in slope-intercept form `aθ + c`
/// (concave; a 1e-6 ridge keeps it finite), returned as `(a, b = −c/a)`, or None when `a ≈ 0`.
fn logistic_start(theta: &[f64], n: &[f64], r: &[f64]) -> Option<(f64, f64)> {
    const RIDGE: f64 = 1e-6;
    let (nt, rt): (f64, f64) = (n.iter().sum(), r.iter().sum());
    let pbar = (rt / nt).clamp(1e-6, 1.0 - 1e-6);
    let (mut a, mut c) = (0.0, (pbar / (1.0 - pbar)).ln());
    let objective = |a: f64, c: f64| -> f64 {
        let mut f = -0.5 * RIDGE * (a * a + c * c);
        for q in 0..theta.len() {
            let (lp, lq, _) = log_sigmoid_parts(a * theta[q] + c);
            f += r[q] * lp + (n[q] - r[q]) * lq;
        }
        f
    };
    let mut cur = objective(a, c);
    for _ in 0..30 {
        let (mut ga, mut gc, mut haa, mut hac, mut hcc) =
            (-RIDGE * a, -RIDGE * c, RIDGE, 0.0, RIDGE);
        for q in 0..theta.len() {
            let (_, _, p) = log_sigmoid_parts(a * theta[q] + c);
            let e = r[q] - n[q] * p;
            let w = n[q] * p * (1.0 - p);
            ga += e * theta[q];
            gc += e;
            haa += w * theta[q] * theta[q];
            hac += w * theta[q];
            hcc += w;
        }
        let det = haa * hcc - hac * hac;
        if det <= 0.0 {
            break;
        }
        let (da, dc) = ((hcc * ga - hac * gc) / det, (haa * gc - hac * ga) / det);
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..30 {
            let (na, nc) = (a + t * da, c + t * dc);
            let f = objective(na, nc);
            if f >= cur {
                a = na;
                c = nc;
                cur = f;
                moved = true;
                break;
            }
            t *= 0.5;
        }
        if !moved || (t * da).abs().max((t * dc).abs()) < 1e-8 {
            break;
        }
    }
    if a.abs() < 1e-3 {
        return None;
    }
    Some((clamp_a(a), clamp_b(-c / a)))
}

/// Newton–Raphson with step halving on one question's M-step objective from (a0, b0). Near the optimum
/// (exact Hessian negative definite, step ≤ 0.05) Newton steps are taken without evaluating the
/// objective; after an exact step below 1e-6 the next one would be below ~1e-12, so it stops there.
fn newton_item(spec: Spec, theta: &[f64], n: &[f64], r: &[f64], a0: f64, b0: f64) -> (f64, f64) {
    const MAX_NEWTON: usize = 50;
    const MAX_STEP: f64 = 2.0;
    const TRUST: f64 = 0.05;
    let (mut a, mut b) = (a0, b0);
    let mut f_cur: Option<f64> = None;
    for _ in 0..MAX_NEWTON {
        let d = item_derivatives(spec, theta, n, r, a, b);
        let (da, db, exact) = if spec.two_pl {
            let (mut haa, mut hbb, mut hab) = (d.haa, d.hbb, d.hab);
            let exact = haa < 0.0 && haa * hbb - hab * hab > 0.0;
            if !exact {
                hab = d.hab_fisher;
            }
            let mut det = haa * hbb - hab * hab;
            if !(haa < 0.0 && hbb < 0.0 && det > 1e-12 * (haa * hbb).abs()) {
                // Singular (e.g. a = 0 without priors): ridge towards gradient ascent.
                let ridge = 1e-6 + 1e-3 * (haa.abs() + hbb.abs());
                haa = haa.min(0.0) - ridge;
                hbb = hbb.min(0.0) - ridge;
                det = haa * hbb - hab * hab;
                if det <= 0.0 {
                    hab = 0.0;
                    det = haa * hbb;
                }
            }
            (
                -(hbb * d.g[0] - hab * d.g[1]) / det,
                -(haa * d.g[1] - hab * d.g[0]) / det,
                exact,
            )
        } else {
            (0.0, -d.g[1] / d.hbb, true)
        };
        let big = da.abs().max(db.abs());
        if !big.is_finite() || big < 1e-12 {
            break;
        }
        let scale = if big > MAX_STEP { MAX_STEP / big } else { 1.0 };
        let (da, db) = (da * scale, db * scale);
        let (na, nb) = if exact && big <= TRUST {
            f_cur = None;
            (clamp_a(a + da), clamp_b(b + db))
        } else {
            let f0 = *f_cur.get_or_insert_with(|| item_objective(spec, theta, n, r, a, b));
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let na = clamp_a(a + t * da);
                let nb = clamp_b(b + t * db);
                let f = item_objective(spec, theta, n, r, na, nb);
                if f >= f0 - 1e-13 * (1.0 + f0.abs()) {
                    accepted = Some((na, nb, f));
                    break;
                }
                t *= 0.5;
            }
            let Some((na, nb, f)) = accepted else { break };
            f_cur = Some(f);
            (na, nb)
        };
        let moved = (na - a).abs().max((nb - b).abs());
        a = na;
        b = nb;
        if moved < 1e-12 || (exact && moved < 1e-6) {
            break;
        }
    }
    (a, b)
}

/// Workspace for the E-step.
struct EStep {
    /// Per used question and grid point: log(1 − P).
    lq: Vec<f64>,
    /// Per grid point: log weight plus Σ over all used questions of log(1 − P).
    base: Vec<f64>,
    /// Per run and grid point: posterior.
    post: Vec<f64>,
    /// Per grid point: Σ over runs of the posterior.
    post_total: Vec<f64>,
    /// Per used question and grid point: expected answers and correct answers.
    n: Vec<f64>,
    r: Vec<f64>,
    log_likelihood: f64,
}

impl EStep {
    fn new(respondents: usize, items: usize, nq: usize) -> EStep {
        EStep {
            lq: vec![0.0; items * nq],
            base: vec![0.0; nq],
            post: vec![0.0; respondents * nq],
            post_total: vec![0.0; nq],
            n: vec![0.0; items * nq],
            r: vec![0.0; items * nq],
            log_likelihood: 0.0,
        }
    }

    /// Posterior of every run on the grid and the expected counts, at (a, b).
    ///
    /// Uses `log P = log(1 − P) + a(θ − b)`: a run's log-likelihood at grid point q is
    /// `Σ_answered log(1 − P_kq) + θ_q Σ_right a_k − Σ_right a_k b_k`, so only the questions a run did
    /// *not* answer need a pass over the grid (the sum over all questions is shared).
    fn run(&mut self, data: &Data, grid: &Grid, a: &[f64], b: &[f64]) {
        let nq = grid.theta.len();
        self.base.copy_from_slice(&grid.log_w);
        for k in 0..a.len() {
            let lq = &mut self.lq[k * nq..(k + 1) * nq];
            for (l, t) in lq.iter_mut().zip(&grid.theta) {
                *l = log_sigmoid_parts(a[k] * (t - b[k])).1;
            }
            for (s, v) in self.base.iter_mut().zip(lq.iter()) {
                *s += v;
            }
        }
        let mut ll = 0.0;
        self.post_total.fill(0.0);
        for i in 0..data.respondents {
            let acc = &mut self.post[i * nq..(i + 1) * nq];
            acc.copy_from_slice(&self.base);
            for &k in data.row_missing.get(i) {
                let k = k as usize;
                for (s, v) in acc.iter_mut().zip(&self.lq[k * nq..(k + 1) * nq]) {
                    *s -= v;
                }
            }
            let (mut slope, mut offset) = (0.0, 0.0);
            for &k in data.row_right.get(i) {
                slope += a[k as usize];
                offset += a[k as usize] * b[k as usize];
            }
            for (s, t) in acc.iter_mut().zip(&grid.theta) {
                *s += slope * t - offset;
            }
            let m = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut total = 0.0;
            for s in acc.iter_mut() {
                *s = (*s - m).exp();
                total += *s;
            }
            for (s, t) in acc.iter_mut().zip(self.post_total.iter_mut()) {
                *s /= total;
                *t += *s;
            }
            ll += m + total.ln();
        }
        self.log_likelihood = ll;
        for k in 0..a.len() {
            let n = &mut self.n[k * nq..(k + 1) * nq];
            let r = &mut self.r[k * nq..(k + 1) * nq];
            r.fill(0.0);
            for &i in data.col_right.get(k) {
                let p = &self.post[i as usize * nq..(i as usize + 1) * nq];
                for (s, v) in r.iter_mut().zip(p) {
                    *s += v;
                }
            }
            let (wrong, missing) = (data.col_wrong.get(k), data.col_missing.get(k));
            if missing.len() < wrong.len() {
                // n = everything − missing.
                n.copy_from_slice(&self.post_total);
                for &i in missing {
                    let p = &self.post[i as usize * nq..(i as usize + 1) * nq];
                    for (s, v) in n.iter_mut().zip(p) {
                        *s -= v;
                    }
                }
            } else {
                // n = right + wrong.
                n.copy_from_slice(r);
                for &i in wrong {
                    let p = &self.post[i as usize * nq..(i as usize + 1) * nq];
                    for (s, v) in n.iter_mut().zip(p) {
                        *s += v;
                    }
                }
            }
            for (s, v) in n.iter_mut().zip(r.iter()) {
                *s = s.max(*v);
            }
        }
    }
}

/// One EM cycle from `x = (a, b)`: returns the new parameters, the penalised marginal log-likelihood
/// (up to the priors' constants) *at `x`*, and the largest parameter change.
fn em_cycle(
    es: &mut EStep,
    data: &Data,
    grid: &Grid,
    spec: Spec,
    x: &(Vec<f64>, Vec<f64>),
) -> ((Vec<f64>, Vec<f64>), f64, f64) {
    let (a, b) = x;
    let nq = grid.theta.len();
    es.run(data, grid, a, b);
    let objective = es.log_likelihood
        + (0..a.len())
            .map(|k| prior_kernel(spec, a[k], b[k]))
            .sum::<f64>();
    let mut change: f64 = 0.0;
    let (mut na, mut nb) = (a.clone(), b.clone());
    for k in 0..a.len() {
        let n = &es.n[k * nq..(k + 1) * nq];
        let r = &es.r[k * nq..(k + 1) * nq];
        let (ak, bk) = m_step_item(spec, &grid.theta, n, r, a[k], b[k]);
        change = change.max((ak - a[k]).abs()).max((bk - b[k]).abs());
        na[k] = ak;
        nb[k] = bk;
    }
    ((na, nb), objective, change)
}

/// Inverse of the negative of a symmetric 2×2 matrix `[[haa, hab], [hab, hbb]]` → diagonal (var a,
/// var b), or None when `-H` is not positive definite.
fn inverse_information_diag(haa: f64, hab: f64, hbb: f64) -> Option<(f64, f64)> {
    let (iaa, iab, ibb) = (-haa, -hab, -hbb);
    let det = iaa * ibb - iab * iab;
    if iaa > 0.0 && ibb > 0.0 && det > 0.0 && det.is_finite() {
        Some((ibb / det, iaa / det))
    } else {
        None
    }
}

/// Fit a 2PL or Rasch model to `matrix` (rows = runs, columns = questions, `None` = not answered).
pub fn fit(matrix: &[Vec<Option<bool>>], opts: &IrtOptions) -> Result<IrtFit, String> {
    let respondents = matrix.len();
    if respondents < 2 {
        return Err(format!(
            "Item response theory needs at least 2 runs (rows); got {respondents}."
        ));
    }
    let columns = matrix[0].len();
    if let Some((i, row)) = matrix.iter().enumerate().find(|(_, r)| r.len() != columns) {
        return Err(format!(
            "Every run must have an entry for every question: row {i} has {} entries but row 0 has \
             {columns}.",
            row.len()
        ));
    }
    if columns == 0 {
        return Err("The matrix has no questions (columns).".to_string());
    }
    if !(opts.tolerance.is_finite() && opts.tolerance > 0.0) {
        return Err(format!(
            "The convergence tolerance must be a positive number; got {}.",
            opts.tolerance
        ));
    }
    if opts.max_iterations == 0 {
        return Err("max_iterations must be at least 1.".to_string());
    }
    if !(5..=401).contains(&opts.quadrature_points) {
        return Err(format!(
            "quadrature_points must be between 5 and 401; got {}.",
            opts.quadrature_points
        ));
    }

    let mut warnings = Vec::new();
    let model = match opts.model {
        Some(m) => m,
        None if respondents >= MIN_RESPONDENTS_2PL => IrtModel::TwoPl,
        None => {
            warnings.push(IrtWarning::TooFewFor2pl {
                respondents,
                needed: MIN_RESPONDENTS_2PL,
            });
            IrtModel::Rasch
        }
    };
    let spec = Spec {
        two_pl: model == IrtModel::TwoPl,
        priors: opts.priors,
    };

    // Which questions are estimable.
    let (mut all_right, mut all_wrong, mut too_few) = (0usize, 0usize, 0usize);
    let mut used = Vec::new();
    let mut left_out = Vec::new();
    let mut counts = Vec::new();
    for j in 0..columns {
        let (mut answered, mut right) = (0usize, 0usize);
        for row in matrix {
            if let Some(x) = row[j] {
                answered += 1;
                right += x as usize;
            }
        }
        if answered < 2 {
            too_few += 1;
            left_out.push(j);
        } else if right == answered {
            all_right += 1;
            left_out.push(j);
        } else if right == 0 {
            all_wrong += 1;
            left_out.push(j);
        } else {
            used.push(j);
            counts.push((answered, right));
        }
    }
    if !left_out.is_empty() {
        warnings.push(IrtWarning::ItemsLeftOut {
            all_right,
            all_wrong,
            too_few_answers: too_few,
        });
    }
    if used.is_empty() {
        return Err(format!(
            "No question can be used: each of the {columns} questions was answered correctly by \
             every run, wrongly by every run, or by fewer than two runs."
        ));
    }

    // Compressed layout.
    let items = used.len();
    let pick = |row: &Vec<Option<bool>>, want: Option<bool>| -> Vec<u32> {
        (0..items)
            .filter(|&k| row[used[k]] == want)
            .map(|k| k as u32)
            .collect()
    };
    let column = |k: usize, want: Option<bool>| -> Vec<u32> {
        (0..respondents)
            .filter(|&i| matrix[i][used[k]] == want)
            .map(|i| i as u32)
            .collect()
    };
    let data = Data {
        respondents,
        row_right: Lists::build(matrix.iter().map(|r| pick(r, Some(true)))),
        row_missing: Lists::build(matrix.iter().map(|r| pick(r, None))),
        col_right: Lists::build((0..items).map(|k| column(k, Some(true)))),
        col_wrong: Lists::build((0..items).map(|k| column(k, Some(false)))),
        col_missing: Lists::build((0..items).map(|k| column(k, None))),
    };
    let grid = Grid::new(opts.quadrature_points);
    let nq = grid.theta.len();

    // Start: a = 1, b from the proportion correct (logit(p) ≈ −0.85·b for θ ~ N(0,1), a = 1).
    let a = vec![1.0; items];
    let b: Vec<f64> = counts
        .iter()
        .map(|&(n, r)| {
            let n = n as f64;
            let p = (r as f64).clamp(0.5, n - 0.5) / n;
            (-(p / (1.0 - p)).ln() / 0.85).clamp(-4.0, 4.0)
        })
        .collect();

    let mut es = EStep::new(respondents, items, nq);
    let mut iterations = 0;
    let mut converged = false;
    // SQUAREM (Varadhan & Roland, 2008): two EM cycles x0 → x1 → x2, an extrapolated point x', and an
    // EM cycle from x'. x' is kept only if its objective is at least that of x1 (otherwise x2, the
    // plain EM point, is used), so the penalised marginal log-likelihood never decreases.
    let mut x = (a, b);
    'outer: while iterations < opts.max_iterations {
        let (x1, _, change) = em_cycle(&mut es, &data, &grid, spec, &x);
        iterations += 1;
        if change < opts.tolerance {
            x = x1;
            converged = true;
            break;
        }
        if iterations >= opts.max_iterations {
            x = x1;
            break;
        }
        let (x2, obj1, change) = em_cycle(&mut es, &data, &grid, spec, &x1);
        iterations += 1;
        if change < opts.tolerance {
            x = x2;
            converged = true;
            break;
        }
        let (mut rr, mut vv) = (0.0, 0.0);
        for k in 0..items {
            for (p0, p1, p2) in [(x.0[k], x1.0[k], x2.0[k]), (x.1[k], x1.1[k], x2.1[k])] {
                let r = p1 - p0;
                let v = p2 - 2.0 * p1 + p0;
                rr += r * r;
                vv += v * v;
            }
        }
        if vv.is_nan() || vv <= 0.0 || iterations >= opts.max_iterations {
            x = x2;
            continue;
        }
        let alpha = (-(rr / vv).sqrt()).min(-1.0);
        let extrapolate = |p0: &[f64], p1: &[f64], p2: &[f64], clamp: fn(f64) -> f64| -> Vec<f64> {
            (0..items)
                .map(|k| {
                    let r = p1[k] - p0[k];
                    let v = p2[k] - 2.0 * p1[k] + p0[k];
                    clamp(p0[k] - 2.0 * alpha * r + alpha * alpha * v)
                })
                .collect()
        };
        let xp = (
            extrapolate(&x.0, &x1.0, &x2.0, clamp_a),
            extrapolate(&x.1, &x1.1, &x2.1, clamp_b),
        );
        let (xn, objp, change) = em_cycle(&mut es, &data, &grid, spec, &xp);
        iterations += 1;
        if objp >= obj1 && objp.is_finite() {
            x = xn;
            if change < opts.tolerance {
                converged = true;
                break 'outer;
            }
        } else {
            x = x2;
        }
    }
    let (a, b) = x;
    if !converged {
        warnings.push(IrtWarning::NotConverged { iterations });
    }

    // Final E-step at the estimates: log-likelihood, abilities, standard errors.
    es.run(&data, &grid, &a, &b);
    let abilities = (0..respondents)
        .map(|i| {
            let p = &es.post[i * nq..(i + 1) * nq];
            let mean: f64 = p.iter().zip(&grid.theta).map(|(w, t)| w * t).sum();
            let var: f64 = p
                .iter()
                .zip(&grid.theta)
                .map(|(w, t)| w * (t - mean) * (t - mean))
                .sum();
            Ability {
                theta: mean,
                se: var.max(0.0).sqrt(),
            }
        })
        .collect();

    let mut params = Vec::with_capacity(items);
    let mut p_grid = vec![0.0; nq];
    let mut log_prior = 0.0;
    for k in 0..items {
        let n = &es.n[k * nq..(k + 1) * nq];
        let r = &es.r[k * nq..(k + 1) * nq];
        let (ak, bk) = (a[k], b[k]);
        log_prior += log_prior_density(spec, ak, bk);
        // Louis: H = E[complete Hessian] + E[s sᵀ] − Σ_i E_i[s] E_i[s]ᵀ (+ prior, inside item_derivatives).
        let ev = item_derivatives(spec, &grid.theta, n, r, ak, bk);
        let (mut haa, mut hab, mut hbb) = (ev.haa, ev.hab, ev.hbb);
        for q in 0..nq {
            let d = grid.theta[q] - bk;
            let p = probability(grid.theta[q], ak, bk);
            p_grid[q] = p;
            let ss = r[q] * (1.0 - p) * (1.0 - p) + (n[q] - r[q]) * p * p;
            haa += ss * d * d;
            hab += ss * d * (-ak);
            hbb += ss * ak * ak;
        }
        let answered = data
            .col_right
            .get(k)
            .iter()
            .map(|&i| (i, 1.0))
            .chain(data.col_wrong.get(k).iter().map(|&i| (i, 0.0)));
        for (i, y) in answered {
            let post = &es.post[i as usize * nq..(i as usize + 1) * nq];
            let (mut ma, mut mb) = (0.0, 0.0);
            for q in 0..nq {
                let e = post[q] * (y - p_grid[q]);
                ma += e * (grid.theta[q] - bk);
                mb += e;
            }
            mb *= -ak;
            haa -= ma * ma;
            hab -= ma * mb;
            hbb -= mb * mb;
        }
        let (discrimination_se, difficulty_se) = if spec.two_pl {
            match inverse_information_diag(haa, hab, hbb) {
                Some((va, vb)) => (va.sqrt(), vb.sqrt()),
                None => (f64::NAN, f64::NAN),
            }
        } else if hbb < 0.0 {
            (0.0, (-1.0 / hbb).sqrt())
        } else {
            (0.0, f64::NAN)
        };
        let (answers, right) = counts[k];
        params.push(ItemParams {
            item: used[k],
            answers,
            proportion_correct: right as f64 / answers as f64,
            difficulty: bk,
            difficulty_se,
            discrimination: ak,
            discrimination_se,
            negative_discrimination: spec.two_pl && ak < 0.0 && ak + Z95 * discrimination_se < 0.0,
        });
    }

    Ok(IrtFit {
        model,
        priors: opts.priors,
        respondents,
        items_used: items,
        items: params,
        left_out,
        abilities,
        log_likelihood: es.log_likelihood,
        log_prior,
        iterations,
        converged,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::rng::Rng;

    fn normal(rng: &mut Rng) -> f64 {
        // Box–Muller; 1 − unit() is in (0, 1].
        let u1 = 1.0 - rng.unit();
        let u2 = rng.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn corr(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let mx = x.iter().sum::<f64>() / n;
        let my = y.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in x.iter().zip(y) {
            sxy += (a - mx) * (b - my);
            sxx += (a - mx) * (a - mx);
            syy += (b - my) * (b - my);
        }
        sxy / (sxx * syy).sqrt()
    }

    fn mae(x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| (a - b).abs()).sum::<f64>() / x.len() as f64
    }

    struct Sim {
        theta: Vec<f64>,
        a: Vec<f64>,
        b: Vec<f64>,
        matrix: Vec<Vec<Option<bool>>>,
    }

    fn simulate(seed: u64, runs: usize, a: Vec<f64>, b: Vec<f64>, missing: f64) -> Sim {
        let mut rng = Rng::new(seed);
        let theta: Vec<f64> = (0..runs).map(|_| normal(&mut rng)).collect();
        let matrix = theta
            .iter()
            .map(|&t| {
                a.iter()
                    .zip(&b)
                    .map(|(&aj, &bj)| {
                        let x = rng.unit() < probability(t, aj, bj);
                        if rng.unit() < missing {
                            None
                        } else {
                            Some(x)
                        }
                    })
                    .collect()
            })
            .collect();
        Sim {
            theta,
            a,
            b,
            matrix,
        }
    }

    /// 2PL items: a ~ U(0.5, 2.0), b ~ N(0, 1), followed by `negative` items with a = −1.
    fn two_pl_items(seed: u64, items: usize, negative: usize) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let mut a: Vec<f64> = (0..items).map(|_| 0.5 + 1.5 * rng.unit()).collect();
        let mut b: Vec<f64> = (0..items).map(|_| normal(&mut rng)).collect();
        for _ in 0..negative {
            a.push(-1.0);
            b.push(0.5 * normal(&mut rng));
        }
        (a, b)
    }

    /// True and estimated parameters of the used items.
    fn pairs(sim: &Sim, fit: &IrtFit) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut out = (vec![], vec![], vec![], vec![]);
        for it in &fit.items {
            out.0.push(sim.a[it.item]);
            out.1.push(it.discrimination);
            out.2.push(sim.b[it.item]);
            out.3.push(it.difficulty);
        }
        out
    }

    #[test]
    fn probability_values() {
        assert!((probability(0.0, 1.0, 0.0) - 0.5).abs() < 1e-15);
        assert!((probability(1.0, 2.0, 0.5) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
        assert!((probability(0.0, -1.0, 1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
        assert!(probability(-1000.0, 1.0, 0.0) >= 0.0 && probability(-1000.0, 1.0, 0.0) < 1e-300);
        assert_eq!(probability(1000.0, 1.0, 0.0), 1.0);
    }

    struct Recovery {
        corr_a: f64,
        corr_b: f64,
        corr_theta: f64,
        mae_a: f64,
        mae_b: f64,
        /// Share of items whose true a / b lies within estimate ± 1.96 SE.
        coverage_a: f64,
        coverage_b: f64,
        /// Flagged among the 6 items with a = −1, and among the positive ones.
        flagged_negative: usize,
        flagged_positive: usize,
    }

    /// `runs` runs, `items` items with a ~ U(0.5, 2), b ~ N(0, 1), plus 6 items with a = −1.
    fn two_pl_recovery(seed: u64, runs: usize, items: usize) -> Recovery {
        let (a, b) = two_pl_items(seed, items, 6);
        let sim = simulate(seed + 1, runs, a, b, 0.0);
        let fit = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        assert_eq!(fit.model, IrtModel::TwoPl);
        assert!(fit.converged, "{:?}", fit.warnings);
        for it in &fit.items {
            assert!(it.difficulty_se.is_finite() && it.difficulty_se > 0.0);
            assert!(it.discrimination_se.is_finite() && it.discrimination_se > 0.0);
        }
        for ab in &fit.abilities {
            assert!(ab.se > 0.0 && ab.se < 0.5, "{ab:?}");
        }
        let (ta, ea, tb, eb) = pairs(&sim, &fit);
        let est_theta: Vec<f64> = fit.abilities.iter().map(|x| x.theta).collect();
        let coverage = |f: &dyn Fn(&ItemParams) -> (f64, f64, f64)| {
            let inside = fit.items.iter().filter(|&it| {
                let (truth, est, se) = f(it);
                (truth - est).abs() <= Z95 * se
            });
            inside.count() as f64 / fit.items.len() as f64
        };
        let flagged = |negative: bool| {
            let f = fit.items.iter().filter(|x| x.negative_discrimination);
            f.filter(|x| (x.item >= items) == negative).count()
        };
        let r = Recovery {
            corr_a: corr(&ta, &ea),
            corr_b: corr(&tb, &eb),
            corr_theta: corr(&sim.theta, &est_theta),
            mae_a: mae(&ta, &ea),
            mae_b: mae(&tb, &eb),
            coverage_a: coverage(&|it| (sim.a[it.item], it.discrimination, it.discrimination_se)),
            coverage_b: coverage(&|it| (sim.b[it.item], it.difficulty, it.difficulty_se)),
            flagged_negative: flagged(true),
            flagged_positive: flagged(false),
        };
        eprintln!(
            "2PL {runs}x{}: corr a {:.3} b {:.3} theta {:.3}; MAE a {:.3} b {:.3}; coverage a {:.3} \
             b {:.3}; flagged {}/6 negative, {} positive; {} EM cycles",
            items + 6,
            r.corr_a,
            r.corr_b,
            r.corr_theta,
            r.mae_a,
            r.mae_b,
            r.coverage_a,
            r.coverage_b,
            r.flagged_negative,
            r.flagged_positive,
            fit.iterations
        );
        r
    }

    /// 40 runs × 406 items (measured: corr a 0.73, b 0.92, θ 0.99; MAE a 0.33, b 0.37; coverage a
    /// 0.92, b 0.96; 3 of 6 negatives flagged, no positive one).
    #[test]
    fn two_pl_recovery_40_runs() {
        let r = two_pl_recovery(11, 40, 400);
        // With 40 runs a question's b has SE ≈ 0.3–0.7 (larger for small a), so the correlation the
        // SEs imply is ≈ 0.91; a has SE ≈ 0.3–0.5 against a spread of 0.43 and is shrunk to 1.
        assert!(r.corr_b > 0.88, "corr b {}", r.corr_b);
        assert!(r.corr_a > 0.6, "corr a {}", r.corr_a);
        assert!(r.corr_theta > 0.95, "corr theta {}", r.corr_theta);
        assert!(r.mae_b < 0.45, "MAE b {}", r.mae_b);
        assert!(r.mae_a < 0.4, "MAE a {}", r.mae_a);
        // The SEs are honest: 95% intervals cover the truth for at least 90% (b) / 85% (a; the prior
        // biases a towards 1, which the SE does not include) of the questions.
        assert!(r.coverage_b > 0.9, "coverage b {}", r.coverage_b);
        assert!(r.coverage_a > 0.85, "coverage a {}", r.coverage_a);
        // a = −1 against SEs ≈ 0.3–0.4 and the prior's pull to +1: power is only about one half.
        // False flags: at most 1% of the 400 positive questions.
        assert!(r.flagged_negative >= 3, "{}", r.flagged_negative);
        assert!(r.flagged_positive <= 4, "{}", r.flagged_positive);
    }

    /// 200 runs × 206 items: sharper, and every negative question flagged.
    #[test]
    fn two_pl_recovery_200_runs() {
        let r = two_pl_recovery(13, 200, 200);
        // Measured: corr a 0.92, b 0.97, θ 0.99; MAE a 0.20, b 0.21 (b of a = 0.5 questions has SE
        // ≈ 0.3 even at 200 runs); coverage a 0.91, b 0.96; 6 of 6 flagged, no positive one.
        assert!(r.corr_b > 0.95, "corr b {}", r.corr_b);
        assert!(r.corr_a > 0.85, "corr a {}", r.corr_a);
        assert!(r.corr_theta > 0.95, "corr theta {}", r.corr_theta);
        assert!(r.mae_b < 0.3, "MAE b {}", r.mae_b);
        assert!(r.mae_a < 0.2, "MAE a {}", r.mae_a);
        assert!(r.coverage_b > 0.9, "coverage b {}", r.coverage_b);
        assert!(r.coverage_a > 0.85, "coverage a {}", r.coverage_a);
        assert_eq!(r.flagged_negative, 6);
        assert!(r.flagged_positive <= 2, "{}", r.flagged_positive);
    }

    #[test]
    #[ignore = "timing; run with --release -- --ignored --nocapture"]
    fn timing_40x1000() {
        let (a, b) = two_pl_items(81, 1000, 0);
        let sim = simulate(82, 40, a, b, 0.0);
        let t = std::time::Instant::now();
        let f = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        eprintln!(
            "40x1000: {:?}, {} iterations, converged {}",
            t.elapsed(),
            f.iterations,
            f.converged
        );
    }

    #[test]
    fn rasch_recovery() {
        let mut rng = Rng::new(21);
        let b: Vec<f64> = (0..200).map(|_| normal(&mut rng)).collect();
        let sim = simulate(22, 30, vec![1.0; 200], b, 0.0);
        let opts = IrtOptions {
            model: Some(IrtModel::Rasch),
            ..IrtOptions::default()
        };
        let fit = fit(&sim.matrix, &opts).unwrap();
        assert_eq!(fit.model, IrtModel::Rasch);
        let (_, ea, tb, eb) = pairs(&sim, &fit);
        assert!(ea.iter().all(|&a| a == 1.0));
        assert!(fit.items.iter().all(|x| x.discrimination_se == 0.0));
        let est_theta: Vec<f64> = fit.abilities.iter().map(|x| x.theta).collect();
        let (cb, ct, mb) = (corr(&tb, &eb), corr(&sim.theta, &est_theta), mae(&tb, &eb));
        eprintln!("Rasch 30x200: corr b {cb:.3} theta {ct:.3}; MAE b {mb:.3}");
        // Measured 0.91 / 0.98 / 0.32: with 30 runs b has SE ≈ 0.4, implying corr ≈ 0.92.
        assert!(cb > 0.88, "corr b {cb}");
        assert!(ct > 0.95, "corr theta {ct}");
        assert!(mb < 0.4, "MAE b {mb}");
        assert!(!fit.items.iter().any(|x| x.negative_discrimination));
    }

    #[test]
    fn auto_falls_back_to_rasch_with_few_runs() {
        let (a, b) = two_pl_items(31, 50, 0);
        let sim = simulate(32, 6, a, b, 0.0);
        let fit = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        assert_eq!(fit.model, IrtModel::Rasch);
        assert!(fit.warnings.contains(&IrtWarning::TooFewFor2pl {
            respondents: 6,
            needed: MIN_RESPONDENTS_2PL
        }));
        assert!(fit.warnings[0].message().contains("Rasch"));
        // Explicit 2PL is honoured without the warning.
        let opts = IrtOptions {
            model: Some(IrtModel::TwoPl),
            ..IrtOptions::default()
        };
        let fit2 = super::fit(&sim.matrix, &opts).unwrap();
        assert_eq!(fit2.model, IrtModel::TwoPl);
        assert!(!fit2
            .warnings
            .iter()
            .any(|w| matches!(w, IrtWarning::TooFewFor2pl { .. })));
        // Ten runs: 2PL automatically.
        let sim10 = simulate(33, 10, sim.a.clone(), sim.b.clone(), 0.0);
        assert_eq!(
            super::fit(&sim10.matrix, &IrtOptions::default())
                .unwrap()
                .model,
            IrtModel::TwoPl
        );
    }

    #[test]
    fn missing_responses() {
        let (a, b) = two_pl_items(41, 300, 0);
        let sim = simulate(42, 40, a, b, 0.2);
        let fit = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        let (_, _, tb, eb) = pairs(&sim, &fit);
        let est_theta: Vec<f64> = fit.abilities.iter().map(|x| x.theta).collect();
        let (cb, ct) = (corr(&tb, &eb), corr(&sim.theta, &est_theta));
        eprintln!("2PL 40x300, 20% missing: corr b {cb:.3} theta {ct:.3}");
        // Measured 0.89 / 0.98 (about 32 answers per question).
        assert!(cb > 0.85 && ct > 0.95, "corr b {cb}, theta {ct}");
        // Missing is not wrong: an extra all-missing column and an extra run with no answers change
        // nothing for the other items (the empty run gets the prior: θ = 0, SE ≈ 1).
        let mut m2 = sim.matrix.clone();
        for row in &mut m2 {
            row.push(None);
        }
        m2.push(vec![None; 301]);
        let fit2 = super::fit(&m2, &IrtOptions::default()).unwrap();
        assert_eq!(fit2.left_out.last(), Some(&300));
        assert_eq!(fit.items.len(), fit2.items.len());
        for (x, y) in fit.items.iter().zip(&fit2.items) {
            assert!((x.difficulty - y.difficulty).abs() < 1e-12);
            assert!((x.discrimination - y.discrimination).abs() < 1e-12);
        }
        let empty = fit2.abilities.last().unwrap();
        assert!(empty.theta.abs() < 1e-9 && (empty.se - 1.0).abs() < 1e-3);
        // Replacing missing answers by wrong ones does change the fit.
        let m3: Vec<Vec<Option<bool>>> = sim
            .matrix
            .iter()
            .map(|r| r.iter().map(|x| Some(x.unwrap_or(false))).collect())
            .collect();
        let fit3 = super::fit(&m3, &IrtOptions::default()).unwrap();
        let shift: f64 = fit3.items.iter().map(|x| x.difficulty).sum::<f64>()
            - fit.items.iter().map(|x| x.difficulty).sum::<f64>();
        assert!(shift > 10.0, "{shift}");
    }

    #[test]
    fn left_out_items_counted() {
        let b: Vec<f64> = (0..30).map(|j| -0.5 + j as f64 / 29.0).collect();
        let mut sim = simulate(52, 12, vec![1.5; 30], b, 0.0);
        for (i, row) in sim.matrix.iter_mut().enumerate() {
            row[3] = Some(true);
            row[7] = Some(false);
            row[9] = if i == 0 { Some(true) } else { None };
            row[10] = None;
        }
        let fit = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        assert_eq!(fit.left_out, vec![3, 7, 9, 10]);
        assert_eq!(fit.items_used, 26);
        assert!(fit.items.iter().all(|x| ![3, 7, 9, 10].contains(&x.item)));
        let w = IrtWarning::ItemsLeftOut {
            all_right: 1,
            all_wrong: 1,
            too_few_answers: 2,
        };
        assert!(fit.warnings.contains(&w));
        assert!(w.message().starts_with("4 questions"));
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"kind": "items_left_out", "all_right": 1, "all_wrong": 1, "too_few_answers": 2})
        );
        assert_eq!(
            serde_json::to_value(fit.model).unwrap(),
            serde_json::json!("2pl")
        );
    }

    #[test]
    fn not_converged_warning_and_determinism() {
        let (a, b) = two_pl_items(61, 40, 2);
        let sim = simulate(62, 15, a, b, 0.1);
        let opts = IrtOptions {
            max_iterations: 2,
            ..IrtOptions::default()
        };
        let f = fit(&sim.matrix, &opts).unwrap();
        assert!(!f.converged);
        assert!(f
            .warnings
            .contains(&IrtWarning::NotConverged { iterations: 2 }));
        let x = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        let y = fit(&sim.matrix, &IrtOptions::default()).unwrap();
        assert_eq!(
            serde_json::to_string(&x).unwrap(),
            serde_json::to_string(&y).unwrap()
        );
    }

    #[test]
    fn no_priors_stays_finite() {
        // 10 runs, no priors: perfectly separating items would diverge; the bounds keep it finite.
        let (a, b) = two_pl_items(71, 40, 0);
        let sim = simulate(72, 10, a, b, 0.0);
        let opts = IrtOptions {
            priors: false,
            model: Some(IrtModel::TwoPl),
            ..IrtOptions::default()
        };
        let f = fit(&sim.matrix, &opts).unwrap();
        assert_eq!(f.log_prior, 0.0);
        assert!(f.log_likelihood.is_finite());
        for it in &f.items {
            assert!(it.discrimination.abs() <= MAX_ABS_DISCRIMINATION);
            assert!(it.difficulty.abs() <= MAX_ABS_DIFFICULTY);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let o = IrtOptions::default();
        assert!(fit(&[], &o).unwrap_err().contains("at least 2 runs"));
        assert!(fit(&[vec![Some(true), Some(false)]], &o).is_err());
        let ragged = vec![vec![Some(true), Some(false)], vec![Some(true)]];
        assert!(fit(&ragged, &o).unwrap_err().contains("row 1"));
        let useless = vec![vec![Some(true), Some(false), None]; 5];
        assert!(fit(&useless, &o).unwrap_err().contains("No question"));
        let no_columns: Vec<Vec<Option<bool>>> = vec![vec![]; 3];
        assert!(fit(&no_columns, &o).is_err());
        let good = vec![vec![Some(true), Some(false)], vec![Some(false), Some(true)]];
        for bad in [
            IrtOptions {
                tolerance: 0.0,
                ..IrtOptions::default()
            },
            IrtOptions {
                tolerance: f64::NAN,
                ..IrtOptions::default()
            },
            IrtOptions {
                max_iterations: 0,
                ..IrtOptions::default()
            },
            IrtOptions {
                quadrature_points: 2,
                ..IrtOptions::default()
            },
        ] {
            assert!(fit(&good, &bad).is_err());
        }
        assert!(fit(&good, &o).is_ok());
    }
}
