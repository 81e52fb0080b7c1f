#!/usr/bin/env python3
"""Reference numbers for Bedside's statistics, computed with SciPy, statsmodels and NumPy.

Writes crates/bench/tests/fixtures/stats_reference.json, which crates/bench/tests/stats_reference.rs
checks the Rust implementations against. Inputs are generated here with a fixed NumPy seed and stored in
the fixture next to the expected outputs, so the Rust test needs no Python.

    pip install numpy scipy statsmodels pandas
    python3 scripts/reference_stats.py

Independent implementations used:
- normal quantile, log-gamma, binomial CDF, chi-square tail: scipy.stats / scipy.special
- Wilson interval: statsmodels.stats.proportion.proportion_confint(method="wilson")
- percentile bootstrap and paired bootstrap: scipy.stats.bootstrap(method="percentile")
  (Monte Carlo: compared with a stated tolerance, not digit for digit)
- chance baseline: scipy.stats.poisson_binom (mixed option counts) and scipy.stats.binom (equal counts)
- exact McNemar: statsmodels.stats.contingency_tables.mcnemar(exact=True)
- ECE, adaptive ECE, Brier, reliability bins: written here in NumPy from the definitions
  (np.digitize on np.linspace edges; np.array_split for equal-mass bins)
- per-subject breakdown: pandas groupby + statsmodels Wilson
"""
import json
import os

import numpy as np
import pandas as pd
import scipy
import scipy.special as sp
import scipy.stats as st
import statsmodels
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

rng = np.random.default_rng(20261129)
out = {"generated_by": "scripts/reference_stats.py",
       "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__}}

# --- special functions -------------------------------------------------------------------------
out["normal_quantile"] = [{"p": p, "q": float(st.norm.ppf(p))} for p in [1e-6, 0.001, 0.01, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.995, 0.999999]]
out["ln_gamma"] = [{"x": x, "y": float(sp.gammaln(x))} for x in [0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 10.0, 57.3, 1000.0, 12345.6]]
out["binom_cdf"] = [{"k": k, "n": n, "p": p, "cdf": float(st.binom.cdf(k, n, p))}
                    for (k, n, p) in [(0, 1, 0.5), (3, 10, 0.5), (7, 20, 0.3), (40, 100, 0.5), (250, 1000, 0.25), (5, 60, 0.5), (99, 100, 0.9)]]
out["chi2_sf"] = [{"x": x, "df": df, "sf": float(st.chi2.sf(x, df))}
                  for (x, df) in [(0.5, 1), (3.84, 1), (7.8, 3), (2.0, 3), (30.0, 3), (120.0, 3), (15.0, 9), (0.01, 4), (50.0, 20)]]

# --- Wilson ------------------------------------------------------------------------------------
wilson = []
for (k, n, level) in [(0, 10, 0.95), (10, 10, 0.95), (7, 10, 0.95), (55, 100, 0.95), (130, 200, 0.9), (812, 1273, 0.95), (1, 3, 0.99), (400, 4183, 0.95)]:
    lo, hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
    wilson.append({"k": k, "n": n, "level": level, "low": float(lo), "high": float(hi)})
out["wilson"] = wilson

# --- bootstrap ---------------------------------------------------------------------------------
boot = []
for n, p in [(200, 0.62), (60, 0.3), (1000, 0.45)]:
    x = (rng.random(n) < p).astype(int)
    res = st.bootstrap((x,), np.mean, n_resamples=10000, confidence_level=0.95, method="percentile", random_state=1)
    boot.append({"correct": x.tolist(), "level": 0.95, "low": float(res.confidence_interval.low), "high": float(res.confidence_interval.high)})
out["bootstrap"] = boot

# --- chance baseline ---------------------------------------------------------------------------
chance = []
for counts, observed in [
    ([4] * 100, 33),
    ([4] * 100, 25),
    (rng.integers(3, 11, size=150).tolist(), 30),   # MMLU-Pro-like 3..10 options
    ([2, 3, 4, 5] * 30, 45),
    ([3] * 500, 180),
]:
    ps = np.array([1.0 / k for k in counts])
    n = len(counts)
    ks = np.arange(n + 1)
    if len(set(counts)) == 1:
        pmf = st.binom.pmf(ks, n, ps[0])
    else:
        pmf = st.poisson_binom.pmf(ks, ps)  # pmf(k, p) form: the frozen ppf does not take 150 parameters
    cdf = np.cumsum(pmf)
    ppf = lambda q: int(np.argmax(cdf >= q - 1e-12))  # smallest k with CDF(k) >= q
    chance.append({
        "option_counts": [int(c) for c in counts], "observed": observed, "level": 0.95,
        "expected": float(ps.mean()),
        "low": ppf(0.025) / n, "high": ppf(0.975) / n,
        "p_value": float(pmf[observed:].sum()),
    })
out["chance"] = chance

# --- calibration, Brier, reliability -----------------------------------------------------------
def ece_equal_width(conf, correct, bins):
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)  # (e_b, e_b+1]
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total), idx

def ece_adaptive(conf, correct, bins):
    order = np.argsort(conf, kind="stable")
    total = 0.0
    for part in np.array_split(order, bins):
        if len(part):
            total += len(part) / len(conf) * abs(correct[part].mean() - conf[part].mean())
    return float(total)

calib = []
for n, k, sharp in [(300, 4, 2.0), (120, 5, 0.5), (50, 3, 5.0), (7, 4, 1.0)]:
    probs = rng.dirichlet(np.full(k, 1.0 / sharp), size=n)
    gold = np.array([rng.choice(k, p=0.5 * p + 0.5 / k) for p in probs])
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = (pred == gold).astype(float)
    ece15, idx = ece_equal_width(conf, correct, 15)
    ece10, _ = ece_equal_width(conf, correct, 10)
    onehot = np.eye(k)[gold]
    bins = []
    for b in range(15):
        m = idx == b
        c = int(m.sum())
        bins.append({"count": c,
                     "mean_confidence": float(conf[m].mean()) if c else None,
                     "accuracy": float(correct[m].mean()) if c else None})
    calib.append({
        "probs": probs.tolist(), "gold": gold.tolist(),
        "ece_15": ece15, "ece_10": ece10,
        "adaptive_ece_15": ece_adaptive(conf, correct, 15), "adaptive_ece_5": ece_adaptive(conf, correct, 5),
        "brier": float(((probs - onehot) ** 2).sum(axis=1).mean()),
        "reliability_15": bins,
    })
out["calibration"] = calib

# --- per-subject -------------------------------------------------------------------------------
subjects = rng.choice(["anatomy", "cardiology", "pharmacology", None], size=240, p=[0.3, 0.3, 0.3, 0.1])
correct = rng.random(240) < np.where(subjects == "anatomy", 0.7, 0.45)
df = pd.DataFrame({"subject": [s if s is not None else "(no subject)" for s in subjects], "correct": correct.astype(int)})
rows = []
for s, g in df.groupby("subject", sort=True):
    k, n = int(g.correct.sum()), len(g)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    rows.append({"subject": s, "items": n, "correct": k, "accuracy": k / n, "low": float(lo), "high": float(hi)})
out["subjects"] = {"subjects": [None if s is None else str(s) for s in subjects], "correct": correct.tolist(), "expected": rows}

# --- McNemar -----------------------------------------------------------------------------------
mc = []
for (both, a_only, b_only, neither) in [(50, 10, 3, 37), (40, 0, 0, 60), (10, 12, 12, 6), (100, 25, 45, 30), (5, 1, 0, 2), (300, 60, 95, 45)]:
    a = [True] * both + [True] * a_only + [False] * b_only + [False] * neither
    b = [True] * both + [False] * a_only + [True] * b_only + [False] * neither
    res = mcnemar([[both, a_only], [b_only, neither]], exact=True)
    mc.append({"a": a, "b": b, "a_only": a_only, "b_only": b_only, "p_value": float(res.pvalue)})
out["mcnemar"] = mc

# --- paired bootstrap --------------------------------------------------------------------------
pb = []
for n, pa, pb_ in [(200, 0.6, 0.5), (500, 0.4, 0.42)]:
    base = rng.random(n)
    a = (base < pa).astype(int)
    b = np.where(rng.random(n) < 0.7, a, (rng.random(n) < pb_).astype(int))
    res = st.bootstrap((a, b), lambda x, y: x.mean() - y.mean(), paired=True, vectorized=False,
                       n_resamples=10000, confidence_level=0.95, method="percentile", random_state=2)
    pb.append({"a": a.astype(bool).tolist(), "b": b.astype(bool).tolist(), "level": 0.95,
               "low": float(res.confidence_interval.low), "high": float(res.confidence_interval.high)})
out["paired_bootstrap"] = pb

path = os.path.join(os.path.dirname(__file__), "..", "crates", "bench", "tests", "fixtures", "stats_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))
